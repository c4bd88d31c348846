import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config.ts';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createWebhookLoop, type WebhookLoop } from '../../src/delivery/webhook-loop.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { tokenWith, webhookIntegration, newEvent } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * Control takes effect at once, in a running worker (here in the same
 * process, on either database): once _stop, an edit or a delete has
 * answered, no attempt starts with the old state. A slow receiver keeps
 * requests on the wire, so that a loop still working from its old view
 * would show.
 */

const database = useTestDatabase();
const receiver = new Receiver();
let app: TestApp;
let token: string;
let loop: WebhookLoop | undefined;
const PER_INTEGRATION = 8;
const config = loadConfig({
  ALLOW_PRIVATE_TARGETS: 'true',
  WEBHOOK_TIMEOUT_MS: '3000',
  DELIVERY_CONCURRENCY_PER_INTEGRATION: String(PER_INTEGRATION),
});

beforeAll(async () => {
  app = createTestApp(database());
  token = await tokenWith(database().db, 'view_tools');
  receiver.respond = async () => {
    await Bun.sleep(30);
    return new Response('ok');
  };
});
afterEach(async () => {
  await loop?.stop(5_000);
  loop = undefined;
  receiver.received.length = 0;
  await database().db.deleteFrom('integrations').execute();
  await database().db.deleteFrom('events').execute();
});
afterAll(() => receiver.stop());

async function backlog(count: number) {
  const writer = createIngestWriter(database().db, 'default');
  const publishedAt = new Date(Date.now() + 500);
  const events = Array.from({ length: count }, () => newEvent('order.created', publishedAt));
  await writer.write(events);
  await Bun.sleep(600); // due
}

async function startLoop() {
  loop = createWebhookLoop({
    db: database().db,
    session: await database().session(),
    secrets: (await import('../helpers/fixtures.ts')).testSecrets,
    config,
    log: silentLogger,
    pollIntervalMs: 100,
  });
  loop.start();
  while (receiver.received.length < 3 * PER_INTEGRATION) await Bun.sleep(10);
}

const api = (method: string, path: string, body?: unknown) =>
  app.request(`/api/v1/org/integrations/eventstream${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('control takes effect at once', () => {
  test('_stop with a backlog: at most the requests on the wire arrive after the answer, and nothing after that', async () => {
    await webhookIntegration(database(), {
      id: 'paused',
      target: { kind: 'webhook', callbackUrl: receiver.url('/paused') },
    });
    await backlog(1_000);
    await startLoop();
    const response = await api('POST', '/paused/_stop', {});
    const answered = receiver.received.length;
    expect(response.status).toBe(200);
    await Bun.sleep(1_000);
    expect(receiver.received.length - answered).toBeLessThanOrEqual(PER_INTEGRATION);
    const arrivedSoonAfter = receiver.received.length;
    await Bun.sleep(1_000);
    expect(receiver.received.length).toBe(arrivedSoonAfter);
    // What was claimed and not sent is handed back: pending, leased by nobody.
    const leased = await database()
      .db.selectFrom('deliveries')
      .select('event_id')
      .where('integration_id', '=', 'paused')
      .where('status', '=', 'pending')
      .where('lease_owner', 'is not', null)
      .execute();
    expect(leased).toEqual([]);
  });

  test('an edit: every attempt that starts after the answer goes to the new URL with the new key', async () => {
    await webhookIntegration(database(), {
      id: 'moving',
      target: { kind: 'webhook', callbackUrl: receiver.url('/old'), apiKey: 'old-key' },
    });
    await backlog(1_000);
    await startLoop();
    const response = await api('PATCH', '/moving', {
      callback_parameters: { callback_url: receiver.url('/new'), api_key: 'new-key' },
    });
    expect(response.status).toBe(200);
    const answered = receiver.received.length;
    while (receiver.received.filter((request) => request.path === '/new').length < 50) await Bun.sleep(10);
    const after = receiver.received.slice(answered);
    // Only requests already on the wire (at most the integration's limit) may still reach the old URL.
    expect(after.filter((request) => request.path === '/old').length).toBeLessThanOrEqual(PER_INTEGRATION);
    const firstNew = after.findIndex((request) => request.path === '/new');
    expect(
      after
        .slice(firstNew)
        .every((request) => request.path === '/new' && request.headers.authorization === 'Bearer new-key'),
    ).toBe(true);
  });

  test('a delete: nothing more is sent for it', async () => {
    await webhookIntegration(database(), {
      id: 'doomed',
      target: { kind: 'webhook', callbackUrl: receiver.url('/doomed') },
    });
    await backlog(1_000);
    await startLoop();
    expect((await api('DELETE', '/doomed')).status).toBe(204);
    const answered = receiver.received.length;
    await Bun.sleep(500);
    expect(receiver.received.length - answered).toBeLessThanOrEqual(PER_INTEGRATION);
    const soonAfter = receiver.received.length;
    await Bun.sleep(1_000);
    expect(receiver.received.length).toBe(soonAfter);
  });
});
