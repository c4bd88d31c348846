/*
 * bench/ingest.ts — ingest throughput through the HTTP API.
 *
 *   bun bench/ingest.ts [--seconds 15] [--pg postgres://postgres@127.0.0.1:5432] [--only postgres|pglite]
 *
 * For each database (PostgreSQL, then embedded PGlite): a fresh database, two
 * running integrations that match every event, Tideway started as its own
 * process (`--role web`, so nothing but ingest runs), and this process as the
 * client on the same machine. Three measurements each:
 *
 *   batches   sustained POSTs of 500 envelopes of ~1 KB, 4 in flight
 *   single    one envelope per request from 16 concurrent clients
 *   ceiling   the same rows (events + 2 deliveries each) written straight to
 *             the database with the same multi-row statement, no HTTP: what
 *             the database itself can take on this machine
 *
 * Prints a table. Targets (issue 3): batches ≥ 10,000 events/s and single
 * ≥ 1,500 requests/s on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createApiToken } from '../src/auth/api-tokens.repo.ts';
import { openPglite, openPostgres, type DatabaseHandle } from '../src/db/client.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { takeIngestLock } from '../src/events/fan-out.ts';
import { insertEventsAndQueueDeliveries } from '../src/events/events.repo.ts';
import type { NewEvent } from '../src/events/events.schema.ts';
import { createIntegration } from '../src/integrations/integrations.service.ts';
import { createSecretBox } from '../src/lib/crypto.ts';
import { startTideway, stopTideway } from '../test/helpers/process.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    only: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const BATCH = 500;
const BATCH_CONCURRENCY = 4;
const SINGLE_CLIENTS = 16;

interface Row {
  database: string;
  scenario: string;
  events: number;
  seconds: number;
  requests: number;
  latencies: number[];
}
const results: Row[] = [];

/** An envelope of about 1 KB, as a platform would send it. */
function envelope() {
  const orderId = `ord-${randomUUID().slice(0, 12)}`;
  return {
    id: randomUUID(),
    name: 'fulfillment_request.items_completed',
    published_at: new Date().toISOString(),
    payload: {
      id: `fr-${randomUUID().slice(0, 12)}`,
      order_id: orderId,
      fulfillment_location_id: 'dc-east',
      carrier: 'DHL',
      tracking_code: randomUUID(),
      items: Array.from({ length: 6 }, (_, i) => ({
        product_id: `SKU-${1000 + i}`,
        quantity: 1 + i,
        price: 19.99 + i,
        gtin: '4006381333931',
      })),
      shipping_address: {
        name: 'Erika Mustermann',
        line1: 'Heidestraße 17',
        city: 'Köln',
        zip: '51147',
        country: 'DE',
      },
      note: 'x'.repeat(250),
    },
  };
}

function percentile(values: number[], p: number) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `workers` loops of `step` for SECONDS; returns events done, requests and latencies. */
async function sustained(workers: number, step: () => Promise<number>) {
  const latencies: number[] = [];
  let events = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const done = await step(); // not `events += await step()`: that reads `events` before the await
        events += done;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { events, seconds: (performance.now() - started) / 1000, requests: latencies.length, latencies };
}

async function post(url: string, token: string, body: string) {
  const response = await fetch(`${url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  if (response.status !== 202) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

async function prepare(handle: DatabaseHandle) {
  await migrateToLatest(handle.db);
  const secrets = createSecretBox('a'.repeat(64));
  for (const id of ['bench-erp', 'bench-warehouse']) {
    await createIntegration(
      handle.db,
      secrets,
      { id, integrationType: 'permanent', target: { kind: 'webhook', callbackUrl: 'http://127.0.0.1:9/hook' } },
      'bench',
    );
  }
  return (await createApiToken(handle.db, { name: 'bench', permissions: ['publish_events'] })).token;
}

async function measureHttp(label: string, url: string, token: string) {
  // Warm up the server (JIT, connections, catalog cache).
  for (let i = 0; i < 5; i++) await post(url, token, JSON.stringify(Array.from({ length: 100 }, envelope)));

  const batches = await sustained(BATCH_CONCURRENCY, async () => {
    await post(url, token, JSON.stringify(Array.from({ length: BATCH }, envelope)));
    return BATCH;
  });
  results.push({ database: label, scenario: `HTTP batches of ${BATCH}`, ...batches });

  const single = await sustained(SINGLE_CLIENTS, async () => {
    await post(url, token, JSON.stringify(envelope()));
    return 1;
  });
  results.push({ database: label, scenario: `HTTP single events, ${SINGLE_CLIENTS} clients`, ...single });
}

/** The same rows through the same statement, straight to the database. */
async function measureCeiling(label: string, handle: DatabaseHandle, concurrency: number) {
  const toNewEvent = (e: ReturnType<typeof envelope>): NewEvent => {
    const payloadJson = JSON.stringify(e.payload);
    return {
      id: e.id,
      name: e.name,
      entity: 'fulfillment_request',
      entityId: e.payload.id,
      domainEntityType: 'order',
      domainEntityId: e.payload.order_id,
      publishedAt: new Date(e.published_at),
      payloadJson,
      sizeBytes: payloadJson.length + 150,
    };
  };
  const ceiling = await sustained(concurrency, async () => {
    const rows = Array.from({ length: BATCH }, () => toNewEvent(envelope()));
    await handle.db.transaction().execute(async (trx) => {
      await takeIngestLock(trx);
      await insertEventsAndQueueDeliveries(trx, 'default', rows);
    });
    return BATCH;
  });
  results.push({ database: label, scenario: `ceiling: same INSERT, no HTTP`, ...ceiling });
}

async function benchPostgres(base: string) {
  const name = `tideway_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = `${base}/${name}`;
  const version = (await admin.query('show server_version')).rows[0].server_version.split(' ')[0];
  const label = `PostgreSQL ${version}`;
  const keyDir = mkdtempSync(join(tmpdir(), 'tideway-bench-'));
  try {
    const handle = openPostgres(url);
    const token = await prepare(handle);
    const server = await startTideway({ DATABASE_URL: url, DATA_DIR: keyDir, SECRET_KEY: 'a'.repeat(64) }, 45_000, [
      '--role',
      'web',
    ]);
    try {
      await measureHttp(label, server.url, token);
    } finally {
      await stopTideway(server);
    }
    await measureCeiling(label, handle, BATCH_CONCURRENCY);
    await handle.close();
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    rmSync(keyDir, { recursive: true, force: true });
  }
}

async function benchPglite() {
  const dataDir = mkdtempSync(join(tmpdir(), 'tideway-bench-pglite-'));
  const ceilingDir = mkdtempSync(join(tmpdir(), 'tideway-bench-pglite-ceiling-'));
  try {
    let handle = await openPglite({ dataDir });
    const token = await prepare(handle);
    await handle.close();
    const server = await startTideway({ DATA_DIR: dataDir, SECRET_KEY: 'a'.repeat(64) }, 60_000, ['--role', 'web']);
    try {
      await measureHttp('PGlite (embedded)', server.url, token);
    } finally {
      await stopTideway(server);
    }
    // The embedded database belongs to one process: the ceiling runs on its own copy.
    handle = await openPglite({ dataDir: ceilingDir });
    await prepare(handle);
    await measureCeiling('PGlite (embedded)', handle, 1);
    await handle.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(ceilingDir, { recursive: true, force: true });
  }
}

if (values.only !== 'pglite') await benchPostgres(values.pg);
if (values.only !== 'postgres') await benchPglite();

const header = ['database', 'scenario', 'events/s', 'requests/s', 'p50 ms', 'p99 ms', 'vs ceiling'];
const table = results.map((row) => {
  const ceiling = results.find((other) => other.database === row.database && other.scenario.startsWith('ceiling'));
  const rate = row.events / row.seconds;
  const ceilingRate = ceiling ? ceiling.events / ceiling.seconds : NaN;
  return [
    row.database,
    row.scenario,
    Math.round(rate).toLocaleString('en'),
    Math.round(row.requests / row.seconds).toLocaleString('en'),
    percentile(row.latencies, 50).toFixed(1),
    percentile(row.latencies, 99).toFixed(1),
    row.scenario.startsWith('ceiling') ? '100%' : `${Math.round((rate / ceilingRate) * 100)}%`,
  ];
});
const widths = header.map((title, i) => Math.max(title.length, ...table.map((cells) => cells[i]!.length)));
const line = (cells: string[]) =>
  cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
console.log(`\ningest benchmark: ${SECONDS} s per scenario, ~1 KB envelopes, 2 integrations matching every event\n`);
console.log(line(header));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const cells of table) console.log(line(cells));
console.log('\ntargets (PostgreSQL): batches ≥ 10,000 events/s; single events ≥ 1,500 requests/s');
process.exit(0);
