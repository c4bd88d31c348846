import { afterAll, beforeAll, expect, test } from 'bun:test';
import { Webhook } from 'standardwebhooks';
import { signingSecretOf } from '../../src/integrations/integrations.service.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn, testSecrets, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';

const database = useTestDatabase();
const receiver = new Receiver();
let app: TestApp;
let token: string;

beforeAll(async () => {
  app = createTestApp(database(), { env: { ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_TIMEOUT_MS: '1000' } });
  token = await tokenWith(database().db, 'view_tools');
  await webhookIntegration(database(), {
    id: 'erp',
    target: { kind: 'webhook', callbackUrl: receiver.url(), apiKey: 'k-1' },
  });
});
afterAll(() => receiver.stop());

test('POST …/_test sends a signed tideway.test event and answers the outcome; nothing is stored', async () => {
  receiver.respond = () => new Response('pong', { status: 200 });
  const response = await app.request('/api/v1/org/integrations/eventstream/erp/_test', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  const result = (await response.json()) as Record<string, unknown>;
  expect(result).toMatchObject({ ok: true, status_code: 200, response_body: 'pong', error: null });
  expect(String(result.summary)).toStartWith('The callback answered HTTP 200 OK in ');

  const [request] = receiver.received;
  const integration = await database()
    .db.selectFrom('integrations')
    .selectAll()
    .where('id', '=', 'erp')
    .executeTakeFirstOrThrow();
  const event = new Webhook(signingSecretOf(integration, testSecrets)).verify(request!.body, request!.headers) as {
    name: string;
    payload: { integration_id: string };
  };
  expect(event.name).toBe('tideway.test');
  expect(event.payload.integration_id).toBe('erp');
  expect(request!.headers.authorization).toBe('Bearer k-1');
  expect(await database().db.selectFrom('delivery_attempts').select('id').execute()).toEqual([]);
});

test('the UI button shows a failure in words', async () => {
  receiver.respond = () => new Response('who are you', { status: 401 });
  const user = await signedIn(database().db, ['view_tools']);
  const response = await app.request('/tools/event-stream/erp/test', {
    method: 'POST',
    headers: { cookie: user.cookie, 'hx-request': 'true', 'x-csrf-token': user.csrfToken },
  });
  const html = await response.text();
  expect(html).toContain('The callback answered HTTP 401 Unauthorized in');
  expect(html).toContain('a real delivery would be held and the integration stopped.');
  expect(html).toContain('who are you');
});
