/*
 * bench/parquet-writers.ts — which Parquet writer S3 batches use (issue 17).
 *
 *   bun add --no-save parquet-wasm apache-arrow @dsnp/parquetjs@1.8.7
 *   bun bench/parquet-writers.ts [--rows 100000]
 *
 * The same rows (the S3 Parquet schema; ~1 KB payloads) written in row
 * groups of 16,000 with zstd by each candidate, one after the other in this
 * process: rows/s (from the rows in memory to the file's bytes), file size,
 * and whether DuckDB reads every row back. Memory is measured where it
 * matters, in bench/s3.ts. hyparquet-writer is Tideway's dependency; the others are installed
 * only for this comparison (without --no-save they would land in
 * package.json). @dsnp/parquetjs 1.9.3, the current release, ships without
 * its code, and no release has zstd: it is given one here, so that all
 * three compress alike.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { ByteWriter, type ColumnSource, ParquetWriter } from 'hyparquet-writer';
import { fileSchema } from '../src/delivery/s3-parquet.ts';
import { row } from './lib.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' } } });
const ROWS = Number(values.rows);
const GROUP = 16_000;
const NAMES = ['order.created', 'order.completed', 'fulfillment_request.assigned', 'return.processed'];
const start = Date.UTC(2026, 10, 30);
const events = Array.from({ length: ROWS }, (_, i) => {
  const name = NAMES[i % NAMES.length]!;
  return {
    id: randomUUID(),
    tenant: 'acme',
    name,
    publishedMs: start + i * 10,
    entity: name.split('.')[0]!,
    entityId: `ord-${i}`,
    domainEntityType: 'order',
    domainEntityId: `ord-${i % 5_000}`,
    payload: JSON.stringify({
      id: `ord-${i}`,
      items: Array.from({ length: 6 }, (_, j) => ({
        sku: `SKU-${(i * 7 + j) % 997}`,
        quantity: j + 1,
        price: 10.5 + j,
      })),
      note: 'x'.repeat(600),
    }),
  };
});
type Event = (typeof events)[number];
const dir = mkdtempSync(join(tmpdir(), 'tideway-parquet-writers-'));

/** Writes `events` with one writer to `file`; resolves once the file is complete. */
type Candidate = (file: string) => Promise<void>;

const hyparquet: Candidate = async (file) => {
  const encoder = new TextEncoder();
  const schema = fileSchema();
  const chunks: Uint8Array[] = [];
  const writer = new ByteWriter();
  const flush = () => {
    chunks.push(new Uint8Array(writer.buffer.slice(0, writer.index)));
    writer.index = 0;
  };
  Object.assign(writer, { flush, finish: flush });
  const parquet = new ParquetWriter({
    writer,
    schema,
    codec: 'ZSTD',
    compressors: { ZSTD: (bytes) => Bun.zstdCompressSync(bytes) },
  });
  const bytes = (pick: (event: Event) => string) => (group: Event[]) =>
    group.map((event) => encoder.encode(pick(event)));
  for (let i = 0; i < ROWS; i += GROUP) {
    const group = events.slice(i, i + GROUP);
    const columns: ColumnSource[] = [
      { name: 'id', data: bytes((event) => event.id)(group), encoding: 'PLAIN', statistics: false },
      { name: 'tenant', data: bytes((event) => event.tenant)(group) },
      { name: 'name', data: bytes((event) => event.name)(group) },
      { name: 'published_at', data: BigInt64Array.from(group, (event) => BigInt(event.publishedMs)) },
      { name: 'entity', data: bytes((event) => event.entity)(group) },
      { name: 'entity_id', data: bytes((event) => event.entityId)(group), encoding: 'PLAIN', statistics: false },
      { name: 'domain_entity_type', data: bytes((event) => event.domainEntityType)(group) },
      { name: 'domain_entity_id', data: bytes((event) => event.domainEntityId)(group), statistics: false },
      { name: 'payload', data: bytes((event) => event.payload)(group), encoding: 'PLAIN', statistics: false },
    ];
    await parquet.write({ columnData: columns, rowGroupSize: group.length });
  }
  schema.find((element) => element.name === 'payload')!.converted_type = 'JSON';
  await parquet.finish();
  await Bun.write(file, Buffer.concat(chunks));
};

const parquetWasm: Candidate = async (file) => {
  const arrow = await import('apache-arrow' as string);
  const wasm = await import('parquet-wasm/node' as string);
  const properties = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression.ZSTD)
    .setMaxRowGroupSize(GROUP)
    .build();
  // parquet-wasm writes a whole Arrow table at once (streaming takes a stream of RecordBatches of one schema).
  const table = arrow.tableFromArrays({
    id: events.map((event) => event.id),
    tenant: events.map((event) => event.tenant),
    name: events.map((event) => event.name),
    published_at: arrow.vectorFromArray(
      events.map((event) => new Date(event.publishedMs)),
      new arrow.TimestampMillisecond(),
    ),
    entity: events.map((event) => event.entity),
    entity_id: events.map((event) => event.entityId),
    domain_entity_type: events.map((event) => event.domainEntityType),
    domain_entity_id: events.map((event) => event.domainEntityId),
    payload: events.map((event) => event.payload),
  });
  const bytes = wasm.writeParquet(wasm.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), properties);
  await Bun.write(file, bytes);
};

const dsnp: Candidate = async (file) => {
  const parquet = await import('@dsnp/parquetjs' as string);
  const { PARQUET_COMPRESSION_METHODS } = await import('@dsnp/parquetjs/dist/lib/compression.js' as string);
  PARQUET_COMPRESSION_METHODS.ZSTD ??= {
    deflate: (value: Buffer) => Buffer.from(Bun.zstdCompressSync(value)),
    inflate: (value: Buffer) => Buffer.from(Bun.zstdDecompressSync(value)),
  };
  const field = (type: string) => ({ type, compression: 'ZSTD' });
  const schema = new parquet.ParquetSchema({
    id: field('UTF8'),
    tenant: field('UTF8'),
    name: field('UTF8'),
    published_at: field('TIMESTAMP_MILLIS'),
    entity: field('UTF8'),
    entity_id: field('UTF8'),
    domain_entity_type: field('UTF8'),
    domain_entity_id: field('UTF8'),
    payload: field('UTF8'),
  });
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const writer = await parquet.ParquetWriter.openStream(schema, sink, { rowGroupSize: GROUP });
  for (const event of events) {
    await writer.appendRow({
      id: event.id,
      tenant: event.tenant,
      name: event.name,
      published_at: new Date(event.publishedMs),
      entity: event.entity,
      entity_id: event.entityId,
      domain_entity_type: event.domainEntityType,
      domain_entity_id: event.domainEntityId,
      payload: event.payload,
    });
  }
  await writer.close();
  await Bun.write(file, Buffer.concat(chunks));
};

const duckdb = await (await DuckDBInstance.create(':memory:')).connect();
const results: (string | number)[][] = [];
for (const [label, candidate] of [
  ['hyparquet-writer', hyparquet],
  ['parquet-wasm', parquetWasm],
  ['@dsnp/parquetjs', dsnp],
] as const) {
  const file = join(dir, `${label.replace(/\W/g, '-')}.parquet`);
  Bun.gc(true);
  const started = performance.now();
  try {
    await candidate(file);
  } catch (error) {
    results.push([label, `not run: ${(error as Error).message.split('\n')[0]}`, '', '']);
    continue;
  }
  const seconds = (performance.now() - started) / 1000;
  const [read] = (
    await duckdb.runAndReadAll(`select count(distinct id)::int as rows from read_parquet('${file}')`)
  ).getRowObjectsJson();
  results.push([
    label,
    Math.round(ROWS / seconds).toLocaleString('en'),
    (Bun.file(file).size / 1_048_576).toFixed(1),
    `${read!.rows} of ${ROWS}`,
  ]);
}
duckdb.closeSync();
rmSync(dir, { recursive: true, force: true });

const widths = [18, 12, 9, 20];
console.log(`\nParquet writers: ${ROWS.toLocaleString('en')} events (~1 KB payloads), row groups of ${GROUP}, zstd\n`);
console.log(row(['', 'rows/s', 'MiB out', 'DuckDB reads'], widths));
for (const result of results) console.log(row(result, widths));
