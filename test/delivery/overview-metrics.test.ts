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
const ENV = { ALLOW_PRIVATE_TARGETS: 'true' };
let app: TestApp;
let viewer: string;

beforeAll(async () => {
  app = createTestApp(database(), { env: ENV });
  viewer = await tokenWith(database().db, 'view_tools');
  const publisher = await tokenWith(database().db, 'publish_events');
  await webhookIntegration(database(), { id: 'shop-erp', target: { kind: 'webhook', callbackUrl: receiver.url() } });
  const events = Array.from({ length: 12 }, (_, i) => envelope('order.created', { id: `o-${i}`, refuse: i < 3 }));
  await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publisher}` },
    body: JSON.stringify(events),
  });
  receiver.respond = (request) =>
    request.body.includes('"refuse":true') ? new Response('no', { status: 400 }) : new Response('ok');
  const loop = createWebhookLoop({
    db: database().db,
    session: await database().session(),
    secrets: testSecrets,
    config: loadConfig(ENV),
    log: createLogger('error', () => {}),
    now: () => new Date(Date.now() + 1_000),
  });
  await loop.runOnce();
});
afterAll(() => receiver.stop());

test('Overview: per integration the last hour per minute as an SVG chart, the failure rate and the backlog', async () => {
  const { cookie } = await signedIn(database().db, ['view_tools']);
  const html = await (await app.request('/tools/event-stream/overview', { headers: { cookie } })).text();
  expect(html).toContain('aria-label="shop-erp: 9 delivered in the last hour"');
  expect((html.match(/class="bar-ok"/g) ?? []).length).toBe(60);
  expect(html).toContain('<dt>Delivered (1 h)</dt><dd>9</dd>');
  expect(html).toContain('<dt>Failure rate (1 h)</dt><dd>25.0 %</dd>');
  expect(html).toContain('<dt>Backlog</dt><dd>0</dd>');
  const rollup = await database().db.selectFrom('delivery_minutes').selectAll().execute();
  expect(rollup).toMatchObject([{ integration_id: 'shop-erp', delivered: 9, rejected: 3, failed: 0 }]);
});

test('GET /metrics: Prometheus text with per-integration figures, for a view_tools token only', async () => {
  expect((await app.request('/metrics')).status).toBe(401);
  const response = await app.request('/metrics', { headers: { authorization: `Bearer ${viewer}` } });
  expect(response.headers.get('content-type')).toStartWith('text/plain; version=0.0.4');
  const text = await response.text();
  expect(text).toContain('# TYPE tideway_deliveries_delivered_total counter');
  expect(text).toContain('tideway_deliveries_delivered_total{integration="shop-erp"} 9');
  expect(text).toContain('tideway_deliveries_rejected{integration="shop-erp"} 3');
  expect(text).toContain('tideway_backlog{integration="shop-erp"} 0');
  expect(text).toMatch(/tideway_events_ingested_total \d+/);
  expect(text).toMatch(/tideway_webhook_attempt_duration_seconds_count \d+/);
  expect(text).toContain('tideway_webhook_attempt_duration_seconds_bucket{le="+Inf"}');
});
