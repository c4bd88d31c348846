import { Hono } from 'hono';
import { sql } from 'kysely';
import type { AppDeps } from '../app.ts';
import { pendingMigrations } from '../db/migrate.ts';

/** The background loops' heartbeats, as the process's loop registry reports them. */
export interface HealthSource {
  heartbeats(): { loop: string; ageSeconds: number }[];
  /** The process is shutting down: take it out of rotation. */
  stopping(): boolean;
}

/** A loop whose heartbeat is older than this is reported as stuck. */
export const STALE_HEARTBEAT_SECONDS = 60;
/** /readyz answers within this even when the database hangs. */
const DATABASE_CHECK_MS = 2_000;

/**
 * `/healthz`: the process answers. `/readyz`: it can do its work — the
 * database answers, every migration in migrations/ is applied, and no
 * background loop is stuck. Load balancers route to ready processes only;
 * the answer names what is wrong.
 */
export function healthRoutes({
  db,
  databaseKind,
  version,
  health,
}: Pick<AppDeps, 'db' | 'databaseKind' | 'version' | 'health'>) {
  const startedAt = Date.now();
  // Once every migration is applied it stays so for this process's life.
  let migrationsCurrent = false;

  return new Hono()
    .get('/healthz', (c) =>
      c.json({ status: 'ok', version, uptime_seconds: Math.round((Date.now() - startedAt) / 1000) }),
    )
    .get('/readyz', async (c) => {
      const unavailable = (body: Record<string, unknown>) =>
        c.json({ status: 'unavailable', database: databaseKind, ...body }, 503);
      if (health?.stopping()) return unavailable({ reason: 'shutting down' });
      const answered = await databaseAnswers(db);
      if (answered !== true) return unavailable({ reason: `database unreachable: ${answered}` });
      if (!migrationsCurrent) {
        const pending = await pendingMigrations(db);
        if (pending.length > 0) return unavailable({ reason: 'migrations pending', pending });
        migrationsCurrent = true;
      }
      const stale = (health?.heartbeats() ?? []).filter((beat) => beat.ageSeconds > STALE_HEARTBEAT_SECONDS);
      if (stale.length > 0) {
        return unavailable({
          reason: `loops not making progress: ${stale.map((beat) => `${beat.loop} (last heartbeat ${Math.round(beat.ageSeconds)} s ago)`).join(', ')}`,
          stale_loops: stale.map((beat) => beat.loop),
        });
      }
      return c.json({ status: 'ready', database: databaseKind, version });
    });
}

/** true, or why the database did not answer `select 1` within DATABASE_CHECK_MS. */
async function databaseAnswers(db: AppDeps['db']): Promise<true | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>(
    (resolve) => (timer = setTimeout(() => resolve(`no answer within ${DATABASE_CHECK_MS} ms`), DATABASE_CHECK_MS)),
  );
  const query = sql`select 1`.execute(db).then(
    () => true as const,
    (error: unknown) => (error as Error).message,
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
