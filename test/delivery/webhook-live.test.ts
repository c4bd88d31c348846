import { afterAll, beforeAll, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config.ts';
import { createWebhookLoop } from '../../src/delivery/webhook-loop.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase, usingPostgres } from '../helpers/database.ts';
import { envelope, testSecrets, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * The loop running as it does in a worker: woken by ingest, sharing work
 * with another worker, stopping cleanly.
 */

const database = useTestDatabase();
const receiver = new Receiver();
let app: TestApp;
let token: string;
const config = loadConfig({ ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_TIMEOUT_MS: '2000' });

async function worker(pollIntervalMs = 60_000) {
  return createWebhookLoop({
    db: database().db,
    session: await database().session(),
    secrets: testSecrets,
    config,
    log: createLogger('error', () => {}),
    // A long poll: only the wake-up can explain a quick delivery.
    pollIntervalMs,
  });
}

beforeAll(async () => {
  app = createTestApp(database());
  token = await tokenWith(database().db, 'publish_events');
});
afterAll(() => receiver.stop());

async function publish(events: ReturnType<typeof envelope>[]) {
  const response = await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(events),
  });
  expect(response.status).toBe(202);
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await Bun.sleep(10);
  }
}

test('ingest wakes a waiting worker: events arrive within moments, not at the next poll', async () => {
  await webhookIntegration(database(), { id: 'live', target: { kind: 'webhook', callbackUrl: receiver.url() } });
  const loop = await worker();
  loop.start();
  await Bun.sleep(300); // the worker is now waiting for a wake-up
  const started = Date.now();
  await publish([envelope('order.created'), envelope('order.opened')]);
  await waitFor(() => receiver.received.length === 2, 5_000);
  expect(Date.now() - started).toBeLessThan(2_000);
  await loop.stop(5_000);
  const pending = await database()
    .db.selectFrom('deliveries')
    .select('status')
    .where('integration_id', '=', 'live')
    .execute();
  expect(pending.every((row) => row.status === 'success')).toBe(true);
  await database().db.deleteFrom('integrations').execute();
});

test('two workers share the work: every event delivered exactly once', async () => {
  receiver.received.length = 0;
  await webhookIntegration(database(), {
    id: 'shared-a',
    target: { kind: 'webhook', callbackUrl: receiver.url('/a') },
  });
  await webhookIntegration(database(), {
    id: 'shared-b',
    target: { kind: 'webhook', callbackUrl: receiver.url('/b') },
  });
  const events = Array.from({ length: usingPostgres ? 1_000 : 300 }, () => envelope('order.completed'));
  for (let i = 0; i < events.length; i += 250) await publish(events.slice(i, i + 250));

  const workers = [await worker(50), await worker(50)];
  for (const loop of workers) loop.start();
  await waitFor(async () => {
    const row = await database()
      .db.selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n) === 0;
  }, 60_000);
  await Promise.all(workers.map((loop) => loop.stop(5_000)));

  const keys = receiver.received.map((request) => `${request.path} ${request.headers['webhook-id']}`);
  expect(keys).toHaveLength(events.length * 2);
  expect(new Set(keys).size).toBe(events.length * 2);
  const attempts = await database()
    .db.selectFrom('delivery_attempts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  expect(Number(attempts.n)).toBe(events.length * 2);
}, 90_000);

test('stopping: no new claims, in-flight requests finish and are recorded, the rest is handed back', async () => {
  await database().db.deleteFrom('integrations').execute();
  receiver.received.length = 0;
  receiver.respond = async () => {
    await Bun.sleep(400);
    return new Response('ok');
  };
  await webhookIntegration(database(), {
    id: 'draining',
    target: { kind: 'webhook', callbackUrl: receiver.url('/drain') },
  });
  await publish(Array.from({ length: 40 }, () => envelope('order.opened')));
  const loop = await worker(50);
  loop.start();
  await waitFor(() => receiver.received.length > 0, 5_000);
  await loop.stop(5_000);

  const rows = await database()
    .db.selectFrom('deliveries')
    .select(['status', 'lease_owner'])
    .where('integration_id', '=', 'draining')
    .execute();
  const sent = receiver.received.length;
  expect(sent).toBeGreaterThan(0);
  expect(sent).toBeLessThan(40);
  // Everything that reached the receiver is recorded as delivered; nothing is left leased.
  expect(rows.filter((row) => row.status === 'success')).toHaveLength(sent);
  expect(rows.filter((row) => row.status === 'pending')).toHaveLength(40 - sent);
  expect(rows.every((row) => row.lease_owner === null)).toBe(true);
}, 30_000);
