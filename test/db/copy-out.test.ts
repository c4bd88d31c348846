import { expect, test } from 'bun:test';
import { sql } from 'kysely';
import { CopyBinaryReader } from '../../src/db/copy-binary.ts';
import { useTestDatabase } from '../helpers/database.ts';

/* The database handle's COPY export, on PGlite and on PostgreSQL. */

const database = useTestDatabase();

async function rows(select: string): Promise<string[][]> {
  const out: string[][] = [];
  const reader = new CopyBinaryReader(2, (bytes, fields) =>
    out.push([bytes.toString('utf8', fields[0], fields[1]), bytes.toString('utf8', fields[2], fields[3])]),
  );
  await database().copyOut(select, (chunk) => reader.push(chunk));
  reader.end();
  return out;
}

test('rows of a query come out in its order, as binary COPY', async () => {
  const out = await rows(`select n::text as label, repeat('é', n) from generate_series(1, 3000) as n order by n desc`);
  expect(out).toHaveLength(3000);
  expect(out[0]).toEqual(['3000', 'é'.repeat(3000)]);
  expect(out[2999]).toEqual(['1', 'é']);
});

test('a failing query, or a reader that throws, is an error, and the database goes on working', async () => {
  await expect(rows('select no_such_column from events')).rejects.toThrow('no_such_column');
  await expect(
    database().copyOut(`select n from generate_series(1, 10000) as n`, () => {
      throw new Error('reader gave up');
    }),
  ).rejects.toThrow('reader gave up');
  // Every pooled connection still answers.
  const answers = await Promise.all(
    Array.from({ length: 25 }, () => sql<{ one: number }>`select 1 as one`.execute(database().db)),
  );
  expect(answers.every((answer) => answer.rows[0]!.one === 1)).toBe(true);
  expect(await rows(`select 'a', 'b'`)).toEqual([['a', 'b']]);
});
