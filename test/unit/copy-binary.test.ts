import { expect, test } from 'bun:test';
import fc from 'fast-check';
import { CopyBinaryReader } from '../../src/db/copy-binary.ts';

/* PostgreSQL's binary COPY format, encoded by hand as the server writes it. */

type Row = (Buffer | null)[];

function encode(rows: Row[], headerExtension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [
    Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'),
    int32(0),
    int32(headerExtension.length),
    headerExtension,
  ];
  for (const row of rows) {
    parts.push(int16(row.length));
    for (const field of row) parts.push(...(field === null ? [int32(-1)] : [int32(field.length), field]));
  }
  parts.push(int16(-1));
  return Buffer.concat(parts);
}

const int16 = (value: number) => Buffer.from([(value >> 8) & 0xff, value & 0xff]);
const int32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
};

function read(fieldCount: number, chunks: Buffer[]): Row[] {
  const rows: Row[] = [];
  const reader = new CopyBinaryReader(fieldCount, (bytes, fields) => {
    rows.push(
      Array.from({ length: fieldCount }, (_, i) =>
        fields[2 * i] === -1 ? null : Buffer.from(bytes.subarray(fields[2 * i], fields[2 * i + 1])),
      ),
    );
  });
  for (const chunk of chunks) reader.push(chunk);
  reader.end();
  return rows;
}

function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const position of [...positions, bytes.length]) {
    chunks.push(bytes.subarray(from, position));
    from = position;
  }
  return chunks;
}

test('rows come out whole and in order however the output is cut into chunks', () => {
  const field = fc.option(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    { nil: null },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(field, field, field), { maxLength: 40 }),
      fc.uint8Array({ maxLength: 8 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (rows, extension, cuts) => {
        const bytes = encode(rows, Buffer.from(extension));
        expect(read(3, splitAt(bytes, cuts))).toEqual(rows);
      },
    ),
  );
});

test('one byte at a time, and a row larger than the carry buffer', () => {
  const rows: Row[] = [
    [Buffer.from('a'), Buffer.alloc(200_000, 7)],
    [null, Buffer.from('ü')],
  ];
  const bytes = encode(rows);
  expect(
    read(
      2,
      [...bytes].map((byte) => Buffer.from([byte])),
    ),
  ).toEqual(rows);
  expect(read(2, splitAt(bytes, [5, 70_000, 140_000]))).toEqual(rows);
});

test('no rows: just the header and the trailer', () => {
  expect(read(2, [encode([])])).toEqual([]);
});

test('output that is not binary COPY, ends early, or goes on after the trailer is an error', () => {
  expect(() => read(1, [Buffer.from('id\tname\n1\tx\n')])).toThrow('bad signature');
  const bytes = encode([[Buffer.from('x')]]);
  expect(() => read(1, [bytes.subarray(0, bytes.length - 3)])).toThrow('ended in the middle of a row');
  expect(() => read(1, [bytes, Buffer.from([0])])).toThrow('after its trailer');
  expect(() => read(2, [bytes])).toThrow('1 fields; expected 2');
});
