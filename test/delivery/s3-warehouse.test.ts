import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../../src/config.ts';
import type { S3Compression, S3Format } from '../../src/db/database.ts';
import { createS3Loop } from '../../src/delivery/s3-loop.ts';
import { createIntegration, updateIntegration } from '../../src/integrations/integrations.service.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, signedIn, testSecrets, tokenWith } from '../helpers/fixtures.ts';
import { FakeS3 } from '../helpers/s3.ts';

/*
 * Warehouse-ready S3 objects against s3rver over real HTTP, read back with
 * DuckDB as a warehouse would: Parquet (its column types, every event once,
 * byte for byte), Hive-style partitioned keys (every row in the partition
 * its key names, NDJSON and Parquet), and a crash between upload and
 * marking of a partitioned Parquet batch (the retry writes the same
 * objects, with the same bytes, and no other).
 */

const database = useTestDatabase();
const s3 = new FakeS3();
let app: TestApp;
let token: string;
let clock = Date.now();
const now = () => new Date(clock);
const ENV = {
  ALLOW_PRIVATE_TARGETS: 'true',
  S3_BATCH_MAX_BYTES: '1000000',
  S3_BATCH_INTERVAL_MS: '60000',
  TENANT: 'acme',
};
const HIVE = '{key_prefix}/event_name={event_name}/dt={yyyy}-{MM}-{dd}/hour={HH}/{timestamp_ms}-{batch_id}';
const NAMES = ['order.created', 'order.completed', 'fulfillment_request.assigned'];

beforeAll(async () => {
  await s3.start();
  await s3.createBucket('lake');
  app = createTestApp(database(), { env: ENV });
  token = await tokenWith(database().db, 'publish_events');
}, 30_000);
afterAll(() => s3.dispose());
beforeEach(() => {
  clock = Date.now() + 1_000;
});
afterEach(async () => {
  await database().db.deleteFrom('integrations').execute();
  await database().db.deleteFrom('events').execute();
});

function loop(extra: Partial<Parameters<typeof createS3Loop>[0]> = {}) {
  return createS3Loop({
    db: database().db,
    copyOut: database().copyOut,
    secrets: testSecrets,
    config: loadConfig(ENV),
    log: createLogger('error', () => {}),
    now,
    ...extra,
  });
}

async function lake(id: string, options: { format?: S3Format; compression?: S3Compression; keyTemplate?: string }) {
  await createIntegration(
    database().db,
    testSecrets,
    {
      id,
      integrationType: 'permanent',
      // Its window takes in the events published over the last three hours.
      startsAt: new Date(Date.now() - 4 * 3_600_000),
      target: s3.target(id, options),
    },
    'test',
  );
}

/** `count` events of the three names, published over the last three hours (a minute apart, newest last). */
async function publishSpread(count: number, note = (i: number) => `ünïcode ${'x'.repeat(i % 50)}`) {
  const start = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000;
  const events = Array.from({ length: count }, (_, i) =>
    envelope(
      NAMES[i % NAMES.length]!,
      { id: `o-${i}`, order_id: `o-${i % 7}`, note: note(i) },
      { published_at: new Date(start + Math.floor((i * 3 * 3_600_000) / count)).toISOString() },
    ),
  );
  const response = await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(events),
  });
  expect(response.status).toBe(202);
  return events;
}

/** The objects under `prefix`, written under a fresh directory at their keys' paths; returns the directory. */
async function download(prefix: string): Promise<{ dir: string; keys: string[]; digests: Map<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tideway-lake-'));
  const keys = (await s3.keys('lake')).filter((key) => key.startsWith(`${prefix}/`));
  const digests = new Map<string, string>();
  for (const key of keys) {
    const body = await s3.read('lake', key);
    digests.set(key, createHash('sha256').update(body).digest('hex'));
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), body);
  }
  return { dir, keys, digests };
}

async function duck<T = Record<string, unknown>>(query: string): Promise<T[]> {
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    return (await connection.runAndReadAll(query)).getRowObjectsJson() as T[];
  } finally {
    connection.closeSync();
  }
}

async function storedEvents() {
  const rows = await database()
    .db.selectFrom('events')
    .select(['id', 'name', 'published_at', 'entity', 'entity_id', 'domain_entity_type', 'domain_entity_id', 'payload'])
    .orderBy('id')
    .execute();
  return rows;
}

test('Parquet: one .parquet per batch with the issue’s column types, zstd inside; every event once, fields as stored', async () => {
  await lake('parquet', { format: 'parquet', compression: 'zstd' });
  await publishSpread(60);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(1);
  const { dir, keys } = await download('parquet');
  expect(keys).toHaveLength(1);
  expect(keys[0]).toMatch(/^parquet\/acme\/\d+-data-[0-9a-f-]{36}\.parquet$/);
  const file = join(dir, keys[0]!);

  const columns = await duck<{ column_name: string; column_type: string }>(
    `select column_name, column_type from (describe select * from read_parquet('${file}'))`,
  );
  expect(columns).toEqual([
    { column_name: 'id', column_type: 'VARCHAR' },
    { column_name: 'tenant', column_type: 'VARCHAR' },
    { column_name: 'name', column_type: 'VARCHAR' },
    { column_name: 'published_at', column_type: 'TIMESTAMP WITH TIME ZONE' },
    { column_name: 'entity', column_type: 'VARCHAR' },
    { column_name: 'entity_id', column_type: 'VARCHAR' },
    { column_name: 'domain_entity_type', column_type: 'VARCHAR' },
    { column_name: 'domain_entity_id', column_type: 'VARCHAR' },
    { column_name: 'payload', column_type: 'JSON' },
  ]);
  const codecs = await duck<{ compression: string }>(`select distinct compression from parquet_metadata('${file}')`);
  expect(codecs).toEqual([{ compression: 'ZSTD' }]);
  const schema = await duck<{ name: string; type: string; converted_type: string | null; logical_type: string | null }>(
    `select name, type, converted_type, logical_type from parquet_schema('${file}') where name in ('published_at', 'payload')`,
  );
  expect(schema[0]).toMatchObject({ name: 'published_at', type: 'INT64' });
  expect(schema[0]!.logical_type).toContain('MILLIS');
  expect(schema[0]!.logical_type).toContain('isAdjustedToUTC=1');
  expect(schema[1]).toMatchObject({ name: 'payload', converted_type: 'JSON' });

  const rows = await duck<Record<string, string | null>>(
    `select id, tenant, name, epoch_ms(published_at) as published_ms, entity, entity_id, domain_entity_type, domain_entity_id,
       payload::varchar as payload from read_parquet('${file}') order by id`,
  );
  const stored = await storedEvents();
  expect(rows).toEqual(
    stored.map((event) => ({
      id: event.id,
      tenant: 'acme',
      name: event.name,
      published_ms: String(event.published_at.getTime()),
      entity: event.entity,
      entity_id: event.entity_id,
      domain_entity_type: event.domain_entity_type,
      domain_entity_id: event.domain_entity_id,
      payload: event.payload,
    })),
  );
});

test('Parquet with gzip or none inside: the same rows, the pages compressed as asked', async () => {
  for (const compression of ['gzip', 'none'] as const) {
    await lake(`parquet-${compression}`, { format: 'parquet', compression });
  }
  await publishSpread(20);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(2);
  for (const [compression, codec] of [
    ['gzip', 'GZIP'],
    ['none', 'UNCOMPRESSED'],
  ] as const) {
    const { dir, keys } = await download(`parquet-${compression}`);
    expect(keys).toEqual([expect.stringMatching(/\.parquet$/)]);
    const file = join(dir, keys[0]!);
    expect(await duck(`select distinct compression from parquet_metadata('${file}')`)).toEqual([
      { compression: codec },
    ]);
    const [counted] = await duck<{ rows: string; ids: string }>(
      `select count(*) as rows, count(distinct id) as ids from read_parquet('${file}')`,
    );
    expect(counted).toEqual({ rows: '20', ids: '20' });
  }
});

test('a Parquet batch larger than a row group and a part: several row groups, a multipart upload, every row once', async () => {
  await lake('parquet-large', { format: 'parquet', compression: 'none' });
  // Random notes, so that the file spans several 64 KiB parts even compressed.
  const events = await publishSpread(400, () => randomBytes(300).toString('hex'));
  clock += 61_000;
  expect(await loop({ partSize: 64 * 1024, rowGroupBytes: 32 * 1024 }).runOnce()).toBe(1);
  const { dir, keys } = await download('parquet-large');
  expect(keys).toHaveLength(1);
  const file = join(dir, keys[0]!);
  expect(Bun.file(file).size).toBeGreaterThan(3 * 64 * 1024);
  const [groups] = await duck<{ groups: number }>(
    `select count(distinct row_group_id)::int as groups from parquet_metadata('${file}')`,
  );
  expect(groups!.groups).toBeGreaterThanOrEqual(6);
  const rows = await duck<{ id: string; payload: string }>(
    `select id, payload::varchar as payload from read_parquet('${file}') order by id`,
  );
  const stored = await storedEvents();
  expect(rows).toEqual(stored.map((event) => ({ id: event.id, payload: event.payload })));
  expect(rows).toHaveLength(events.length);
});

test('partitioned by event name and hour, Parquet: DuckDB’s hive partitioning finds every event once, each in the partition its key names', async () => {
  await lake('hive', { format: 'parquet', compression: 'zstd', keyTemplate: HIVE });
  const events = await publishSpread(90);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(1);
  const { dir, keys } = await download('hive');
  // Three names over three or four clock hours: one object per (name, hour), all of one batch.
  expect(keys.length).toBeGreaterThanOrEqual(9);
  const batchIds = new Set(keys.map((key) => key.match(/-([0-9a-f-]{36})\.parquet$/)![1]));
  expect(batchIds.size).toBe(1);
  for (const key of keys)
    expect(key).toMatch(/^hive\/event_name=[a-z_.]+\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/\d+-[0-9a-f-]{36}\.parquet$/);

  const [summary] = await duck<{ rows: string; ids: string; misplaced: string }>(
    `select count(*) as rows, count(distinct id) as ids,
       count(*) filter (where event_name <> name
         or dt::varchar <> strftime(published_at at time zone 'UTC', '%Y-%m-%d')
         or hour::int <> hour(published_at at time zone 'UTC')) as misplaced
     from read_parquet('${dir}/hive/**/*.parquet', hive_partitioning = true)`,
  );
  expect(summary).toEqual({ rows: String(events.length), ids: String(events.length), misplaced: '0' });
  const ids = await duck<{ id: string }>(
    `select id from read_parquet('${dir}/hive/**/*.parquet', hive_partitioning = true) order by id`,
  );
  expect(ids.map((row) => row.id)).toEqual(events.map((event) => event.id).sort());

  // The delivery page names the object that holds the event.
  const [delivery] = await database()
    .db.selectFrom('deliveries')
    .select(['event_id'])
    .where('integration_id', '=', 'hive')
    .limit(1)
    .execute();
  const stored = (await storedEvents()).find((event) => event.id === delivery!.event_id)!;
  const hour = String(stored.published_at.getUTCHours()).padStart(2, '0');
  const held = keys.find((key) => key.startsWith(`hive/event_name=${stored.name}/`) && key.includes(`/hour=${hour}/`));
  expect(held).toBeDefined();
  const viewer = await signedIn(database().db, ['view_tools']);
  const page = await app.request(`/tools/event-stream/hive/events/${delivery!.event_id}`, {
    headers: { cookie: viewer.cookie },
  });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain(held!);
  // And View Events, beside each delivered event.
  const list = await app.request(`/tools/event-stream/hive/events?event_name=${stored.name}`, {
    headers: { cookie: viewer.cookie },
  });
  const listed = await list.text();
  for (const key of keys.filter((key) => key.startsWith(`hive/event_name=${stored.name}/`)))
    expect(listed).toContain(key);
});

test('partitioned NDJSON (zstd): each object’s lines are the events of its partition, in publication order', async () => {
  await lake('hive-json', {
    compression: 'zstd',
    keyTemplate: '{key_prefix}/{entity}/{yyyy}/{MM}/{dd}/{HH}/{batch_id}',
  });
  const events = await publishSpread(45);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(1);
  const { dir, keys } = await download('hive-json');
  expect(
    keys.every((key) =>
      /^hive-json\/(order|fulfillment_request)\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[0-9a-f-]{36}\.export\.zst$/.test(key),
    ),
  ).toBe(true);
  const seen: string[] = [];
  for (const key of keys) {
    const [, entity, yyyy, MM, dd, HH] = key.split('/');
    const lines = Bun.zstdDecompressSync(await Bun.file(join(dir, key)).bytes())
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { id: string; name: string; published_at: string });
    for (const line of lines) {
      expect(line.name.split('.')[0]).toBe(entity!);
      expect(line.published_at.startsWith(`${yyyy}-${MM}-${dd}T${HH}:`)).toBe(true);
    }
    const times = lines.map((line) => line.published_at);
    expect(times).toEqual([...times].sort());
    seen.push(...lines.map((line) => line.id));
  }
  expect(seen.sort()).toEqual(events.map((event) => event.id).sort());
  const [counted] = await duck<{ rows: string }>(
    `select count(distinct id) as rows from read_json('${dir}/hive-json/**/*.zst', compression = 'zstd', format = 'newline_delimited')`,
  );
  expect(counted).toEqual({ rows: String(events.length) });
});

test('a crash between upload and marking of a partitioned Parquet batch: the retry rewrites the same objects with the same bytes, and no other', async () => {
  await lake('crash-hive', { format: 'parquet', compression: 'zstd', keyTemplate: HIVE });
  const events = await publishSpread(60);
  clock += 61_000;
  let crash = true;
  await loop({
    beforeMark: async () => {
      if (crash) throw new Error('process died here');
    },
  }).runOnce();
  crash = false;
  const [sealed] = await database()
    .db.selectFrom('s3_batches')
    .select(['status', 'object_keys'])
    .where('integration_id', '=', 'crash-hive')
    .execute();
  expect(sealed!.status).toBe('sealed');
  const before = await download('crash-hive');
  expect(before.keys).toEqual([...sealed!.object_keys].sort());

  // Settings changed meanwhile do not change what the sealed batch is.
  await updateIntegration(database().db, testSecrets, 'crash-hive', {
    s3_parameters: { format: 'ndjson', compression: 'gzip', key_template: null },
  });
  clock += 10 * 60_000; // past the backoff
  expect(await loop().runOnce()).toBe(1);
  const after = await download('crash-hive');
  expect(after.keys).toEqual(before.keys);
  expect(after.digests).toEqual(before.digests);
  const batches = await database()
    .db.selectFrom('s3_batches')
    .select('status')
    .where('integration_id', '=', 'crash-hive')
    .execute();
  expect(batches).toEqual([{ status: 'uploaded' }]);
  const ids = await duck<{ id: string }>(
    `select id from read_parquet('${after.dir}/crash-hive/**/*.parquet', hive_partitioning = true) order by id`,
  );
  expect(ids.map((row) => row.id)).toEqual(events.map((event) => event.id).sort());
  const delivered = await database()
    .db.selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('integration_id', '=', 'crash-hive')
    .where('status', '=', 'success')
    .executeTakeFirstOrThrow();
  expect(Number(delivered.count)).toBe(events.length);
});
