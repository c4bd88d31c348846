import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { TEST_SECRET_KEY, tokenWith, webhookIntegration, newEvent } from '../helpers/fixtures.ts';
import { startTideway, stopTideway, type RunningTideway } from '../helpers/process.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * Control across worker processes: two `--role worker` processes deliver a
 * backlog to a slow receiver; the API (here in the test process, on the
 * same PostgreSQL) stops or edits the integration. Once it has answered,
 * only requests already on the wire may arrive — at most each worker's
 * per-integration limit — and every attempt after them uses the new state.
 */

const PER_INTEGRATION = 8;
const WORKERS = 2;
let database: TestDatabase;
let app: TestApp;
let token: string;
let workers: RunningTideway[] = [];
const receiver = new Receiver();
const keyDir = mkdtempSync(join(tmpdir(), 'tideway-control-'));

beforeAll(async () => {
  if (!usingPostgres) return;
  database = await createTestDatabase();
  app = createTestApp(database);
  token = await tokenWith(database.db, 'view_tools');
  receiver.respond = async () => {
    await Bun.sleep(30);
    return new Response('ok');
  };
}, 60_000);
afterEach(async () => {
  await Promise.all(workers.map((worker) => stopTideway(worker)));
  workers = [];
  receiver.received.length = 0;
});
afterAll(async () => {
  receiver.stop();
  await database?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

async function backlog(count: number) {
  const writer = createIngestWriter(database.db, 'default');
  const publishedAt = new Date(Date.now() + 500);
  await writer.write(Array.from({ length: count }, () => newEvent('order.created', publishedAt)));
  await Bun.sleep(600);
}

async function startWorkers() {
  const env = {
    DATABASE_URL: database.url!,
    DATA_DIR: keyDir,
    SECRET_KEY: TEST_SECRET_KEY,
    ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_TIMEOUT_MS: '3000',
    DELIVERY_CONCURRENCY_PER_INTEGRATION: String(PER_INTEGRATION),
  };
  workers = await Promise.all(Array.from({ length: WORKERS }, () => startTideway(env, 45_000, ['--role', 'worker'])));
  // Both are sending, as each one's own metrics say.
  while ((await Promise.all(workers.map(attemptsOf))).some((attempts) => attempts === 0)) await Bun.sleep(20);
}

/** The webhook attempts a worker reports on its metrics port. */
async function attemptsOf(worker: RunningTideway): Promise<number> {
  const text = await (
    await fetch(`${worker.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  return Number(/^tideway_webhook_attempts_total (\d+)/m.exec(text)?.[1] ?? 0);
}

const api = (method: string, path: string, body?: unknown) =>
  app.request(`/api/v1/org/integrations/eventstream${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe.skipIf(!usingPostgres)('control across two worker processes', () => {
  test('_stop with a backlog: at most the requests on the wire arrive after the answer', async () => {
    await webhookIntegration(database, {
      id: 'paused',
      target: { kind: 'webhook', callbackUrl: receiver.url('/paused') },
    });
    await backlog(3_000);
    await startWorkers();
    const response = await api('POST', '/paused/_stop', {});
    const answered = receiver.received.length;
    expect(response.status).toBe(200);
    await Bun.sleep(1_500);
    expect(receiver.received.length - answered).toBeLessThanOrEqual(WORKERS * PER_INTEGRATION);
    const settled = receiver.received.length;
    await Bun.sleep(1_000);
    expect(receiver.received.length).toBe(settled);
  }, 60_000);

  test('an edit: no attempt to the old URL starts after the answer; the new URL gets the new key', async () => {
    await webhookIntegration(database, {
      id: 'moving',
      target: { kind: 'webhook', callbackUrl: receiver.url('/old'), apiKey: 'old-key' },
    });
    await backlog(3_000);
    await startWorkers();
    const response = await api('PATCH', '/moving', {
      callback_parameters: { callback_url: receiver.url('/new'), api_key: 'new-key' },
    });
    expect(response.status).toBe(200);
    const answered = receiver.received.length;
    while (receiver.received.filter((request) => request.path === '/new').length < 100) await Bun.sleep(10);
    const after = receiver.received.slice(answered);
    expect(after.filter((request) => request.path === '/old').length).toBeLessThanOrEqual(WORKERS * PER_INTEGRATION);
    const firstNew = after.findIndex((request) => request.path === '/new');
    expect(
      after
        .slice(firstNew)
        .every((request) => request.path === '/new' && request.headers.authorization === 'Bearer new-key'),
    ).toBe(true);
  }, 60_000);
});
