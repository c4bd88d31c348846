import type { DatabaseHandle } from '../db/client.ts';
import { CopyBinaryReader } from '../db/copy-binary.ts';
import { ENVELOPE_END, ENVELOPE_KEYS } from '../events/envelope.ts';
import { BATCH_COLUMN_COUNTS, type BatchColumns, batchEnvelopesQuery } from './s3-batches.repo.ts';

/*
 * A sealed batch's NDJSON, built as bytes straight from the database's
 * binary COPY output: each line is envelopeJson's text (src/events/envelope.ts)
 * and a newline, with the stored payload copied in as it is. Reading the
 * payloads as rows would turn ~50 MB per batch into strings only to encode
 * them again, and leave them for the garbage collector: RSS would rise with
 * the batch size, and decoding them was the S3 loop's largest CPU cost.
 */

export type CopyOut = DatabaseHandle['copyOut'];

/** A page of members holds about this much NDJSON (and at most PAGE_MEMBERS members). */
const PAGE_BYTES = 1024 * 1024;
const PAGE_MEMBERS = 1_000;

/** Members `from` to `to` of a sealed batch (1-based, inclusive): one of its objects. */
export interface MemberRange {
  from: number;
  to: number;
}

/** Where a page of COPY rows goes; cleared before each page. */
export interface PageSink {
  clear(): void;
  appendRow(row: Buffer, fields: Int32Array): void;
}

/**
 * A range of a batch's members as COPY rows, a page at a time, into two
 * sinks that take turns: the next page is read while this one is used. A
 * page's sink is valid until the next one is asked for, so memory stays at
 * two pages whatever the batch size.
 */
export async function* batchPages<Sink extends PageSink>(
  copyOut: CopyOut,
  batch: { id: string; event_count: number; byte_count: number },
  range: MemberRange,
  columns: BatchColumns,
  sinks: [Sink, Sink],
): AsyncGenerator<Sink> {
  const perPage = Math.max(
    1,
    Math.min(PAGE_MEMBERS, Math.floor(PAGE_BYTES / Math.max(1, batch.byte_count / batch.event_count))),
  );
  const read = (from: number, sink: Sink) => {
    const query = batchEnvelopesQuery(batch.id, from, Math.min(range.to, from + perPage - 1), columns);
    const page = readPage(copyOut, query, BATCH_COLUMN_COUNTS[columns], sink);
    page.catch(() => {}); // awaited below; not unhandled if the reader stops first
    return page;
  };
  let next = read(range.from, sinks[0]);
  for (let from = range.from, turn = 1; from <= range.to; from += perPage, turn++) {
    const page = await next;
    if (from + perPage <= range.to) next = read(from + perPage, sinks[turn % 2]!);
    yield page;
  }
}

/** A range of the batch's NDJSON lines, a page of bytes at a time (valid until the next page is asked for). */
export async function* batchLinePages(
  copyOut: CopyOut,
  batch: { id: string; event_count: number; byte_count: number },
  range: MemberRange = { from: 1, to: batch.event_count },
): AsyncGenerator<Buffer> {
  for await (const lines of batchPages(copyOut, batch, range, 'envelope', [new LineBuffer(), new LineBuffer()]))
    yield lines.view();
}

async function readPage<Sink extends PageSink>(
  copyOut: CopyOut,
  query: string,
  fieldCount: number,
  sink: Sink,
): Promise<Sink> {
  sink.clear();
  const reader = new CopyBinaryReader(fieldCount, (bytes, fields) => sink.appendRow(bytes, fields));
  await copyOut(query, (chunk) => reader.push(chunk));
  reader.end();
  return sink;
}

const ascii = (text: string) => Buffer.from(text, 'latin1');
// The envelope's text between fields; id and published_at are quoted here, tenant and name by appendJsonString.
const ID_OPEN = ascii(`${ENVELOPE_KEYS.id}"`);
const TENANT = ascii(`"${ENVELOPE_KEYS.tenant}`);
const NAME = ascii(ENVELOPE_KEYS.name);
const PUBLISHED_AT = ascii(`${ENVELOPE_KEYS.publishedAt}"`);
const PAYLOAD = ascii(`"${ENVELOPE_KEYS.payload}`);
const LINE_END = ascii(`${ENVELOPE_END}\n`);
/** A line's bytes besides tenant, name and payload: the frame, a UUID, an ISO time, tenant's and name's quotes. */
const LINE_FRAME_BYTES =
  ID_OPEN.length + TENANT.length + NAME.length + PUBLISHED_AT.length + PAYLOAD.length + LINE_END.length + 36 + 24 + 4;
/** Lower-case hex digits of every byte value, as ASCII codes. */
const HEX = Buffer.from(
  Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0')).join(''),
  'latin1',
);
/** PostgreSQL timestamps count microseconds from 2000-01-01 UTC. */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/** Writes a binary uuid (16 bytes) as 8-4-4-4-12 lower-case hex, as PostgreSQL and randomUUID write it; returns the end. */
export function writeUuidText(out: Buffer, at: number, row: Buffer, start: number): number {
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[at++] = 0x2d;
    const byte = row[start + i]!;
    out[at++] = HEX[2 * byte]!;
    out[at++] = HEX[2 * byte + 1]!;
  }
  return at;
}

/** A binary timestamptz: microseconds since 2000-01-01 UTC. */
export const timestampMicros = (row: Buffer, start: number) =>
  row.readInt32BE(start) * 2 ** 32 + row.readUInt32BE(start + 4);

/** Microseconds since 2000 as milliseconds since the epoch, rounded down as Date#toISOString shows them. */
export const epochMsOfMicros = (micros: number) => PG_EPOCH_MS + Math.floor(micros / 1000);

/** A growable byte buffer of NDJSON lines, reused page after page. */
class LineBuffer implements PageSink {
  private bytes = Buffer.allocUnsafe(PAGE_BYTES + 64 * 1024);
  private length = 0;
  private lastMicros = NaN;
  private lastIso = '';

  clear() {
    this.length = 0;
  }

  view(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  /** Appends the envelope line of a COPY row (id uuid, tenant, name, published_at timestamptz, payload). */
  appendRow(row: Buffer, fields: Int32Array) {
    // Enough unless tenant or name needs escaping, which reserves for itself.
    this.reserve(LINE_FRAME_BYTES + fields[3]! - fields[2]! + fields[5]! - fields[4]! + fields[9]! - fields[8]!);
    this.append(ID_OPEN, 0, ID_OPEN.length);
    this.appendUuid(row, fields[0]!);
    this.append(TENANT, 0, TENANT.length);
    this.appendJsonString(row, fields[2]!, fields[3]!);
    this.append(NAME, 0, NAME.length);
    this.appendJsonString(row, fields[4]!, fields[5]!);
    this.append(PUBLISHED_AT, 0, PUBLISHED_AT.length);
    this.appendIsoTime(row, fields[6]!);
    this.append(PAYLOAD, 0, PAYLOAD.length);
    this.append(row, fields[8]!, fields[9]!);
    this.append(LINE_END, 0, LINE_END.length);
  }

  private reserve(extra: number) {
    if (this.length + extra <= this.bytes.length) return;
    const larger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + extra));
    this.bytes.copy(larger, 0, 0, this.length);
    this.bytes = larger;
  }

  private append(source: Buffer, start: number, end: number) {
    this.length += source.copy(this.bytes, this.length, start, end);
  }

  private appendUuid(row: Buffer, start: number) {
    this.length = writeUuidText(this.bytes, this.length, row, start);
  }

  /**
   * A text field as a JSON string: tenant and name are checked against
   * plain ASCII patterns, so their bytes are copied between quotes; anything
   * else is escaped as JSON.stringify would.
   */
  private appendJsonString(row: Buffer, start: number, end: number) {
    for (let i = start; i < end; i++) {
      const byte = row[i]!;
      if (byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c) {
        const escaped = Buffer.from(JSON.stringify(row.toString('utf8', start, end)));
        this.reserve(escaped.length);
        this.append(escaped, 0, escaped.length);
        return;
      }
    }
    this.bytes[this.length++] = 0x22;
    this.append(row, start, end);
    this.bytes[this.length++] = 0x22;
  }

  /** A timestamptz (int64 µs since 2000) as Date#toISOString writes it: to the millisecond, rounded down. */
  private appendIsoTime(row: Buffer, start: number) {
    const micros = timestampMicros(row, start);
    if (micros !== this.lastMicros) {
      this.lastMicros = micros;
      this.lastIso = new Date(epochMsOfMicros(micros)).toISOString();
    }
    this.length += this.bytes.write(this.lastIso, this.length, 'latin1');
  }
}
