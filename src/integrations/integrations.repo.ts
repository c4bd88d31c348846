import { sql, type Insertable } from 'kysely';
import type { Db, IntegrationRow, IntegrationStatus, IntegrationsTable, IntegrationUpdate } from '../db/database.ts';
import type { IntegrationAlert, IntegrationStats } from '../db/read-models.ts';

export type { IntegrationStats };

export async function insertIntegration(db: Db, values: Insertable<IntegrationsTable>): Promise<IntegrationRow> {
  return db.insertInto('integrations').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findIntegration(db: Db, id: string): Promise<IntegrationRow | undefined> {
  return db
    .selectFrom('integrations')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export async function listIntegrations(db: Db, status?: IntegrationStatus): Promise<IntegrationRow[]> {
  let query = db.selectFrom('integrations').selectAll().where('deleted_at', 'is', null);
  if (status) query = query.where('status', '=', status);
  return query.orderBy('id').execute();
}

export async function countIntegrationsByStatus(db: Db): Promise<{ all: number; running: number; stopped: number }> {
  const rows = await db
    .selectFrom('integrations')
    .select(['status', (eb) => eb.fn.countAll<string>().as('count')])
    .where('deleted_at', 'is', null)
    .groupBy('status')
    .execute();
  const of = (status: IntegrationStatus) => Number(rows.find((row) => row.status === status)?.count ?? 0);
  return { all: of('running') + of('stopped'), running: of('running'), stopped: of('stopped') };
}

export async function updateIntegrationRow(
  db: Db,
  id: string,
  values: IntegrationUpdate,
): Promise<IntegrationRow | undefined> {
  return db
    .updateTable('integrations')
    .set({ ...values, updated_at: new Date() })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteIntegrationRow(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('integrations').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Delivery statistics per integration. Each figure comes from an index
 * (pending: deliveries_due; failed, rejected: deliveries_by_status), from
 * the counters the delivery engines keep (delivery_minutes for the last
 * hour's failure rate), or from a handful of rows, so this stays quick on
 * millions of deliveries.
 *
 * The last error is looked for only where something is failing: a webhook
 * integration with `failing_since` set (its most recently rescheduled
 * delivery, first in deliveries_due read backwards since retries are due
 * later than fresh deliveries), or an S3 batch sealed and already tried
 * (s3_batches_due holds only sealed batches).
 */
export async function integrationStats(db: Db, integrations: IntegrationRow[]): Promise<Map<string, IntegrationStats>> {
  const stats = new Map<string, IntegrationStats>();
  if (integrations.length === 0) return stats;
  const hourAgo = new Date(Date.now() - 3_600_000);
  const { rows } = await sql<{
    id: string;
    pending: string;
    oldest_pending_at: Date | null;
    failed: string;
    rejected: string;
    last_actor: string | null;
    last_reason: string | null;
    last_change_at: Date | null;
    hour_delivered: string | null;
    hour_failed: string | null;
    webhook_error: string | null;
    webhook_error_at: Date | null;
    webhook_next_try_at: Date | null;
    batch_error: string | null;
    batch_error_at: Date | null;
    batch_next_try_at: Date | null;
  }>`
    select i.id,
      (select count(*) from deliveries d where d.integration_id = i.id and d.status = 'pending') as pending,
      (select min(d.published_at) from deliveries d where d.integration_id = i.id and d.status = 'pending') as oldest_pending_at,
      (select count(*) from deliveries d where d.integration_id = i.id and d.status = 'failure') as failed,
      (select count(*) from deliveries d where d.integration_id = i.id and d.status = 'rejected') as rejected,
      l.actor as last_actor, l.reason as last_reason, l.created_at as last_change_at,
      m.delivered as hour_delivered, m.failed as hour_failed,
      w.error as webhook_error, w.at as webhook_error_at, w.next_try_at as webhook_next_try_at,
      b.last_error as batch_error, b.at as batch_error_at, b.next_attempt_at as batch_next_try_at
    from integrations i
    left join lateral (select actor, reason, created_at from integration_logs l
      where l.integration_id = i.id order by l.created_at desc, l.id desc limit 1) l on true
    left join lateral (select sum(dm.delivered) as delivered, sum(dm.failed) as failed from delivery_minutes dm
      where dm.integration_id = i.id and dm.minute >= ${hourAgo}) m on true
    left join lateral (select coalesce('HTTP ' || d.last_status_code, d.last_error) as error,
        d.last_attempted_at as at, d.next_attempt_at as next_try_at
      from deliveries d
      where i.failing_since is not null and d.integration_id = i.id and d.status = 'pending' and d.attempts > 0
      order by d.next_attempt_at desc limit 1) w on true
    left join lateral (select sb.last_error, sb.next_attempt_at,
        (select max(a.attempted_at) from s3_batch_attempts a where a.batch_id = sb.id) as at
      from s3_batches sb
      where sb.status = 'sealed' and sb.integration_id = i.id and sb.attempts > 0 and sb.last_error is not null
      order by sb.next_attempt_at limit 1) b on true
    where i.id in (${sql.join(integrations.map((integration) => integration.id))})`.execute(db);
  for (const integration of integrations) {
    const row = rows.find((candidate) => candidate.id === integration.id);
    const delivered = Number(row?.hour_delivered ?? 0);
    const failedInHour = Number(row?.hour_failed ?? 0);
    const error = row?.batch_error ?? row?.webhook_error ?? null;
    stats.set(integration.id, {
      pending: Number(row?.pending ?? 0),
      delivered: Number(integration.delivered_count),
      failed: Number(row?.failed ?? 0),
      rejected: Number(row?.rejected ?? 0),
      last_delivery_at: integration.last_delivery_at,
      oldest_pending_at: row?.oldest_pending_at ?? null,
      alert: alertOf(integration, row?.last_actor ?? null, row?.last_reason ?? null),
      last_change:
        row?.last_actor && row.last_change_at
          ? { actor: row.last_actor, reason: row.last_reason ?? '', at: row.last_change_at }
          : null,
      failure_rate: delivered + failedInHour > 0 ? failedInHour / (delivered + failedInHour) : null,
      last_error: error
        ? {
            message: error,
            at: (row?.batch_error ? row.batch_error_at : row?.webhook_error_at) ?? null,
            next_try_at: (row?.batch_error ? row.batch_next_try_at : row?.webhook_next_try_at) ?? null,
          }
        : null,
    });
  }
  return stats;
}

/** A running integration reported delayed, or one whose last stop was the system's. */
function alertOf(
  integration: IntegrationRow,
  lastActor: string | null,
  lastReason: string | null,
): IntegrationAlert | null {
  if (integration.status === 'running' && integration.backlog_delayed_since)
    return { kind: 'delayed', since: integration.backlog_delayed_since };
  if (integration.status === 'stopped' && lastActor === 'system')
    return { kind: 'stopped_by_system', reason: lastReason ?? '' };
  return null;
}
