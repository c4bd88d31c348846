/*
 * bench/s3.ts — S3 batch delivery of a large backlog.
 *
 *   bun bench/s3.ts [--events 500000] [--pg postgres://postgres@127.0.0.1:5432]
 *
 * PostgreSQL; `--events` events of ~1 KB through one S3 integration with the
 * default 50 MB threshold, to s3rver on loopback (its own process). The S3
 * loop runs in this process, which measures: events/s from pending to
 * uploaded, and how far its RSS rises above the idle baseline while batches
 * are built and sent. One row per case: NDJSON plain, gzip and zstd;
 * Parquet with zstd; partitioned by hour and event name (events of four
 * names published over 3 hours), as NDJSON + zstd and as Parquet + zstd.
 * `--cases ndjson-zstd,parquet-zstd` runs some of them. Targets (issue 6):
 * ≥ 25,000 events/s, RSS growth ≤ 150 MB; (issue 17) NDJSON + zstd ≥ 30,000
 * events/s, RSS growth ≤ 150 MB; Parquet + zstd ≥ 20,000 events/s, RSS
 * growth ≤ 200 MB; partitioned ≥ 20,000 events/s.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.ts';
import { createS3Loop } from '../src/delivery/s3-loop.ts';
import { createIngestWriter } from '../src/events/ingest-writer.ts';
import type { NewEvent } from '../src/events/events.schema.ts';
import { envelopeSizeBytes } from '../src/events/envelope.ts';
import { createIntegration } from '../src/integrations/integrations.service.ts';
import { silentLogger } from '../src/lib/log.ts';
import { Output, ROOT } from '../test/helpers/process.ts';
import { benchDeployment, cpuMeter, row } from './lib.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    cases: { type: 'string' },
  },
});
const HIVE = '{key_prefix}/event_name={event_name}/dt={yyyy}-{MM}-{dd}/hour={HH}/{timestamp_ms}-{batch_id}';
const CASES = [
  { label: 'ndjson', format: 'ndjson', compression: 'none' },
  { label: 'ndjson-gzip', format: 'ndjson', compression: 'gzip' },
  { label: 'ndjson-zstd', format: 'ndjson', compression: 'zstd' },
  { label: 'parquet-zstd', format: 'parquet', compression: 'zstd' },
  { label: 'hive-ndjson-zstd', format: 'ndjson', compression: 'zstd', keyTemplate: HIVE },
  { label: 'hive-parquet-zstd', format: 'parquet', compression: 'zstd', keyTemplate: HIVE },
] as const;
const chosen = values.cases ? CASES.filter((entry) => values.cases!.split(',').includes(entry.label)) : CASES;
const NAMES = ['order.created', 'order.completed', 'fulfillment_request.assigned', 'return.processed'];
const HOUR = 3_600_000;
const EVENTS = Number(values.events);

const dir = mkdtempSync(join(tmpdir(), 'tideway-bench-s3-'));
const s3rver = Bun.spawn(['bun', 'bench/s3rver.ts'], {
  cwd: ROOT,
  env: { ...process.env, DIR: dir },
  stdout: 'pipe',
  stderr: 'inherit',
});
const out = new Output(s3rver.stdout);
while (!out.logLines().some((line) => line.msg === 's3rver listening')) await Bun.sleep(20);
const port = Number(out.logLines().find((line) => line.msg === 's3rver listening')!.port);
const endpoint = `http://127.0.0.1:${port}`;
const admin = new S3Client({
  region: 'us-east-1',
  endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
});
await admin.send(new CreateBucketCommand({ Bucket: 'lake' }));

const results: (string | number)[][] = [];
for (const entry of chosen) {
  const deployment = await benchDeployment(values.pg);
  try {
    const db = deployment.handle.db;
    const id = `lake-${entry.label}`;
    const partitioned = 'keyTemplate' in entry;
    await createIntegration(
      db,
      deployment.secrets,
      {
        id,
        integrationType: 'permanent',
        startsAt: new Date(Date.now() - 4 * HOUR),
        target: {
          kind: 's3',
          accessKeyId: 'S3RVER',
          secretAccessKey: 'S3RVER',
          region: 'us-east-1',
          bucket: 'lake',
          keyPrefix: id,
          endpoint,
          format: entry.format,
          compression: entry.compression,
          keyTemplate: partitioned ? entry.keyTemplate : null,
        },
      },
      'bench',
    );
    const writer = createIngestWriter(db, 'default');
    const publishedAt = new Date(Date.now() + 1_000);
    // Partitioned: over the 3 hours before now, names in turn.
    const spreadFrom = Date.now() - 3 * HOUR;
    for (let i = 0; i < EVENTS; i += 2_000) {
      await writer.write(
        Array.from({ length: Math.min(2_000, EVENTS - i) }, (_, j): NewEvent => {
          const payloadJson = JSON.stringify({
            id: `ord-${i + j}`,
            order_id: `ord-${i + j}`,
            items: [{ sku: 'SKU-1', quantity: 1, price: 9.99 }],
            note: 'x'.repeat(820),
          });
          const eventId = randomUUID();
          const name = partitioned ? NAMES[(i + j) % NAMES.length]! : 'order.created';
          return {
            id: eventId,
            name,
            entity: name.split('.')[0]!,
            entityId: `ord-${i + j}`,
            domainEntityType: 'order',
            domainEntityId: `ord-${i + j}`,
            publishedAt: partitioned ? new Date(spreadFrom + Math.floor(((i + j) * 3 * HOUR) / EVENTS)) : publishedAt,
            payloadJson,
            sizeBytes: envelopeSizeBytes({ id: eventId, tenant: 'default', name, payloadJson }),
          };
        }),
      );
    }
    await Bun.sleep(1_100);
    Bun.gc(true);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const loop = createS3Loop({
      db,
      copyOut: deployment.handle.copyOut,
      secrets: deployment.secrets,
      config: loadConfig({ ALLOW_PRIVATE_TARGETS: 'true' }),
      log: silentLogger,
    });
    const meter = cpuMeter({ tideway: 'bench/s3.ts', postgres: 'postgres: ', s3rver: 'bench/s3rver.ts' });
    const started = performance.now();
    for (;;) {
      await loop.runOnce();
      const { rows } = await sql<{ n: string }>`select count(*) as n from deliveries where status = 'pending'`.execute(
        db,
      );
      if (Number(rows[0]!.n) > 0 && Number(rows[0]!.n) * 1_000 < 52_428_800) {
        // The tail is below the threshold: cut it as the interval would (the benchmark does not wait 5 minutes).
        await sql`update integrations set last_batch_sent_at = now() - interval '1 hour' where id = ${id}`.execute(db);
        continue;
      }
      const { rows: left } = await sql<{
        n: string;
      }>`select count(*) as n from deliveries where status = 'pending'`.execute(db);
      if (Number(left[0]!.n) === 0) break;
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    const cpu = meter.stop();
    const cpuColumn = [cpu.tideway!, cpu.postgres!, cpu.s3rver!].map((value) => value.toFixed(1)).join(' / ');
    const batches = await db.selectFrom('s3_batches').select(['byte_count', 'object_keys']).execute();
    results.push([
      entry.label,
      EVENTS.toLocaleString('en'),
      batches.length,
      batches.reduce((sum, batch) => sum + batch.object_keys.length, 0),
      (Math.max(...batches.map((batch) => Number(batch.byte_count))) / 1_048_576).toFixed(1),
      seconds.toFixed(1),
      Math.round(EVENTS / seconds).toLocaleString('en'),
      ((peak - baseline) / 1_048_576).toFixed(0),
      cpuColumn,
    ]);
  } finally {
    await deployment.close();
  }
}
s3rver.kill();
rmSync(dir, { recursive: true, force: true });

const widths = [18, 9, 8, 8, 12, 8, 9, 13, 26];
console.log(`\nS3 batches: ~1 KB events, one integration, default 50 MB threshold, s3rver on loopback, PostgreSQL\n`);
console.log(
  row(
    [
      '',
      'events',
      'batches',
      'objects',
      'largest MiB',
      'seconds',
      'events/s',
      'RSS rise MiB',
      'CPU s Tideway/PG/s3rver',
    ],
    widths,
  ),
);
for (const result of results) console.log(row(result, widths));
console.log(
  '\ntargets: NDJSON ≥ 30,000 events/s, RSS rise ≤ 150 MB; Parquet + zstd ≥ 20,000 events/s, RSS rise ≤ 200 MB; partitioned ≥ 20,000 events/s (the machine has ' +
    navigator.hardwareConcurrency +
    ' cores for all three)',
);
process.exit(0);
