/*
 * PostgreSQL's binary COPY format, read without turning fields into
 * strings: a large export (an S3 batch's payloads) is copied from the
 * wire into its destination as bytes. The format: an 11-byte signature,
 * flags and a header extension; then per row an int16 field count and per
 * field an int32 length (-1 for NULL) and its bytes; -1 as the field count
 * ends it. https://www.postgresql.org/docs/current/sql-copy.html
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_FIXED = SIGNATURE.length + 8; // flags, extension length

/**
 * Parses COPY … (FORMAT binary) output fed in chunks cut anywhere. For each
 * row it calls `onRow(bytes, fields)` where field i is
 * `bytes[fields[2i] .. fields[2i+1])` (both -1 for NULL); the view is only
 * valid during the call.
 *
 * @example
 *   const reader = new CopyBinaryReader(2, (bytes, f) => out.push(bytes.toString('utf8', f[2], f[3])));
 *   for (const chunk of chunks) reader.push(chunk);
 *   reader.end();
 */
export class CopyBinaryReader {
  readonly #fields: Int32Array;
  #carryBuffer = Buffer.allocUnsafe(64 * 1024);
  #carried = 0;
  #headerRead = false;
  #ended = false;

  constructor(
    private readonly fieldCount: number,
    private readonly onRow: (bytes: Buffer, fields: Int32Array) => void,
  ) {
    this.#fields = new Int32Array(fieldCount * 2);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#ended) throw new Error('COPY output continues after its trailer');
    let position = 0;
    if (this.#carried > 0) {
      // A row split across chunks is completed in the carry buffer (reused,
      // not reallocated per chunk); the rows after it are read in place.
      const before = this.#carried;
      this.#carry(chunk, 0);
      const end = this.#parse(this.#carryBuffer, 0, this.#carried, 1);
      if (end <= before) {
        // No row completed (at most the header did): all of the chunk stays carried.
        this.#carryBuffer.copyWithin(0, end, this.#carried);
        this.#carried -= end;
        return;
      }
      position = end - before;
      this.#carried = 0;
    }
    const end = this.#parse(chunk, position, chunk.length, Infinity);
    if (end < chunk.length) {
      if (this.#ended) throw new Error('COPY output continues after its trailer');
      this.#carry(chunk, end);
    }
  }

  /** Throws unless the output ended with its trailer. */
  end(): void {
    if (!this.#ended) throw new Error('COPY output ended in the middle of a row');
  }

  /** Reads the header if due and up to `maxRows` whole rows of `bytes[start, limit)`; returns where it stopped. */
  #parse(bytes: Buffer, start: number, limit: number, maxRows: number): number {
    let position = start;
    if (!this.#headerRead) {
      position = this.#readHeader(bytes, position, limit);
      if (position < 0) return start;
    }
    for (let rows = 0; rows < maxRows && !this.#ended; rows++) {
      const next = this.#readRow(bytes, position, limit);
      if (next < 0) break;
      position = next;
    }
    return position;
  }

  /** Appends `chunk[from..]` to the carried bytes. */
  #carry(chunk: Buffer, from: number) {
    const needed = this.#carried + chunk.length - from;
    if (needed > this.#carryBuffer.length) {
      const larger = Buffer.allocUnsafe(Math.max(needed, 2 * this.#carryBuffer.length));
      this.#carryBuffer.copy(larger, 0, 0, this.#carried);
      this.#carryBuffer = larger;
    }
    this.#carried += chunk.copy(this.#carryBuffer, this.#carried, from);
  }

  /** The position after the header, or -1 while it is incomplete. */
  #readHeader(bytes: Buffer, start: number, limit: number): number {
    const signature = bytes.subarray(start, Math.min(limit, start + SIGNATURE.length));
    if (!signature.equals(SIGNATURE.subarray(0, signature.length)))
      throw new Error('not PostgreSQL binary COPY output (bad signature)');
    if (limit - start < HEADER_FIXED) return -1;
    const end = start + HEADER_FIXED + bytes.readUInt32BE(start + SIGNATURE.length + 4);
    if (limit < end) return -1;
    this.#headerRead = true;
    return end;
  }

  /** Reads the row at `position` and returns the position after it, or -1 while it is incomplete. */
  #readRow(bytes: Buffer, position: number, limit: number): number {
    if (limit - position < 2) return -1;
    const count = bytes.readInt16BE(position);
    if (count === -1) {
      this.#ended = true;
      return position + 2;
    }
    if (count !== this.fieldCount) throw new Error(`COPY row has ${count} fields; expected ${this.fieldCount}`);
    let at = position + 2;
    for (let field = 0; field < count; field++) {
      if (limit - at < 4) return -1;
      const length = bytes.readInt32BE(at);
      at += 4;
      if (length === -1) {
        this.#fields[2 * field] = this.#fields[2 * field + 1] = -1;
        continue;
      }
      if (limit - at < length) return -1;
      this.#fields[2 * field] = at;
      this.#fields[2 * field + 1] = at + length;
      at += length;
    }
    this.onRow(bytes, this.#fields);
    return at;
  }
}
