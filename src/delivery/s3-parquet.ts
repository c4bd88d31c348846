import { gzipSync } from 'node:zlib';
import { ByteWriter, type ColumnSource, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import type { S3Compression } from '../db/database.ts';
import { epochMsOfMicros, type PageSink, timestampMicros, writeUuidText } from './s3-batch-lines.ts';

/*
 * A batch's events as one Parquet file, one row per event:
 *
 *   id, tenant, name (strings), published_at (TIMESTAMP, ms, UTC),
 *   entity, entity_id, domain_entity_type, domain_entity_id (strings; the
 *   last three may be null), payload (the event's JSON, JSON logical type)
 *
 * Rows arrive as COPY pages (batchPages with the 'parquet' columns) and
 * are copied into a row group until it holds ROW_GROUP_BYTES; the group is
 * then encoded, compressed page by page (zstd, gzip or none) and handed to
 * the object writer, so memory is bounded by a row group whatever the
 * batch size. The same rows always give the same bytes.
 *
 * Written with hyparquet-writer, chosen by measurement (bun
 * bench/parquet-writers.ts, 100,000 events, zstd): 44,000–58,000 rows/s on
 * this 2-core machine under load, 2–3 times parquet-wasm (19,000–29,000,
 * which also takes the rows as an Arrow table) and @dsnp/parquetjs
 * (18,000–22,000; its current release ships without its code, and it has
 * no zstd); all three files read back whole in DuckDB.
 */

/** A row group is written once its fields hold about this many bytes (or ROW_GROUP_ROWS rows). */
const ROW_GROUP_BYTES = 8 * 1024 * 1024;
const ROW_GROUP_ROWS = 100_000;

const text = (name: string, optional = false): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: optional ? 'OPTIONAL' : 'REQUIRED',
});

/** The byte-array columns, in the order of the COPY row's fields (published_at is the fourth field). */
const BYTE_COLUMNS = [
  'id',
  'tenant',
  'name',
  'entity',
  'entity_id',
  'domain_entity_type',
  'domain_entity_id',
  'payload',
] as const;
/** Each byte column's field in the COPY row (id uuid, tenant, name, published_at, entity, …, payload). */
const FIELD_OF = [0, 1, 2, 4, 5, 6, 7, 8] as const;
/** A row's [start, end) bounds: two per byte column. */
const ROW_BOUNDS = 2 * BYTE_COLUMNS.length;
/** Columns whose min and max would say nothing useful to a reader: no statistics. */
const NO_STATISTICS = new Set<string>(['id', 'entity_id', 'domain_entity_id', 'payload']);

/** The file's schema (a fresh copy: writeParquet marks its payload column JSON once the rows are written). */
export function fileSchema(): SchemaElement[] {
  return [
    { name: 'schema', num_children: 9 },
    text('id'),
    text('tenant'),
    text('name'),
    {
      name: 'published_at',
      type: 'INT64',
      repetition_type: 'REQUIRED',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
    },
    text('entity'),
    text('entity_id', true),
    text('domain_entity_type', true),
    text('domain_entity_id', true),
    // converted_type JSON is added before the footer is written (see writeParquet).
    { name: 'payload', type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', logical_type: { type: 'JSON' } },
  ];
}

/**
 * Events as columns in one growable arena: each byte column's values as
 * [start, end) into it (start -1: null), published_at as epoch ms. Used
 * for a COPY page (a PageSink) and for the row group the pages fill.
 */
export class EventRows implements PageSink {
  private bytes: Buffer;
  private length = 0;
  private bounds: Int32Array;
  private publishedMs: Float64Array;
  rows = 0;

  /** Sized for `bytes` of fields in `rows` rows; it grows past them when it must. */
  constructor(bytes: number, rows: number) {
    this.bytes = Buffer.allocUnsafe(bytes);
    this.bounds = new Int32Array(ROW_BOUNDS * rows);
    this.publishedMs = new Float64Array(rows);
  }

  get byteLength(): number {
    return this.length;
  }

  clear() {
    this.length = 0;
    this.rows = 0;
  }

  appendRow(row: Buffer, fields: Int32Array) {
    this.reserveRows(1);
    this.reserveBytes(36 + fields[17]! - fields[2]!);
    const at = this.rows * ROW_BOUNDS;
    for (let column = 0; column < BYTE_COLUMNS.length; column++) {
      const field = FIELD_OF[column]!;
      const start = fields[2 * field]!;
      const end = fields[2 * field + 1]!;
      const bound = at + 2 * column;
      if (start < 0) {
        this.bounds[bound] = -1;
        this.bounds[bound + 1] = -1;
        continue;
      }
      this.bounds[bound] = this.length;
      // The id is a binary uuid, written as its text.
      this.length =
        column === 0
          ? writeUuidText(this.bytes, this.length, row, start)
          : this.length + row.copy(this.bytes, this.length, start, end);
      this.bounds[bound + 1] = this.length;
    }
    this.publishedMs[this.rows] = epochMsOfMicros(timestampMicros(row, fields[6]!));
    this.rows++;
  }

  /** Where a row's bytes start (its id, never null, comes first); for `rows`, where the last one ends. */
  private rowStart(row: number): number {
    return row < this.rows ? this.bounds[row * ROW_BOUNDS]! : this.length;
  }

  /** The end of the rows from `from` that fit in `room` more bytes and `maxRows` more rows: at least one. */
  rowsFitting(from: number, room: number, maxRows: number): number {
    let to = from + 1;
    const limit = Math.min(this.rows, from + maxRows);
    while (to < limit && this.rowStart(to + 1) - this.rowStart(from) <= room) to++;
    return to;
  }

  /** Appends rows `from` to `to` (exclusive) of another set: a page's rows onto the row group. */
  appendRows(other: EventRows, from: number, to: number) {
    const start = other.rowStart(from);
    const end = other.rowStart(to);
    this.reserveRows(to - from);
    this.reserveBytes(end - start);
    other.bytes.copy(this.bytes, this.length, start, end);
    const shift = this.length - start;
    const at = this.rows * ROW_BOUNDS - from * ROW_BOUNDS;
    for (let i = from * ROW_BOUNDS; i < to * ROW_BOUNDS; i++) {
      const bound = other.bounds[i]!;
      this.bounds[at + i] = bound < 0 ? -1 : bound + shift;
    }
    this.publishedMs.set(other.publishedMs.subarray(from, to), this.rows);
    this.length += end - start;
    this.rows += to - from;
  }

  /** The rows as hyparquet-writer's column data: views into the arena, valid until it is cleared. */
  columns(): ColumnSource[] {
    const byteColumns = BYTE_COLUMNS.map((name, column): ColumnSource => {
      const values: (Uint8Array | null)[] = new Array(this.rows);
      for (let row = 0; row < this.rows; row++) {
        const bound = row * ROW_BOUNDS + 2 * column;
        const start = this.bounds[bound]!;
        values[row] = start < 0 ? null : this.bytes.subarray(start, this.bounds[bound + 1]!);
      }
      return {
        name,
        data: values,
        ...(NO_STATISTICS.has(name) ? { statistics: false, encoding: 'PLAIN' as const } : {}),
      };
    });
    const published: ColumnSource = {
      name: 'published_at',
      data: BigInt64Array.from(this.publishedMs.subarray(0, this.rows), (ms) => BigInt(ms)),
    };
    return [...byteColumns.slice(0, 3), published, ...byteColumns.slice(3)];
  }

  private reserveRows(extra: number) {
    const needed = this.rows + extra;
    if (needed <= this.publishedMs.length) return;
    const capacity = Math.max(needed, 2 * this.publishedMs.length);
    const bounds = new Int32Array(ROW_BOUNDS * capacity);
    bounds.set(this.bounds);
    this.bounds = bounds;
    const published = new Float64Array(capacity);
    published.set(this.publishedMs);
    this.publishedMs = published;
  }

  private reserveBytes(extra: number) {
    if (this.length + extra <= this.bytes.length) return;
    const larger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + extra));
    this.bytes.copy(larger, 0, 0, this.length);
    this.bytes = larger;
  }
}

/** Where the file's bytes go: the object writer (S3), which has taken a write in once it resolves. */
export interface ByteSink {
  write(bytes: Buffer): Promise<void>;
}

/** hyparquet-writer's buffer, handed to the sink after each row group and at the end. */
class SinkWriter extends ByteWriter {
  constructor(
    private readonly sink: ByteSink,
    buffer: ArrayBuffer,
  ) {
    super(0);
    this.buffer = buffer;
    this.view = new DataView(buffer);
  }

  async flush(): Promise<void> {
    if (this.index === 0) return;
    await this.sink.write(Buffer.from(this.buffer, 0, this.index));
    this.index = 0;
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

const CODECS = { none: 'UNCOMPRESSED', gzip: 'GZIP', zstd: 'ZSTD' } as const;

/**
 * hyparquet-writer encodes each page into buffers of its own (~2 bytes of
 * garbage per byte written), which the garbage collector, paced by the JS
 * heap rather than by these buffers, frees late: RSS rose 216 MiB over a
 * 500,000-event backlog. So after a row group, once RSS has grown this much
 * since the last collection, one is run (~50 ms; bench/s3.ts: RSS rise
 * 81 MiB collecting after every group, at ~1 % of the CPU time).
 */
const COLLECT_AFTER_GROWTH = 48 * 1024 * 1024;
let rssAfterCollection = 0;

function collectIfGrown() {
  if (process.memoryUsage.rss() < rssAfterCollection + COLLECT_AFTER_GROWTH) return;
  Bun.gc(true);
  rssAfterCollection = process.memoryUsage.rss();
}

/**
 * What one Parquet upload works in: two COPY pages, the row group they
 * fill and the encoded output. Sized once and reused by the next upload,
 * since buffers freed per upload would wait for a garbage collection and
 * RSS would climb by their sum meanwhile (bench/s3.ts).
 */
interface Scratch {
  pages: [EventRows, EventRows];
  group: EventRows;
  output: ArrayBuffer;
}
const spareScratch: Scratch[] = [];

function takeScratch(): Scratch {
  const pageBytes = 1024 * 1024 + 64 * 1024;
  return (
    spareScratch.pop() ?? {
      pages: [new EventRows(pageBytes, 1_000), new EventRows(pageBytes, 1_000)],
      group: new EventRows(ROW_GROUP_BYTES + pageBytes, 16_384),
      output: new ArrayBuffer(4 * 1024 * 1024),
    }
  );
}

function returnScratch(scratch: Scratch) {
  scratch.group.clear();
  if (spareScratch.length < 2) spareScratch.push(scratch); // one per uploader; the rest go
}

/**
 * Writes the rows read into two page sinks by `readPages` (batchPages) as
 * one Parquet file to `sink`, compressed inside its pages.
 */
export async function writeParquet(
  readPages: (sinks: [EventRows, EventRows]) => AsyncIterable<EventRows>,
  sink: ByteSink,
  compression: S3Compression,
  rowGroupBytes = ROW_GROUP_BYTES,
): Promise<void> {
  const scratch = takeScratch();
  try {
    await writeFile(readPages(scratch.pages), scratch, sink, compression, Math.min(rowGroupBytes, ROW_GROUP_BYTES));
  } finally {
    returnScratch(scratch);
  }
}

async function writeFile(
  pages: AsyncIterable<EventRows>,
  scratch: Scratch,
  sink: ByteSink,
  compression: S3Compression,
  rowGroupBytes: number,
) {
  const schema = fileSchema();
  const writer = new SinkWriter(sink, scratch.output);
  const file = new ParquetWriter({
    writer,
    schema,
    codec: CODECS[compression],
    compressors: { ZSTD: (bytes) => Bun.zstdCompressSync(bytes), GZIP: (bytes) => gzipSync(bytes) },
    createdBy: 'Tideway',
  });
  const { group } = scratch;
  const writeGroup = async () => {
    await file.write({ columnData: group.columns(), rowGroupSize: group.rows });
    group.clear();
    collectIfGrown();
  };
  for await (const page of pages) {
    // Row by row where a page crosses the bound, so a row group holds about rowGroupBytes whatever the page size.
    for (let from = 0; from < page.rows; ) {
      const to = page.rowsFitting(from, rowGroupBytes - group.byteLength, ROW_GROUP_ROWS - group.rows);
      group.appendRows(page, from, to);
      from = to;
      if (group.byteLength >= rowGroupBytes || group.rows >= ROW_GROUP_ROWS) await writeGroup();
    }
  }
  if (group.rows > 0) await writeGroup();
  // hyparquet-writer would re-serialise a JSON column's values from JS
  // objects; the payloads are JSON text already, so they are written as
  // bytes and the column is marked JSON (logical and converted type, which
  // DuckDB reads as JSON) in the footer only.
  schema.find((element) => element.name === 'payload')!.converted_type = 'JSON';
  await file.finish();
  scratch.output = writer.buffer; // as large as it had to grow
}
