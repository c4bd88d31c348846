import type { Db, IntegrationRow, IntegrationsTable } from '../db/database.ts';
import type { Insertable } from 'kysely';

export async function insertIntegration(db: Db, values: Insertable<IntegrationsTable>): Promise<IntegrationRow> {
  return db.insertInto('integrations').values(values).returningAll().executeTakeFirstOrThrow();
}

export async function findIntegration(db: Db, id: string): Promise<IntegrationRow | undefined> {
  return db.selectFrom('integrations').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

export async function insertIntegrationLog(
  db: Db,
  entry: { integrationId: string; action: 'started' | 'stopped'; reason: string; actor: string },
): Promise<void> {
  await db
    .insertInto('integration_logs')
    .values({ integration_id: entry.integrationId, action: entry.action, reason: entry.reason, actor: entry.actor })
    .execute();
}
