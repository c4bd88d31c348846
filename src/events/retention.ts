import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { deleteExpiredSessions } from '../auth/sessions.repo.ts';
import type { Logger } from '../lib/log.ts';

/*
 * Retention: events, their deliveries and attempts, and uploaded S3 batches
 * older than RETENTION_DAYS are deleted. Each statement deletes at most
 * `batchSize` rows found through an index, so no lock is held for long and
 * ingest and delivery go on meanwhile. Deliveries go first (their attempts
 * cascade), per integration along deliveries_by_time, then the events along
 * events_published_at. Retention applies to every delivery, pending ones of
 * a long-paused integration included: those are logged as a warning.
 * The same rounds sweep what expires on its own: login attempts, sessions,
 * access tokens; and notifications past the cutoff that are no longer to be sent.
 */

const DAY_MS = 86_400_000;

export interface RetentionOutcome {
  deliveries: number;
  pendingDeliveries: number;
  events: number;
  batches: number;
}

export function createRetention(deps: {
  db: Kysely<Database>;
  retentionDays: number;
  log: Logger;
  batchSize?: number;
  now?: () => Date;
}) {
  const batchSize = deps.batchSize ?? 5_000;

  return {
    /** Prunes everything past the cutoff; `beat` is called after each round of deletes (the loop's heartbeat). */
    async runOnce(beat: () => void = () => {}): Promise<RetentionOutcome> {
      /** Deletes in rounds of `batchSize` until a round deletes fewer. */
      const inRounds = async (deleteRound: () => Promise<number>): Promise<number> => {
        let total = 0;
        for (;;) {
          const deleted = await deleteRound();
          total += deleted;
          beat();
          if (deleted < batchSize) return total;
        }
      };

      const now = deps.now?.() ?? new Date();
      const cutoff = new Date(now.getTime() - deps.retentionDays * DAY_MS);
      const outcome: RetentionOutcome = { deliveries: 0, pendingDeliveries: 0, events: 0, batches: 0 };

      const integrations = await deps.db.selectFrom('integrations').select('id').execute();
      for (const { id } of integrations) {
        outcome.deliveries += await inRounds(async () => {
          const { rows } = await sql<{ status: string }>`
            delete from deliveries
            where (integration_id, event_id) in (
              select integration_id, event_id from deliveries
              where integration_id = ${id} and published_at < ${cutoff}
              limit ${batchSize})
            returning status`.execute(deps.db);
          outcome.pendingDeliveries += rows.filter((row) => row.status === 'pending').length;
          return rows.length;
        });
      }

      outcome.events = await inRounds(async () => {
        const result = await sql`
          delete from events where id in (
            select id from events where published_at < ${cutoff} limit ${batchSize})`.execute(deps.db);
        return Number(result.numAffectedRows ?? 0n);
      });

      outcome.batches = await inRounds(async () => {
        const result = await sql`
          delete from s3_batches where id in (
            select id from s3_batches where status = 'uploaded' and sealed_at < ${cutoff} limit ${batchSize})`.execute(
          deps.db,
        );
        return Number(result.numAffectedRows ?? 0n);
      });

      await sql`delete from delivery_minutes where minute < ${cutoff}`.execute(deps.db);
      // Notices (a few per change of state) go with their sends and attempts, unless one is still to be sent.
      await sql`delete from notifications n where n.occurred_at < ${cutoff}
        and not exists (select 1 from notification_sends s where s.notification_id = n.id and s.status = 'pending')`.execute(
        deps.db,
      );
      // Login throttling only looks back minutes; a day is plenty.
      await sql`delete from login_attempts where attempted_at < ${new Date(now.getTime() - DAY_MS)}`.execute(deps.db);
      // Sessions that can no longer be used, and expired access tokens.
      await deleteExpiredSessions(deps.db, now);
      await deps.db.deleteFrom('access_tokens').where('expires_at', '<=', now).execute();

      if (outcome.pendingDeliveries > 0) {
        deps.log.warn('retention pruned deliveries that were never delivered', {
          pending: outcome.pendingDeliveries,
          retention_days: deps.retentionDays,
        });
      }
      if (outcome.deliveries + outcome.events + outcome.batches > 0) deps.log.info('retention pruned', { ...outcome });
      return outcome;
    },
  };
}
