import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { TEST_SECRET_KEY, testSecrets, webhookIntegration, newEvent } from '../helpers/fixtures.ts';
import { startTideway, stopTideway, type RunningTideway } from '../helpers/process.ts';
import { Receiver } from '../helpers/receiver.ts';
import { FakeS3 } from '../helpers/s3.ts';

/*
 * Worker processes against one Postgres (the embedded database belongs to a
 * single process, so this is Postgres only): killed mid-flight, nothing is
 * lost; two side by side, nothing is sent twice — webhooks and S3 batches.
 */

const EVENTS = 10_000;
let database: TestDatabase;
const receiver = new Receiver();
const keyDir = mkdtempSync(join(tmpdir(), 'tideway-workers-'));

beforeAll(async () => {
  if (usingPostgres) database = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  receiver.stop();
  await database?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

const event = (name: string) => newEvent(name, new Date(Date.now() + 60_000));

/** An integration of its own, taking only `name` events, and EVENTS of them. */
async function seed(integrationId: string, path: string, name: string) {
  await webhookIntegration(database, {
    id: integrationId,
    filter: { events: [name] },
    target: { kind: 'webhook', callbackUrl: receiver.url(path) },
  });
  const writer = createIngestWriter(database.db, 'default');
  for (let i = 0; i < EVENTS; i += 1_000) await writer.write(Array.from({ length: 1_000 }, () => event(name)));
}

function worker(env: Record<string, string> = {}): Promise<RunningTideway> {
  return startTideway(
    {
      DATABASE_URL: database.url!,
      DATA_DIR: keyDir,
      SECRET_KEY: TEST_SECRET_KEY,
      ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_TIMEOUT_MS: '1000',
      ...env,
    },
    45_000,
    ['--role', 'worker'],
  );
}

async function pendingOf(integrationId: string): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from deliveries where integration_id = ${integrationId} and status <> 'success'`.execute(
    database.db,
  );
  return Number(rows[0]!.n);
}

async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await Bun.sleep(50);
  }
}

describe.skipIf(!usingPostgres)('worker processes on one Postgres', () => {
  test(`a worker killed with SIGKILL in the middle of ${EVENTS} deliveries loses nothing; duplicates stay within what was in flight`, async () => {
    await seed('crash-test', '/crash', 'order.created');
    receiver.respond = async () => {
      await Bun.sleep(2);
      return new Response('ok');
    };
    const first = await worker();
    const sentToCrash = () => receiver.received.filter((request) => request.path === '/crash').length;
    await waitUntil(() => sentToCrash() >= EVENTS / 3, 60_000);
    first.proc.kill('SIGKILL');
    await first.proc.exited;
    const { rows } = await sql<{
      n: string;
    }>`select count(*) as n from deliveries where integration_id = 'crash-test' and lease_owner is not null`.execute(
      database.db,
    );
    const inFlightAtKill = Number(rows[0]!.n);
    const sentBeforeKill = sentToCrash();

    const second = await worker();
    await waitUntil(async () => (await pendingOf('crash-test')) === 0, 90_000);
    expect(await stopTideway(second)).toBe(0);

    const ids = receiver.received
      .filter((request) => request.path === '/crash')
      .map((request) => request.headers['webhook-id']);
    const unique = new Set(ids);
    const duplicates = ids.length - unique.size;
    console.log(
      `crash test: ${sentBeforeKill} sent before SIGKILL, ${inFlightAtKill} leased at the kill, ${duplicates} sent twice, ${unique.size} distinct`,
    );
    expect(unique.size).toBe(EVENTS);
    expect(duplicates).toBeLessThanOrEqual(inFlightAtKill);
  }, 180_000);

  test(`two worker processes deliver ${EVENTS} events: none lost, none twice`, async () => {
    await seed('two-workers', '/two', 'order.opened');
    receiver.respond = () => new Response('ok');
    const workers = await Promise.all([worker(), worker()]);
    await waitUntil(async () => (await pendingOf('two-workers')) === 0, 90_000);
    await Promise.all(workers.map((running) => stopTideway(running)));
    // Both took part.
    for (const running of workers) {
      const stopped = running.stdout.logLines().find((line) => line.msg === 'webhook delivery stopped');
      expect(Number(stopped?.attempted)).toBeGreaterThan(0);
    }

    const ids = receiver.received
      .filter((request) => request.path === '/two')
      .map((request) => request.headers['webhook-id']);
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
  }, 180_000);

  test(`two worker processes cut and upload S3 batches of ${EVENTS} events: every event in exactly one object`, async () => {
    const s3 = await new FakeS3().start();
    try {
      await s3.createBucket('lake');
      await createIntegration(
        database.db,
        testSecrets,
        {
          id: 'shared-lake',
          integrationType: 'permanent',
          filter: { events: ['order.completed'] },
          target: s3.target('shared'),
        },
        'test',
      );
      // Both running before the work arrives, so that it is shared rather than taken by whichever started first.
      const workers = await Promise.all(
        [0, 1].map(() => worker({ S3_BATCH_MAX_BYTES: '20000', S3_BATCH_INTERVAL_MS: '1000' })),
      );
      const writer = createIngestWriter(database.db, 'default');
      // ~150-byte envelopes, 20 kB batches: about 75 of them to share.
      for (let i = 0; i < EVENTS; i += 1_000)
        await writer.write(Array.from({ length: 1_000 }, () => event('order.completed')));
      await waitUntil(async () => (await pendingOf('shared-lake')) === 0, 90_000);
      await Promise.all(workers.map((running) => stopTideway(running)));
      for (const running of workers) {
        const stopped = running.stdout.logLines().find((line) => line.msg === 's3 batches stopped');
        expect(Number(stopped?.uploaded)).toBeGreaterThan(0);
      }

      const keys = (await s3.keys('lake')).filter((key) => key.startsWith('shared/'));
      const batches = await database.db
        .selectFrom('s3_batches')
        .select(['object_key', 'status'])
        .where('integration_id', '=', 'shared-lake')
        .execute();
      expect(batches.every((batch) => batch.status === 'uploaded')).toBe(true);
      expect(keys).toEqual(batches.map((batch) => batch.object_key).sort());
      const ids: string[] = [];
      for (const key of keys)
        ids.push(
          ...(await s3.read('lake', key))
            .toString('utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line).id),
        );
      expect(ids).toHaveLength(EVENTS);
      expect(new Set(ids).size).toBe(EVENTS);
    } finally {
      await s3.dispose();
    }
  }, 180_000);
});
