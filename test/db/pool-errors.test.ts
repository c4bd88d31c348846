import { expect, test } from 'bun:test';
import { sql } from 'kysely';
import pg from 'pg';
import { useTestDatabase, usingPostgres } from '../helpers/database.ts';

/*
 * PostgreSQL restarted, or an operator ended Tideway's sessions: the idle
 * pooled connections die. That must not crash the process (an 'error' with
 * no listener would); the next query simply opens a new connection.
 */

const database = useTestDatabase();

test.skipIf(!usingPostgres)('idle connections ended by the server are replaced, not fatal', async () => {
  const { db } = database();
  await Promise.all(Array.from({ length: 3 }, () => sql`select pg_sleep(0.05)`.execute(db)));
  const admin = new pg.Client({ connectionString: database().url });
  await admin.connect();
  const { rows } = await admin.query(
    `select count(pg_terminate_backend(pid)) as ended from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
  );
  await admin.end();
  expect(Number(rows[0].ended)).toBeGreaterThanOrEqual(1);
  await Bun.sleep(200);
  const answer = await sql<{ one: number }>`select 1 as one`.execute(db);
  expect(answer.rows[0]!.one).toBe(1);
});
