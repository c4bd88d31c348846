import { sql } from 'kysely';
import type { Db, NotificationType } from '../db/database.ts';

/*
 * The notification outbox (issue 18). The engine tells of a change in the
 * same transaction that makes it: a stop, the backlog crossing its
 * threshold, a digest of failures. One row per notice, one send per channel
 * that wants it; the notification loop (src/notifications) sends them.
 */

export const NOTIFICATION_TYPES = [
  'integration.stopped',
  'integration.completed',
  'integration.backlog_delayed',
  'integration.backlog_recovered',
  'deliveries.failed',
] as const satisfies readonly NotificationType[];

export interface Notice {
  type: NotificationType;
  integrationId: string;
  reason: string;
  details?: Record<string, unknown>;
  /** The page the notice links to; the integration's logs unless told. */
  path?: string;
}

/** A stop the system makes, and what to tell of it (see setIntegrationStatus). */
export interface SystemStop {
  type: 'integration.stopped' | 'integration.completed';
  details?: Record<string, unknown>;
}

/**
 * Writes `notice` to the outbox for every channel whose filter takes it;
 * nothing when none does. Call it inside the transaction of the change.
 *
 * @example await queueNotice(trx, { type: 'integration.stopped', integrationId: 'erp', reason: 'Callback answered HTTP 401 Unauthorized' })
 */
export async function queueNotice(trx: Db, notice: Notice): Promise<string | undefined> {
  const channels = await trx
    .selectFrom('notification_channels')
    .select('id')
    .where((eb) =>
      eb.and([
        eb.or([
          eb(sql`cardinality(filter_integrations)`, '=', 0),
          eb(sql`${notice.integrationId}`, '=', sql`any(filter_integrations)`),
        ]),
        eb.or([eb(sql`cardinality(filter_types)`, '=', 0), eb(sql`${notice.type}`, '=', sql`any(filter_types)`)]),
      ]),
    )
    .execute();
  if (channels.length === 0) return undefined;
  const { id } = await trx
    .insertInto('notifications')
    .values({
      type: notice.type,
      integration_id: notice.integrationId,
      reason: notice.reason,
      details: JSON.stringify(notice.details ?? {}),
      path: notice.path ?? `/tools/event-stream/${encodeURIComponent(notice.integrationId)}/logs`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('notification_sends')
    .values(channels.map((channel) => ({ channel_id: channel.id, notification_id: id })))
    .execute();
  return id;
}
