/*
 * bench/webhook-drain.ts — how fast a backlog of webhook deliveries drains.
 *
 *   bun bench/webhook-drain.ts [--deliveries 50000] [--pg postgres://postgres@127.0.0.1:5432]
 *
 * On PostgreSQL: `--deliveries` pending deliveries over 4 integrations, sent
 * to a local Bun receiver (its own process), every one recorded with its
 * attempt. Measured twice in the same run:
 *
 *   Tideway    one worker process (`--role worker`), default limits
 *              (256 in flight overall, 16 per integration)
 *   baseline   graphile-worker, one job per delivery, whose task signs and
 *              POSTs the same envelope, with the same 64 in flight
 *
 * Prints both rates and their ratio. Targets (issue 5): Tideway ≥ 5,000
 * deliveries/s and ≥ 1.5× the baseline.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { makeWorkerUtils, runMigrations } from 'graphile-worker';
import pg from 'pg';
import { openPostgres } from '../src/db/client.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { envelopeJson } from '../src/events/envelope.ts';
import { createIngestWriter } from '../src/events/ingest-writer.ts';
import type { NewEvent } from '../src/events/events.schema.ts';
import { createIntegration } from '../src/integrations/integrations.service.ts';
import { createSecretBox } from '../src/lib/crypto.ts';
import { Output, ROOT, startTideway, stopTideway } from '../test/helpers/process.ts';

const { values } = parseArgs({
  options: {
    deliveries: { type: 'string', default: '50000' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
  },
});
const TOTAL = Number(values.deliveries);
const INTEGRATIONS = 4;
const SECRET_KEY = randomBytes(32).toString('hex');
const NAMES = ['order.created', 'order.opened', 'order.completed', 'order.cancelled'];

async function startReceiver() {
  const proc = Bun.spawn(['bun', 'bench/receiver.ts'], { cwd: ROOT, stdout: 'pipe', stderr: 'inherit' });
  const out = new Output(proc.stdout);
  while (!out.logLines().some((line) => line.msg === 'receiver listening')) await Bun.sleep(20);
  const port = Number(out.logLines().find((line) => line.msg === 'receiver listening')!.port);
  const counts = async () =>
    (await (await fetch(`http://127.0.0.1:${port}/__counts`)).json()) as Record<string, number>;
  return { proc, port, counts };
}

function payloadOf(i: number) {
  return JSON.stringify({
    id: `ord-${i}`,
    channel: 'web',
    items: [{ product_id: 'SKU-1', quantity: 1, price: 19.99 }],
    note: 'x'.repeat(600),
  });
}

/** Times from the moment the system says it runs until every delivery has arrived (or is recorded). */
async function measure(label: string, done: () => Promise<number>, start: () => Promise<() => Promise<unknown>>) {
  const stop = await start();
  const started = performance.now();
  while ((await done()) < TOTAL) await Bun.sleep(100);
  const seconds = (performance.now() - started) / 1000;
  await stop();
  return { label, seconds, rate: TOTAL / seconds };
}

const admin = new pg.Client({ connectionString: `${values.pg}/postgres` });
await admin.connect();
const name = `tideway_bench_drain_${Date.now()}`;
await admin.query(`create database ${name}`);
const url = `${values.pg}/${name}`;
const keyDir = mkdtempSync(join(tmpdir(), 'tideway-bench-'));
const receiver = await startReceiver();
const results: { label: string; seconds: number; rate: number }[] = [];

try {
  const handle = openPostgres(url);
  await migrateToLatest(handle.db);
  const secrets = createSecretBox(SECRET_KEY);
  const signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
  for (let i = 0; i < INTEGRATIONS; i++) {
    await createIntegration(
      handle.db,
      secrets,
      {
        id: `bench-${i}`,
        integrationType: 'permanent',
        filter: { events: [NAMES[i]!] },
        signingSecret,
        target: { kind: 'webhook', callbackUrl: `http://127.0.0.1:${receiver.port}/tideway/${i}` },
      },
      'bench',
    );
  }

  // The backlog: TOTAL events, each matching exactly one integration, each with its pending delivery.
  const publishedAt = new Date(Date.now() + 1_000);
  const events: NewEvent[] = Array.from({ length: TOTAL }, (_, i) => {
    const payloadJson = payloadOf(i);
    return {
      id: randomUUID(),
      name: NAMES[i % INTEGRATIONS]!,
      entity: 'order',
      entityId: `ord-${i}`,
      domainEntityType: 'order',
      domainEntityId: `ord-${i}`,
      publishedAt,
      payloadJson,
      sizeBytes: payloadJson.length + 150,
    };
  });
  const writer = createIngestWriter(handle.db, 'default');
  for (let i = 0; i < TOTAL; i += 2_000) await writer.write(events.slice(i, i + 2_000));
  await Bun.sleep(1_100);

  const tideway = await measure(
    'Tideway (1 worker process)',
    async () => {
      // Counted through the small pending index, so that watching costs the database little.
      const { rows } = await sql<{ n: string }>`select count(*) as n from deliveries where status = 'pending'`.execute(
        handle.db,
      );
      return TOTAL - Number(rows[0]!.n);
    },
    async () => {
      const worker = await startTideway(
        { DATABASE_URL: url, DATA_DIR: keyDir, SECRET_KEY, ALLOW_PRIVATE_TARGETS: 'true' },
        45_000,
        ['--role', 'worker'],
      );
      return () => stopTideway(worker);
    },
  );
  const { rows: recorded } = await sql<{
    n: string;
  }>`select count(*) as n from delivery_attempts where outcome = 'success'`.execute(handle.db);
  if (Number(recorded[0]!.n) !== TOTAL) throw new Error(`expected ${TOTAL} recorded attempts, found ${recorded[0]!.n}`);
  results.push(tideway);

  // The baseline: the same envelopes as graphile-worker jobs.
  await runMigrations({ connectionString: url });
  const utils = await makeWorkerUtils({ connectionString: url });
  for (let i = 0; i < TOTAL; i += 5_000) {
    await utils.addJobs(
      events.slice(i, i + 5_000).map((event, j) => ({
        identifier: 'deliver',
        payload: {
          url: `http://127.0.0.1:${receiver.port}/graphile/${(i + j) % INTEGRATIONS}`,
          id: event.id,
          body: envelopeJson({
            id: event.id,
            tenant: 'default',
            name: event.name,
            publishedAt: event.publishedAt,
            payloadJson: event.payloadJson,
          }),
          secret: signingSecret,
        },
      })),
    );
  }
  await utils.release();
  const baseline = await measure(
    'graphile-worker, 1 job per delivery (64 in flight)',
    async () =>
      Object.entries(await receiver.counts())
        .filter(([path]) => path.startsWith('/graphile/'))
        .reduce((sum, [, count]) => sum + count, 0),
    async () => {
      const proc = Bun.spawn(['bun', 'bench/graphile-baseline.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: url, CONCURRENCY: '64' },
        stdout: 'pipe',
        stderr: 'inherit',
      });
      const out = new Output(proc.stdout);
      while (!out.text.includes('graphile-worker running')) await Bun.sleep(10);
      return async () => {
        proc.kill('SIGTERM');
        await proc.exited;
      };
    },
  );
  results.push(baseline);
  await handle.close();
} finally {
  receiver.proc.kill();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
  rmSync(keyDir, { recursive: true, force: true });
}

const [tideway, baseline] = results;
console.log(
  `\nwebhook drain: ${TOTAL.toLocaleString('en')} pending deliveries over ${INTEGRATIONS} integrations, PostgreSQL, receiver on loopback\n`,
);
console.log(`${'system'.padEnd(52)}  ${'seconds'.padStart(8)}  ${'deliveries/s'.padStart(12)}`);
console.log(`${'-'.repeat(52)}  ${'-'.repeat(8)}  ${'-'.repeat(12)}`);
for (const row of results)
  console.log(
    `${row.label.padEnd(52)}  ${row.seconds.toFixed(2).padStart(8)}  ${Math.round(row.rate).toLocaleString('en').padStart(12)}`,
  );
console.log(
  `\nTideway / baseline: ${(tideway!.rate / baseline!.rate).toFixed(2)}×   (targets: Tideway ≥ 5,000/s, ratio ≥ 1.5×)`,
);
process.exit(0);
