import { Hono } from 'hono';
import { sql } from 'kysely';
import type { AppDeps } from '../app.ts';
import { pendingMigrations } from '../db/migrate.ts';

/**
 * `/healthz`: the process answers. `/readyz`: it can do its work — the
 * database answers and every migration in migrations/ is applied. Load
 * balancers route to ready processes only.
 */
export function healthRoutes({ db, databaseKind, version }: AppDeps) {
  const startedAt = Date.now();
  // Once every migration is applied it stays so for this process's life.
  let migrationsCurrent = false;

  return new Hono()
    .get('/healthz', (c) =>
      c.json({ status: 'ok', version, uptime_seconds: Math.round((Date.now() - startedAt) / 1000) }),
    )
    .get('/readyz', async (c) => {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        return c.json({ status: 'unavailable', database: databaseKind, reason: `database unreachable: ${(error as Error).message}` }, 503);
      }
      if (!migrationsCurrent) {
        const pending = await pendingMigrations(db);
        if (pending.length > 0) {
          return c.json({ status: 'unavailable', database: databaseKind, reason: 'migrations pending', pending }, 503);
        }
        migrationsCurrent = true;
      }
      return c.json({ status: 'ready', database: databaseKind, version });
    });
}
