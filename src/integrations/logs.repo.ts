import type { Db } from '../db/database.ts';

export interface LogEntry {
  id: string;
  action: 'started' | 'stopped';
  reason: string;
  actor: string;
  created_at: Date;
}

/**
 * One integration's log, newest first, keyset-paged on (created_at, id) along
 * integration_logs_by_integration. `after` is the last entry of the previous page.
 */
export async function listIntegrationLogs(
  db: Db,
  input: { integrationId: string; limit: number; after?: { createdAt: Date; id: string } },
): Promise<{ entries: LogEntry[]; next?: { createdAt: Date; id: string } }> {
  let query = db
    .selectFrom('integration_logs')
    .select(['id', 'action', 'reason', 'actor', 'created_at'])
    .where('integration_id', '=', input.integrationId);
  if (input.after) {
    const { createdAt, id } = input.after;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(createdAt, id)));
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(input.limit + 1).execute();
  const entries = rows.slice(0, input.limit);
  const last = entries.at(-1);
  return { entries, next: rows.length > input.limit && last ? { createdAt: last.created_at, id: last.id } : undefined };
}

/** An opaque cursor for a (time, id) position, and back. */
export function encodeCursor(position: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || typeof id !== 'string') return undefined;
    return { createdAt, id };
  } catch {
    return undefined;
  }
}
