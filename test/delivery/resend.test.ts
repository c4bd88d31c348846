import { afterAll, beforeAll, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config.ts';
import { createWebhookLoop } from '../../src/delivery/webhook-loop.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, signedIn, testSecrets, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';

const database = useTestDatabase();
const receiver = new Receiver();
const ENV = { ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '1' };
let app: TestApp;
let publisher: string;
let viewer: string;

beforeAll(async () => {
  app = createTestApp(database(), { env: ENV });
  publisher = await tokenWith(database().db, 'publish_events');
  viewer = await tokenWith(database().db, 'view_tools');
  await webhookIntegration(database(), { id: 'erp', target: { kind: 'webhook', callbackUrl: receiver.url() } });
});
afterAll(() => receiver.stop());

/** An event whose delivery has failed for good. */
async function failedEvent() {
  const event = envelope('order.opened');
  await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` },
    body: JSON.stringify(event),
  });
  receiver.respond = () => new Response('down', { status: 503 });
  let clock = Date.now() + 1_000;
  const loop = createWebhookLoop({
    db: database().db,
    session: await database().session(),
    secrets: testSecrets,
    config: loadConfig(ENV),
    log: createLogger('error', () => {}),
    now: () => new Date(clock),
    random: () => 0.5,
  });
  await loop.runOnce();
  clock += 5_000;
  await loop.runOnce();
  const row = await database()
    .db.selectFrom('deliveries')
    .select('status')
    .where('event_id', '=', event.id)
    .executeTakeFirstOrThrow();
  expect(row.status).toBe('failure');
  return event;
}

test('Resend in the UI: after the receiver recovers, the failed delivery turns Success, the attempt recorded as manual', async () => {
  const event = await failedEvent();
  receiver.respond = () => new Response('back', { status: 200 });
  const { cookie, csrfToken } = await signedIn(database().db, ['view_tools']);
  const response = await app.request(`/tools/event-stream/erp/events/${event.id}/resend`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: `_csrf=${csrfToken}`,
  });
  expect(response.status).toBe(303);
  const page = await (await app.request(response.headers.get('location')!, { headers: { cookie } })).text();
  expect(page).toContain('Resent: the receiver accepted it.');
  expect(page).toContain('<span class="badge status-success">Success</span>');
  const attempts = await database()
    .db.selectFrom('delivery_attempts')
    .select(['outcome', 'trigger'])
    .where('event_id', '=', event.id)
    .orderBy('id')
    .execute();
  expect(attempts).toEqual([
    { outcome: 'retry', trigger: 'scheduled' },
    { outcome: 'failure', trigger: 'scheduled' },
    { outcome: 'success', trigger: 'manual' },
  ]);
});

test('the retry API resends one delivery now and answers the outcome; it needs the CSRF token in the UI', async () => {
  const event = await failedEvent();
  const { cookie } = await signedIn(database().db, ['view_tools']);
  const refused = await app.request(`/tools/event-stream/erp/events/${event.id}/resend`, {
    method: 'POST',
    headers: { cookie },
  });
  expect(refused.status).toBe(403);

  receiver.respond = () => new Response('still down', { status: 500 });
  const stillDown = await app.request(`/api/v1/org/integrations/eventstream/erp/published-events/${event.id}/_retry`, {
    method: 'POST',
    headers: { authorization: `Bearer ${viewer}` },
  });
  expect(await stillDown.json()).toMatchObject({
    status: 'failure',
    attempt: { outcome: 'retry', trigger: 'manual', status_code: 500 },
  });
  receiver.respond = () => new Response('ok');
  const ok = await app.request(`/api/v1/org/integrations/eventstream/erp/published-events/${event.id}/_retry`, {
    method: 'POST',
    headers: { authorization: `Bearer ${viewer}` },
  });
  expect(await ok.json()).toMatchObject({ status: 'success', attempt: { outcome: 'success', status_code: 200 } });
  const missing = await app.request(
    '/api/v1/org/integrations/eventstream/erp/published-events/3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f/_retry',
    { method: 'POST', headers: { authorization: `Bearer ${viewer}` } },
  );
  expect(missing.status).toBe(404);
});
