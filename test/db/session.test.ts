import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test';
import { sql } from 'kysely';
import { PostgresSession } from '../../src/db/session.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';

/*
 * The process's own database session (LISTEN, the integration fences):
 * statements take turns on its one connection, and when the connection is
 * ended it says so, reconnects by itself and is subscribed again.
 */

let database: TestDatabase;
let session: PostgresSession;

beforeAll(async () => {
  if (!usingPostgres) return;
  database = await createTestDatabase();
  session = new PostgresSession(database.url!);
  await session.start();
}, 60_000);
afterAll(async () => {
  await session?.close();
  await database?.close();
});

async function waitFor(condition: () => boolean, ms = 10_000) {
  const until = Date.now() + ms;
  while (!condition() && Date.now() < until) await Bun.sleep(20);
  return condition();
}

describe.skipIf(!usingPostgres)('the database session', () => {
  test('statements sent at once take turns on its connection (pg warns when they do not)', async () => {
    const warnings = spyOn(process, 'emitWarning');
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => session.query<{ n: number }>('select $1::int as n, pg_sleep(0.001)', [i])),
      );
      expect(answers.map((rows) => rows[0]!.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(warnings.mock.calls.filter((call) => String(call[0]).includes('already executing a query'))).toEqual([]);
    } finally {
      warnings.mockRestore();
    }
  });

  test('ended by the server, it says it is lost, comes back by itself and listens again', async () => {
    const heard: string[] = [];
    await session.listen('tideway_session_test', (payload) => heard.push(payload));
    let lost = 0;
    let restored = 0;
    session.onLost(() => lost++);
    session.onRestored(() => restored++);
    const [row] = await session.query<{ pid: number }>('select pg_backend_pid() as pid');
    const pid = row!.pid;
    await sql`select pg_terminate_backend(${pid})`.execute(database.db);

    expect(await waitFor(() => lost === 1)).toBe(true);
    expect(session.verifiedWithin(3_000)).toBe(false);
    await expect(session.query('select 1')).rejects.toThrow('not connected');
    expect(await waitFor(() => restored === 1)).toBe(true);
    expect(session.verifiedWithin(3_000)).toBe(true);

    await sql`select pg_notify('tideway_session_test', 'after the reconnect')`.execute(database.db);
    expect(await waitFor(() => heard.includes('after the reconnect'))).toBe(true);
  }, 30_000);
});
