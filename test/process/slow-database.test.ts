import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { TEST_SECRET_KEY, tokenWith, webhookIntegration, newEvent } from '../helpers/fixtures.ts';
import { startTideway, stopTideway, type RunningTideway } from '../helpers/process.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * Recording blocked: another session holds `lock table delivery_minutes in
 * exclusive mode` for 20 s, so every settle statement waits. The worker
 * must stop sending within its bound (2 × DELIVERY_CONCURRENCY sent and
 * unrecorded), keep the leases of what it holds although the block
 * outlasts them (timeout 2 s → lease 9 s), send nothing twice, and record
 * everything once the lock is gone.
 */

const CONCURRENCY = 32;
const EVENTS = 20_000;
let database: TestDatabase;
let worker: RunningTideway;
const receiver = new Receiver();
const keyDir = mkdtempSync(join(tmpdir(), 'tideway-slow-db-'));

beforeAll(async () => {
  if (!usingPostgres) return;
  database = await createTestDatabase();
  await webhookIntegration(database, { id: 'erp', target: { kind: 'webhook', callbackUrl: receiver.url() } });
  const writer = createIngestWriter(database.db, 'default');
  const publishedAt = new Date(Date.now() + 1_000);
  for (let i = 0; i < EVENTS; i += 2_000) {
    await writer.write(Array.from({ length: 2_000 }, () => newEvent('order.created', publishedAt)));
  }
  receiver.respond = async () => {
    await Bun.sleep(5);
    return new Response('ok');
  };
}, 120_000);

afterAll(async () => {
  if (worker?.proc.exitCode === null) worker.proc.kill('SIGKILL');
  receiver.stop();
  await database?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

async function recorded(): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from delivery_attempts`.execute(database.db);
  return Number(rows[0]!.n);
}

describe.skipIf(!usingPostgres)('a settle blocked by a table lock for 20 s', () => {
  test('sends stop within 2 × DELIVERY_CONCURRENCY, nothing is sent twice, everything is recorded after', async () => {
    await Bun.sleep(1_100); // the events become due
    worker = await startTideway(
      {
        DATABASE_URL: database.url!,
        DATA_DIR: keyDir,
        SECRET_KEY: TEST_SECRET_KEY,
        ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_TIMEOUT_MS: '2000',
        DELIVERY_CONCURRENCY: String(CONCURRENCY),
      },
      45_000,
      ['--role', 'worker'],
    );
    while (receiver.received.length < 2_000) await Bun.sleep(20);

    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query('lock table delivery_minutes in exclusive mode');
    const atLock = receiver.received.length;
    const recordedAtLock = await recorded();
    await Bun.sleep(20_000);
    const sentDuringBlock = receiver.received.length - atLock;
    const recordedDuringBlock = (await recorded()) - recordedAtLock;
    await blocker.query('commit');
    await blocker.end();

    // Nothing was recorded, and no more than the bound was sent.
    expect(recordedDuringBlock).toBe(0);
    expect(sentDuringBlock).toBeLessThanOrEqual(2 * CONCURRENCY);
    const scraped = await (
      await fetch(`${worker.metricsUrl}/metrics`, {
        headers: { authorization: `Bearer ${await tokenWith(database.db, 'view_tools')}` },
      })
    ).text();
    const peak = Number(/^tideway_webhook_unrecorded_attempts_peak (\d+)/m.exec(scraped)?.[1]);
    expect(peak).toBeLessThanOrEqual(2 * CONCURRENCY);

    // Afterwards everything is delivered and recorded, each event once.
    const deadline = Date.now() + 60_000;
    while ((await recorded()) < EVENTS && Date.now() < deadline) await Bun.sleep(200);
    expect(await recorded()).toBe(EVENTS);
    const ids = receiver.received.map((request) => request.headers['webhook-id']);
    expect(new Set(ids).size).toBe(EVENTS);
    expect(ids.length).toBe(EVENTS);
    const { rows } = await sql<{
      status: string;
      n: string;
    }>`select status, count(*) as n from deliveries group by status`.execute(database.db);
    expect(rows).toEqual([{ status: 'success', n: String(EVENTS) }]);
    expect(await stopTideway(worker)).toBe(0);
  }, 120_000);
});
