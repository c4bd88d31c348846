import type { Kysely } from 'kysely';
import type { Database, Db, IntegrationRow } from '../db/database.ts';
import { wakeDeliveryLoops } from '../db/wake.ts';
import { fencedChange } from './integration-fence.ts';
import { queueNotice, type SystemStop } from './notify.ts';

/*
 * Starting and stopping an integration, and the log of why. The engine
 * stops integrations itself (an interrupt, failing too long, an S3 refusal,
 * a temporary one completed) and operators do through the UI and the API:
 * one primitive for both, beside the fence that every change must pass.
 */

export async function insertIntegrationLog(
  db: Db,
  entry: { integrationId: string; action: 'started' | 'stopped'; reason: string; actor: string },
): Promise<void> {
  await db
    .insertInto('integration_logs')
    .values({ integration_id: entry.integrationId, action: entry.action, reason: entry.reason, actor: entry.actor })
    .execute();
}

/**
 * Sets the status with a log entry (nothing when it already has it); once
 * this returns, no attempt starts with the old status. A stop the system
 * makes names what to tell of it (`notice`): the notification is written in
 * the same transaction, so it is sent exactly when the stop happened.
 */
export async function setIntegrationStatus(
  db: Kysely<Database>,
  id: string,
  status: 'running' | 'stopped',
  reason: string,
  actor: string,
  notice?: SystemStop,
): Promise<IntegrationRow | undefined> {
  return fencedChange(db, id, async (trx) => {
    // FOR NO KEY UPDATE, not FOR UPDATE: every ingest transaction that queues
    // a delivery holds FOR KEY SHARE on this row (the foreign key) until it
    // commits, and FOR UPDATE conflicts with that. Under overlapping ingest
    // the row was never free, so a stop waited for good, and stops piled up
    // until the pool had no connection left to record attempts with
    // (test/db/lock-modes.test.ts). Only non-key columns change here.
    const current = await trx
      .selectFrom('integrations')
      .selectAll()
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .forNoKeyUpdate()
      .executeTakeFirst();
    if (!current || current.status === status) return current;
    const updated = await trx
      .updateTable('integrations')
      .set({ status, ...(status === 'running' ? { failing_since: null } : {}), updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    await insertIntegrationLog(trx, {
      integrationId: id,
      action: status === 'running' ? 'started' : 'stopped',
      reason,
      actor,
    });
    if (notice && status === 'stopped') {
      await queueNotice(trx, { type: notice.type, integrationId: id, reason, details: notice.details });
    }
    if (status === 'running') await wakeDeliveryLoops(trx, [id]);
    return updated;
  });
}
