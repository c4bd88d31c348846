import type { Db } from '../db/database.ts';
import type { KeysetPosition } from '../lib/keyset-cursor.ts';
import type { LogEntry } from '../db/read-models.ts';

export type { LogEntry };

/** Log entry ids are identity bigints. */
export const LOG_ID_SHAPE = /^\d+$/;

/**
 * One integration's log, newest first, keyset-paged on (created_at, id) along
 * integration_logs_by_integration. `after` is the last entry of the previous page.
 */
export async function listIntegrationLogs(
  db: Db,
  input: { integrationId: string; limit: number; after?: KeysetPosition },
): Promise<{ entries: LogEntry[]; next?: KeysetPosition }> {
  let query = db
    .selectFrom('integration_logs')
    .select(['id', 'action', 'reason', 'actor', 'created_at'])
    .where('integration_id', '=', input.integrationId);
  if (input.after) {
    const { at, id } = input.after;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(at, id)));
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1)
    .execute();
  const entries = rows.slice(0, input.limit);
  const last = entries.at(-1);
  return { entries, next: rows.length > input.limit && last ? { at: last.created_at, id: last.id } : undefined };
}
