import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { TEST_SECRET_KEY, testSecrets, newEvent } from '../helpers/fixtures.ts';
import { startTideway, type RunningTideway } from '../helpers/process.ts';
import { FakeS3 } from '../helpers/s3.ts';

/*
 * SIGTERM while S3 batches are uploading, then an immediate restart: the
 * stopping worker gives its uploads until shortly before its deadline,
 * aborts what cannot finish and hands every batch it holds back, so the
 * new worker takes them at once (the old one kept their 10-minute leases).
 * Every event ends in S3 exactly once.
 */

const EVENTS = 20_000;
let database: TestDatabase;
const s3 = new FakeS3();
const keyDir = mkdtempSync(join(tmpdir(), 'tideway-s3-shutdown-'));
const workers: RunningTideway[] = [];

beforeAll(async () => {
  if (!usingPostgres) return;
  database = await createTestDatabase();
  await s3.start();
  await s3.createBucket('lake');
  await createIntegration(
    database.db,
    testSecrets,
    {
      id: 'lake',
      integrationType: 'permanent',
      startsAt: new Date(Date.now() - 60_000),
      target: s3.target('soak'),
    },
    'test',
  );
  const writer = createIngestWriter(database.db, 'default');
  for (let i = 0; i < EVENTS; i += 2_000) {
    await writer.write(Array.from({ length: 2_000 }, () => newEvent('order.created', new Date())));
  }
}, 120_000);

afterAll(async () => {
  for (const worker of workers) if (worker.proc.exitCode === null) worker.proc.kill('SIGKILL');
  await s3.dispose();
  await database?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

const worker = async () => {
  const started = await startTideway(
    {
      DATABASE_URL: database.url!,
      DATA_DIR: keyDir,
      SECRET_KEY: TEST_SECRET_KEY,
      ALLOW_PRIVATE_TARGETS: 'true',
      S3_BATCH_MAX_BYTES: '200000',
      S3_BATCH_INTERVAL_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '3000',
    },
    45_000,
    ['--role', 'worker'],
  );
  workers.push(started);
  return started;
};

async function idsInS3(): Promise<string[]> {
  const ids: string[] = [];
  for (const key of await s3.keys('lake'))
    ids.push(
      ...(await s3.read('lake', key))
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).id as string),
    );
  return ids;
}

describe.skipIf(!usingPostgres)('SIGTERM while S3 batches upload', () => {
  test('the stopping worker hands its batches back; restarted at once, the backlog is in S3 within 30 s, each event once', async () => {
    // Each upload takes 5 s, longer than the 3 s the worker has to stop:
    // there are uploads under way whenever SIGTERM comes, and they cannot finish.
    s3.delayMs = 5_000;
    const first = await worker();
    while ((await s3.keys('lake')).length < 2) await Bun.sleep(100);
    // Right after a batch lands the next upload may not have begun yet: wait until one is on the wire.
    while (s3.heldPuts === 0) await Bun.sleep(10);
    const signalled = Date.now();
    first.proc.kill('SIGTERM');
    expect(await first.proc.exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(4_000);

    s3.delayMs = 0;
    const restarted = Date.now();
    await worker();
    let ids = await idsInS3();
    while (ids.length < EVENTS && Date.now() - restarted < 30_000) {
      await Bun.sleep(250);
      ids = await idsInS3();
    }
    expect(ids.length).toBe(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
    expect(Date.now() - restarted).toBeLessThan(30_000);
    // It was an upload under way that was aborted and handed back, not one that happened to finish.
    expect(
      first.stdout.logLines().filter((line) => line.msg === 'batch upload aborted for shutdown; handed back').length,
    ).toBeGreaterThan(0);
  }, 120_000);
});
