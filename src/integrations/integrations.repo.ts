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
 * (pending: deliveries_due; failed, rejected: deliveries_by_status) or from
 * the counters the delivery engines keep, so this stays quick on millions of
 * deliveries.
 */
export async function integrationStats(db: Db, integrations: IntegrationRow[]): Promise<Map<string, IntegrationStats>> {
  const stats = new Map<string, IntegrationStats>();
  if (integrations.length === 0) return stats;
  const { rows } = await sql<{
    id: string;
    pending: string;
    oldest_pending_at: Date | null;
    failed: string;
    rejected: string;
    last_actor: string | null;
    last_reason: string | null;
  }>`
    select i.id,
      (select count(*) from deliveries d where d.integration_id = i.id and d.status = 'pending') as pending,
      (select min(d.published_at) from deliveries d where d.integration_id = i.id and d.status = 'pending') as oldest_pending_at,
      (select count(*) from deliveries d where d.integration_id = i.id and d.status = 'failure') as failed,
      (select count(*) from deliveries d where d.integration_id = i.id and d.status = 'rejected') as rejected,
      l.actor as last_actor, l.reason as last_reason
    from integrations i
    left join lateral (select actor, reason from integration_logs l
      where l.integration_id = i.id order by l.created_at desc, l.id desc limit 1) l on true
    where i.id in (${sql.join(integrations.map((integration) => integration.id))})`.execute(db);
  for (const integration of integrations) {
    const row = rows.find((candidate) => candidate.id === integration.id);
    stats.set(integration.id, {
      pending: Number(row?.pending ?? 0),
      delivered: Number(integration.delivered_count),
      failed: Number(row?.failed ?? 0),
      rejected: Number(row?.rejected ?? 0),
      last_delivery_at: integration.last_delivery_at,
      oldest_pending_at: row?.oldest_pending_at ?? null,
      alert: alertOf(integration, row?.last_actor ?? null, row?.last_reason ?? null),
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
