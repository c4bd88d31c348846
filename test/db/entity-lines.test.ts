import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { sql } from 'kysely';
import { openPostgres, type DatabaseHandle } from '../../src/db/client.ts';
import { type EntityLine, releaseNextInLine } from '../../src/events/entity-lines.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';

/*
 * Releasing the next in line from several sessions at once (settles of
 * two workers, an ingest's follow-up): they share rows, and used to lock
 * them in whatever order each plan met them, deadlocking under load; the
 * loser's line then waited for the minute sweep.
 */

let database: TestDatabase;
let sessions: DatabaseHandle[] = [];
const LINES = 300;

beforeAll(async () => {
  if (!usingPostgres) return;
  database = await createTestDatabase();
  sessions = Array.from({ length: 4 }, () => openPostgres(database.url!, { maxConnections: 1 }));
}, 60_000);
afterAll(async () => {
  await Promise.all(sessions.map((session) => session.close()));
  await database?.close();
});

async function deadlocks(): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`select deadlocks as n from pg_stat_database where datname = current_database()`.execute(database.db);
  return Number(rows[0]!.n);
}

describe.skipIf(!usingPostgres)('releasing the next in line', () => {
  test('sessions releasing the same lines in opposite orders at once: no deadlock, each line released once', async () => {
    await sql`insert into integrations (id, integration_type, target_kind, callback_url, signing_secret_enc, ordering)
      values ('erp', 'permanent', 'webhook', 'http://127.0.0.1:9/hook', 'v1:x', 'by_domain_entity')`.execute(
      database.db,
    );
    const lines: EntityLine[] = Array.from({ length: LINES }, (_, i) => ({
      integrationId: 'erp',
      domainEntityType: 'order',
      domainEntityId: `o-${i}`,
    }));
    for (let round = 0; round < 5; round++) {
      // Every line: two waiting deliveries and nothing ahead of them.
      await sql`delete from deliveries`.execute(database.db);
      await sql`
        insert into deliveries (integration_id, event_id, event_name, domain_entity_type, domain_entity_id, published_at, order_sequence, next_attempt_at)
        select 'erp', gen_random_uuid(), 'order.created', 'order', 'o-' || (g % ${LINES}), now() - interval '1 hour' + g * interval '1 ms', g, 'infinity'
        from generate_series(0, ${2 * LINES - 1}) g`.execute(database.db);
      await sql`select pg_stat_force_next_flush()`.execute(database.db);
      const before = await deadlocks();
      const orders = [
        lines,
        [...lines].reverse(),
        lines.slice(LINES / 2).concat(lines.slice(0, LINES / 2)),
        [...lines].reverse(),
      ];
      await Promise.all(sessions.map((session, i) => releaseNextInLine(session.db, orders[i]!)));
      // A deadlock is counted by the session that lost it: each sends its statistics now (a retry would hide it otherwise).
      for (const session of sessions) await sql`select pg_stat_force_next_flush()`.execute(session.db);
      await Bun.sleep(100);
      expect(await deadlocks()).toBe(before);
      const { rows } = await sql<{ due: string; waiting: string }>`
        select count(*) filter (where next_attempt_at <> 'infinity') as due, count(*) filter (where next_attempt_at = 'infinity') as waiting
        from deliveries`.execute(database.db);
      expect(rows[0]).toEqual({ due: String(LINES), waiting: String(LINES) });
    }
  }, 60_000);
});
