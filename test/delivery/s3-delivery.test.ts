import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '../../src/config.ts';
import { createS3Loop } from '../../src/delivery/s3-loop.ts';
import { envelopeJson } from '../../src/events/envelope.ts';
import {
  createIntegration,
  setIntegrationStatus,
  updateIntegration,
} from '../../src/integrations/integrations.service.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, signedIn, testSecrets, tokenWith } from '../helpers/fixtures.ts';
import { FakeS3 } from '../helpers/s3.ts';

/*
 * S3 batches against s3rver over real HTTP: triggers, exact content and key
 * layout, gzip, crash between upload and marking, permanent and transient
 * errors, two workers.
 */

const database = useTestDatabase();
const s3 = new FakeS3();
let app: TestApp;
let token: string;
let clock = Date.now();
const now = () => new Date(clock);
const ENV = {
  ALLOW_PRIVATE_TARGETS: 'true',
  S3_BATCH_MAX_BYTES: '4000',
  S3_BATCH_INTERVAL_MS: '60000',
  TENANT: 'acme',
};

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

function loop(extra: Partial<Parameters<typeof createS3Loop>[0]> = {}, env: Record<string, string> = ENV) {
  return createS3Loop({
    db: database().db,
    copyOut: database().copyOut,
    secrets: testSecrets,
    config: loadConfig(env),
    log: createLogger('error', () => {}),
    now,
    ...extra,
  });
}

async function lake(
  id: string,
  options: { prefix?: string; compression?: 'none' | 'gzip' | 'zstd'; accessKeyId?: string } = {},
) {
  await createIntegration(
    database().db,
    testSecrets,
    {
      id,
      integrationType: 'permanent',
      target: {
        kind: 's3',
        accessKeyId: options.accessKeyId ?? 'S3RVER',
        secretAccessKey: 'S3RVER',
        region: 'us-east-1',
        bucket: 'lake',
        keyPrefix: options.prefix ?? id,
        endpoint: s3.endpoint,
        compression: options.compression,
      },
    },
    'test',
  );
}

async function publish(count: number, size = 200) {
  const events = Array.from({ length: count }, (_, i) =>
    envelope('order.created', { id: `o-${i}`, note: 'x'.repeat(size) }),
  );
  const response = await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(events),
  });
  expect(response.status).toBe(202);
  return events;
}

/** The NDJSON the batch should hold: the stored envelopes, in (published_at, id) order. */
async function expectedLines(ids: string[]) {
  const rows = await database()
    .db.selectFrom('events')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('published_at')
    .orderBy('id')
    .execute();
  return rows.map((row) =>
    envelopeJson({
      id: row.id,
      tenant: row.tenant,
      name: row.name,
      publishedAt: row.published_at,
      payloadJson: row.payload,
    }),
  );
}

async function allLines(prefix: string, gzip = false) {
  const lines: string[] = [];
  for (const key of (await s3.keys('lake')).filter((key) => key.startsWith(`${prefix}/`))) {
    const body = await s3.read('lake', key);
    lines.push(...(gzip ? gunzipSync(body) : body).toString('utf8').split('\n').filter(Boolean));
  }
  return lines;
}

test('size trigger: batches close at the threshold; each object is byte for byte the NDJSON of its members; key layout', async () => {
  await lake('by-size');
  const events = await publish(40); // ~370 bytes each: ~10 per 4,000-byte batch
  const uploaded = await loop().runOnce();
  expect(uploaded).toBeGreaterThanOrEqual(3);

  const keys = (await s3.keys('lake')).filter((key) => key.startsWith('by-size/'));
  expect(keys.length).toBe(uploaded);
  for (const key of keys) expect(key).toMatch(/^by-size\/acme\/\d{13}-data-[0-9a-f-]{36}\.export$/);
  const batches = await database()
    .db.selectFrom('s3_batches')
    .selectAll()
    .where('integration_id', '=', 'by-size')
    .orderBy('sealed_at')
    .orderBy('id')
    .execute();
  for (const batch of batches) {
    expect(batch.status).toBe('uploaded');
    expect(Number(batch.byte_count)).toBeLessThanOrEqual(4000);
    const members = await database()
      .db.selectFrom('deliveries')
      .select('event_id')
      .where('batch_id', '=', batch.id)
      .execute();
    const expected = (await expectedLines(members.map((member) => member.event_id)))
      .map((line) => `${line}\n`)
      .join('');
    expect((await s3.read('lake', batch.object_key)).toString('utf8')).toBe(expected);
    expect(Buffer.byteLength(expected)).toBe(Number(batch.byte_count));
  }
  // What is left is below the threshold: it waits for the interval, then goes too.
  const left = await database()
    .db.selectFrom('deliveries')
    .select('event_id')
    .where('integration_id', '=', 'by-size')
    .where('batch_id', 'is', null)
    .execute();
  expect(left.length).toBeGreaterThan(0);
  expect(left.length).toBeLessThan(11);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(1);
  // Every event exactly once across the objects; every delivery success, attempted at upload time.
  const lines = await allLines('by-size');
  expect(lines.length).toBe(40);
  expect(new Set(lines.map((line) => JSON.parse(line).id))).toEqual(new Set(events.map((event) => event.id)));
  const deliveries = await database()
    .db.selectFrom('deliveries')
    .select(['event_id', 'status', 'last_attempted_at', 'batch_id'])
    .where('integration_id', '=', 'by-size')
    .execute();
  expect(
    deliveries.every((row) => row.status === 'success' && row.last_attempted_at !== null && row.batch_id !== null),
  ).toBe(true);
  // The events view shows each delivery's object key.
  const { cookie } = await signedIn(database().db, ['view_tools']);
  const detail = await (
    await app.request(`/tools/event-stream/by-size/events/${deliveries[0]!.event_id}`, { headers: { cookie } })
  ).text();
  expect(detail).toMatch(/<dt>S3 object<\/dt><dd class="mono">by-size\/acme\/\d{13}-data-[0-9a-f-]{36}\.export<\/dd>/);
  expect(detail).toContain('<span class="badge status-success">Success</span>');
  // Batch sizes are in the metrics.
  const metrics = await (
    await app.request('/metrics', {
      headers: { authorization: `Bearer ${await tokenWith(database().db, 'view_tools')}` },
    })
  ).text();
  expect(metrics).toMatch(/tideway_s3_batches_uploaded_total\{integration="by-size"\} \d+/);
  expect(metrics).toContain('tideway_s3_batch_events_sum{integration="by-size"} 40');
});

test('time trigger: below the threshold nothing is cut until the interval has passed; never an empty object', async () => {
  await lake('by-time');
  const worker = loop();
  expect(await worker.runOnce()).toBe(0); // nothing waits: no empty batch
  await publish(3);
  expect(await worker.runOnce()).toBe(0);
  clock += 61_000;
  expect(await worker.runOnce()).toBe(1);
  expect(await allLines('by-time')).toHaveLength(3);
  // Sent just now: the next batch waits for the next interval.
  await publish(2);
  expect(await worker.runOnce()).toBe(0);
  clock += 61_000;
  expect(await worker.runOnce()).toBe(1);
  expect((await s3.keys('lake')).filter((key) => key.startsWith('by-time/'))).toHaveLength(2);
});

test('gzip: .export.gz that decompresses to the same lines', async () => {
  await lake('zipped', { compression: 'gzip' });
  const events = await publish(5);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(1);
  const [key] = (await s3.keys('lake')).filter((entry) => entry.startsWith('zipped/'));
  expect(key).toMatch(/\.export\.gz$/);
  expect(await allLines('zipped', true)).toEqual(await expectedLines(events.map((event) => event.id)));
});

test('zstd: .export.zst, which DuckDB reads back with read_json(compression = zstd): every event once, byte for byte', async () => {
  await lake('zstd', { compression: 'zstd' });
  const events = await publish(5);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(1);
  const [key] = (await s3.keys('lake')).filter((entry) => entry.startsWith('zstd/'));
  expect(key).toMatch(/\.export\.zst$/);
  const body = await s3.read('lake', key!);
  expect(Bun.zstdDecompressSync(body).toString('utf8').split('\n').filter(Boolean)).toEqual(
    await expectedLines(events.map((event) => event.id)),
  );
  const file = join(mkdtempSync(join(tmpdir(), 'tideway-duckdb-')), 'object.export.zst');
  writeFileSync(file, body);
  const duckdb = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (
    await duckdb.runAndReadAll(
      `select id::text as id, name from read_json('${file}', compression = 'zstd', format = 'newline_delimited') order by id`,
    )
  ).getRowObjects();
  expect(rows).toEqual(
    events.map((event) => ({ id: event.id, name: event.name })).sort((a, b) => a.id.localeCompare(b.id)),
  );
  duckdb.closeSync();
});

test('a batch larger than a part goes up as a multipart upload, byte for byte, plain, gzip and zstd', async () => {
  const env = { ...ENV, S3_BATCH_MAX_BYTES: '10000000' };
  const decompress = { none: (body: Buffer) => body, gzip: gunzipSync, zstd: Bun.zstdDecompressSync };
  for (const compression of ['none', 'gzip', 'zstd'] as const) {
    const id = `parts-${compression}`;
    await lake(id, { compression });
    // Random notes, so that even gzipped the object spans several 64 KiB parts.
    const events = Array.from({ length: 300 }, (_, i) =>
      envelope('order.created', { id: `o-${i}`, note: randomBytes(500).toString('hex') }),
    );
    const response = await app.request('/api/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(events),
    });
    expect(response.status).toBe(202);
    clock += 61_000;
    expect(await loop({ partSize: 64 * 1024 }, env).runOnce()).toBe(1);

    const [key] = (await s3.keys('lake')).filter((entry) => entry.startsWith(`${id}/`));
    const partUploads = s3.requests.filter(
      (request) => request.startsWith(`PUT /lake/${key}?`) && request.includes('partNumber='),
    );
    expect(partUploads.length).toBe(Math.ceil((await s3.read('lake', key!)).length / (64 * 1024)));
    expect(partUploads.length).toBeGreaterThanOrEqual(2);
    expect(s3.requests.filter((request) => request.startsWith(`POST /lake/${key}?uploadId=`))).toHaveLength(1); // completed once
    const body = await s3.read('lake', key!);
    const expected = (await expectedLines(events.map((event) => event.id))).map((line) => `${line}\n`).join('');
    expect(Buffer.from(decompress[compression](body)).toString('utf8')).toBe(expected);
    await database().db.deleteFrom('integrations').where('id', '=', id).execute();
  }
});

test('a crash between upload and marking: the retry writes the same key, one object per batch, every event once', async () => {
  await lake('crashy');
  await publish(25);
  let crash = true;
  const first = loop({
    beforeMark: async () => {
      if (crash) throw new Error('process died here');
    },
  });
  await first.runOnce();
  crash = false;
  const sealed = await database()
    .db.selectFrom('s3_batches')
    .select(['id', 'object_key', 'status'])
    .where('integration_id', '=', 'crashy')
    .execute();
  expect(sealed.every((batch) => batch.status === 'sealed')).toBe(true);
  const keysAfterCrash = (await s3.keys('lake')).filter((key) => key.startsWith('crashy/'));

  clock += 10 * 60_000; // past the backoff
  await loop().runOnce();
  clock += 61_000; // the remainder, below the threshold, goes an interval after those were sent
  await loop().runOnce();
  const keys = (await s3.keys('lake')).filter((key) => key.startsWith('crashy/'));
  // The retried batches landed on the keys they had been sealed with, once each.
  for (const batch of sealed) expect(keys.filter((key) => key === batch.object_key)).toHaveLength(1);
  expect(keysAfterCrash).toEqual(sealed.map((batch) => batch.object_key).sort());
  const batches = await database()
    .db.selectFrom('s3_batches')
    .select('status')
    .where('integration_id', '=', 'crashy')
    .execute();
  expect(keys).toHaveLength(batches.length);
  expect(batches.every((batch) => batch.status === 'uploaded')).toBe(true);
  const lines = await allLines('crashy');
  expect(lines).toHaveLength(25);
  expect(new Set(lines).size).toBe(25);
});

test('a permanent error (an unknown access key) stops the integration with what to fix, in its log', async () => {
  await lake('bad-key', { accessKeyId: 'NOT-A-KEY' });
  await publish(2);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(0);
  const integration = await database()
    .db.selectFrom('integrations')
    .select('status')
    .where('id', '=', 'bad-key')
    .executeTakeFirstOrThrow();
  expect(integration.status).toBe('stopped');
  const log = await database()
    .db.selectFrom('integration_logs')
    .select(['reason', 'actor'])
    .where('integration_id', '=', 'bad-key')
    .where('action', '=', 'stopped')
    .executeTakeFirstOrThrow();
  expect(log.reason).toContain('InvalidAccessKeyId');
  expect(log.reason).toContain('check the Access Key');
  expect(log.actor).toBe('system');
  const [attempt] = await database().db.selectFrom('s3_batch_attempts').selectAll().execute();
  expect(attempt).toMatchObject({ outcome: 'interrupt', error_code: 'InvalidAccessKeyId' });
});

test('a transient error (the store is down) is retried with backoff and completes', async () => {
  await lake('flaky-store');
  await publish(4);
  clock += 61_000;
  await s3.stop();
  const worker = loop();
  expect(await worker.runOnce()).toBe(0);
  const [batch] = await database()
    .db.selectFrom('s3_batches')
    .selectAll()
    .where('integration_id', '=', 'flaky-store')
    .execute();
  expect(batch).toMatchObject({ status: 'sealed', attempts: 1 });
  expect(batch!.next_attempt_at.getTime() - clock).toBe(5_000);
  expect(
    (
      await database()
        .db.selectFrom('integrations')
        .select('status')
        .where('id', '=', 'flaky-store')
        .executeTakeFirstOrThrow()
    ).status,
  ).toBe('running');

  await s3.start(s3.port);
  clock += 6_000;
  expect(await worker.runOnce()).toBe(1);
  expect(await allLines('flaky-store')).toHaveLength(4);
});

test('a batch sealed before the compression changed is written as its key says, on every retry', async () => {
  await lake('switched', { compression: 'gzip' });
  const events = await publish(3);
  clock += 61_000;
  await s3.stop();
  const worker = loop();
  expect(await worker.runOnce()).toBe(0); // sealed as .export.gz, the upload failed
  await updateIntegration(database().db, testSecrets, 'switched', { s3_parameters: { compression: 'zstd' } });
  await s3.start(s3.port);
  clock += 6_000;
  expect(await worker.runOnce()).toBe(1);
  const [key] = (await s3.keys('lake')).filter((entry) => entry.startsWith('switched/'));
  expect(key).toMatch(/\.export\.gz$/);
  expect(await allLines('switched', true)).toEqual(await expectedLines(events.map((event) => event.id)));
});

test('two workers: every event in exactly one object', async () => {
  await lake('shared');
  const events = await publish(120);
  const workers = [loop(), loop()];
  await Promise.all(workers.map((worker) => worker.runOnce()));
  clock += 61_000;
  await Promise.all(workers.map((worker) => worker.runOnce()));
  const lines = await allLines('shared');
  expect(lines).toHaveLength(120);
  expect(new Set(lines.map((line) => JSON.parse(line).id))).toEqual(new Set(events.map((event) => event.id)));
  expect(
    await database()
      .db.selectFrom('deliveries')
      .select('event_id')
      .where('integration_id', '=', 'shared')
      .where('status', '<>', 'success')
      .execute(),
  ).toEqual([]);
});

test('paused: nothing is cut or sent; started again, the backlog goes out', async () => {
  await lake('paused-lake');
  await setIntegrationStatus(database().db, 'paused-lake', 'stopped', 'maintenance', 'ops@example.com');
  await publish(3);
  clock += 61_000;
  expect(await loop().runOnce()).toBe(0);
  await setIntegrationStatus(database().db, 'paused-lake', 'running', 'done', 'ops@example.com');
  expect(await loop().runOnce()).toBe(1);
});
