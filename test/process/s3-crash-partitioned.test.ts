import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sql } from 'kysely';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { newEvent, TEST_SECRET_KEY, testSecrets } from '../helpers/fixtures.ts';
import { startTideway, type RunningTideway } from '../helpers/process.ts';
import { FakeS3 } from '../helpers/s3.ts';

/*
 * A worker killed (SIGKILL) while it uploads partitioned Parquet batches —
 * some of a batch's objects in the bucket, the others not, none marked —
 * then a new worker once the dead one's leases have run out: every event
 * is in S3 exactly once, each in the partition its key names, and the
 * bucket holds exactly the objects the batches were sealed with.
 */

const EVENTS = 6_000;
const HOUR = 3_600_000;
const NAMES = ['order.created', 'order.completed', 'fulfillment_request.assigned', 'return.processed'];
let database: TestDatabase;
const s3 = new FakeS3();
const keyDir = mkdtempSync(join(tmpdir(), 'tideway-s3-crash-'));
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
      id: 'hive-lake',
      integrationType: 'permanent',
      startsAt: new Date(Date.now() - 4 * HOUR),
      target: s3.target('hive', {
        format: 'parquet',
        compression: 'zstd',
        keyTemplate: '{key_prefix}/event_name={event_name}/dt={yyyy}-{MM}-{dd}/hour={HH}/{timestamp_ms}-{batch_id}',
      }),
    },
    'test',
  );
  const writer = createIngestWriter(database.db, 'default');
  const from = Date.now() - 3 * HOUR;
  for (let i = 0; i < EVENTS; i += 1_000) {
    await writer.write(
      Array.from({ length: 1_000 }, (_, j) => {
        const n = i + j;
        return newEvent(NAMES[n % NAMES.length], new Date(from + Math.floor((n * 3 * HOUR) / EVENTS)));
      }),
    );
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
      S3_BATCH_MAX_BYTES: '300000',
      S3_BATCH_INTERVAL_MS: '500',
    },
    45_000,
    ['--role', 'worker'],
  );
  workers.push(started);
  return started;
};

const pending = async () =>
  Number(
    (
      await database.db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('integration_id', '=', 'hive-lake')
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow()
    ).count,
  );

describe.skipIf(!usingPostgres)('SIGKILL while partitioned Parquet batches upload', () => {
  test('the next worker rewrites the same objects: every event once, in its partition, no stray object', async () => {
    // Slow PUTs, so that the kill lands in the middle of a batch's objects.
    s3.delayMs = 300;
    const first = await worker();
    // Killed once a batch is part-way: some of its objects in the bucket, at least two still to go.
    const partWay = async () => {
      const landed = new Set(await s3.keys('lake'));
      const sealed = await database.db
        .selectFrom('s3_batches')
        .select(['object_keys'])
        .where('status', '=', 'sealed')
        .execute();
      return sealed.some(
        (batch) =>
          batch.object_keys.some((key) => landed.has(key)) &&
          batch.object_keys.filter((key) => !landed.has(key)).length >= 2,
      );
    };
    while (!(await partWay())) await Bun.sleep(20);
    first.proc.kill('SIGKILL');
    await first.proc.exited;
    expect(await partWay()).toBe(true);

    // The dead worker's leases would run out in 10 minutes: let them have.
    await sql`update s3_batches set lease_expires_at = now() where lease_expires_at is not null`.execute(database.db);
    s3.delayMs = 0;
    await worker();
    const deadline = Date.now() + 60_000;
    while ((await pending()) > 0 && Date.now() < deadline) await Bun.sleep(200);
    expect(await pending()).toBe(0);

    const batches = await database.db.selectFrom('s3_batches').select(['status', 'object_keys']).execute();
    expect(batches.every((batch) => batch.status === 'uploaded')).toBe(true);
    const keys = await s3.keys('lake');
    expect(keys).toEqual(batches.flatMap((batch) => batch.object_keys).sort());

    const dir = mkdtempSync(join(tmpdir(), 'tideway-s3-crash-lake-'));
    for (const key of keys) {
      mkdirSync(dirname(join(dir, key)), { recursive: true });
      writeFileSync(join(dir, key), await s3.read('lake', key));
    }
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    const [summary] = (
      await connection.runAndReadAll(
        `select count(*)::int as rows, count(distinct id)::int as ids,
           count(*) filter (where event_name <> name or hour::int <> hour(published_at at time zone 'UTC'))::int as misplaced
         from read_parquet('${dir}/hive/**/*.parquet', hive_partitioning = true)`,
      )
    ).getRowObjectsJson();
    connection.closeSync();
    rmSync(dir, { recursive: true, force: true });
    expect(summary).toEqual({ rows: EVENTS, ids: EVENTS, misplaced: 0 });
  }, 180_000);
});
