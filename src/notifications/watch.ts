import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { queueNotice } from '../delivery/notify.ts';
import type { Logger } from '../lib/log.ts';
import { createIntervalLoop } from '../loops/interval-loop.ts';
import type { Loop } from '../loops/loop.ts';

/*
 * The watch over integrations' backlogs and final failures, run now and
 * then by every worker process. Each notice is written with a conditional
 * update of the integration's own state (backlog_delayed_since,
 * failure_digest_at) in one transaction, so whichever process sees a change
 * first tells of it, once, and the others find it told.
 */

/** At most one digest of failed deliveries per integration per hour. */
export const DIGEST_EVERY_MS = 3_600_000;
/** How many failed event ids a digest names. */
const DIGEST_IDS = 10;

/** How often the watch runs: a quarter of the threshold, between 1 and 30 s. */
export function watchIntervalMs(config: Config): number {
  return Math.min(30_000, Math.max(1_000, Math.round(config.notifications.backlogAlertAfterMs / 4)));
}

/** Digests are looked for once a minute: they are due at most hourly, and the look reads failed deliveries. */
const DIGEST_LOOK_EVERY_MS = 60_000;

/** The watch as a background loop of the worker role. */
export function createNotificationWatch(db: Kysely<Database>, config: Config, log: Logger): Loop {
  let lastDigestLook = 0;
  return createIntervalLoop(
    'notification-watch',
    watchIntervalMs(config),
    async () => {
      const digests = Date.now() - lastDigestLook >= DIGEST_LOOK_EVERY_MS;
      await watchIntegrations(db, config, new Date(), { digests });
      if (digests) lastDigestLook = Date.now();
    },
    log,
  );
}

interface Watched {
  id: string;
  status: 'running' | 'stopped';
  backlog_delayed_since: Date | null;
  failure_digest_at: Date | null;
  oldest_pending_at: Date | null;
}

/** One look at every integration: backlog delayed or recovered, and the digest of failures when it is due. */
export async function watchIntegrations(
  db: Kysely<Database>,
  config: Config,
  now: Date = new Date(),
  options: { digests?: boolean } = {},
): Promise<void> {
  // The oldest pending delivery by deliveries_by_status (a backward index
  // scan per integration), as the list and the Overview read it.
  const { rows } = await sql<Watched>`
    select i.id, i.status, i.backlog_delayed_since, i.failure_digest_at,
      (select min(d.published_at) from deliveries d where d.integration_id = i.id and d.status = 'pending') as oldest_pending_at
    from integrations i where i.deleted_at is null`.execute(db);
  const threshold = config.notifications.backlogAlertAfterMs;
  for (const row of rows) {
    if (row.status === 'running') {
      const oldest = row.oldest_pending_at ? new Date(row.oldest_pending_at) : null;
      const late = oldest !== null && now.getTime() - oldest.getTime() > threshold;
      if (late && !row.backlog_delayed_since) await markDelayed(db, row.id, oldest, threshold, now);
      if (!late && row.backlog_delayed_since) await markRecovered(db, row.id, new Date(row.backlog_delayed_since));
    }
    const lastDigest = row.failure_digest_at ? new Date(row.failure_digest_at) : null;
    if (options.digests !== false && (!lastDigest || now.getTime() - lastDigest.getTime() >= DIGEST_EVERY_MS)) {
      await digestFailures(db, row.id, lastDigest, now);
    }
  }
}

function minutes(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

async function markDelayed(db: Kysely<Database>, id: string, oldest: Date, threshold: number, now: Date) {
  await db.transaction().execute(async (trx) => {
    const changed = await trx
      .updateTable('integrations')
      .set({ backlog_delayed_since: oldest })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('backlog_delayed_since', 'is', null)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (changed.numUpdatedRows === 0n) return;
    await queueNotice(trx, {
      type: 'integration.backlog_delayed',
      integrationId: id,
      reason: `The oldest pending delivery is ${minutes(now.getTime() - oldest.getTime())} old, over the ${minutes(threshold)} threshold`,
      details: { oldest_pending_at: oldest.toISOString(), threshold_ms: threshold },
      path: `/tools/event-stream/${encodeURIComponent(id)}/events?status=pending`,
    });
  });
}

async function markRecovered(db: Kysely<Database>, id: string, delayedSince: Date) {
  await db.transaction().execute(async (trx) => {
    const changed = await trx
      .updateTable('integrations')
      .set({ backlog_delayed_since: null })
      .where('id', '=', id)
      .where('backlog_delayed_since', 'is not', null)
      .executeTakeFirst();
    if (changed.numUpdatedRows === 0n) return;
    await queueNotice(trx, {
      type: 'integration.backlog_recovered',
      integrationId: id,
      reason: 'The backlog is back under the threshold',
      details: { delayed_since: delayedSince.toISOString() },
      path: `/tools/event-stream/${encodeURIComponent(id)}/events`,
    });
  });
}

/** Deliveries that failed for good since the last digest, up to `now`: one notice, when there are any. */
async function digestFailures(db: Kysely<Database>, id: string, lastDigest: Date | null, now: Date) {
  const failed = (trx: Kysely<Database>) =>
    trx
      .selectFrom('deliveries')
      .where('integration_id', '=', id)
      .where('status', '=', 'failure')
      .where('last_attempted_at', '<=', now)
      .$if(lastDigest !== null, (query) => query.where('last_attempted_at', '>', lastDigest!));
  const first = await failed(db)
    .select('event_id')
    .orderBy('last_attempted_at')
    .orderBy('event_id')
    .limit(DIGEST_IDS)
    .execute();
  if (first.length === 0) return;
  await db.transaction().execute(async (trx) => {
    const changed = await trx
      .updateTable('integrations')
      .set({ failure_digest_at: now })
      .where('id', '=', id)
      .where((eb) =>
        lastDigest === null ? eb('failure_digest_at', 'is', null) : eb('failure_digest_at', '=', lastDigest),
      )
      .executeTakeFirst();
    if (changed.numUpdatedRows === 0n) return; // another process wrote this digest
    const { count } = await failed(trx)
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    await queueNotice(trx, {
      type: 'deliveries.failed',
      integrationId: id,
      reason: `${count} ${Number(count) === 1 ? 'delivery' : 'deliveries'} failed for good${lastDigest ? ` since ${lastDigest.toISOString()}` : ''}`,
      details: {
        count: Number(count),
        first_event_ids: first.map((row) => row.event_id),
        since: lastDigest?.toISOString() ?? null,
      },
      path: `/tools/event-stream/${encodeURIComponent(id)}/events?status=failure`,
    });
  });
}
