import { sql } from 'kysely';
import type { DatabaseSession } from './session.ts';
import type { Db } from './database.ts';

/*
 * Waking the delivery loops. Ingest sends a NOTIFY inside its transaction, so
 * it is delivered at commit and only if the events were committed. Postgres
 * carries it to every listening process; PGlite to listeners in its own
 * process (the only one it has). It is a latency hint: the loops poll as well,
 * so a lost notification delays a delivery, never loses it.
 */

export const WAKE_CHANNEL = 'tideway_wake';
// NOTIFY payloads must stay under 8000 bytes.
const MAX_PAYLOAD = 7_000;

/** Tells the delivery loops that these integrations have new pending deliveries. */
export async function wakeDeliveryLoops(trx: Db, integrationIds: string[]): Promise<void> {
  const joined = integrationIds.join(',');
  await sql`select pg_notify(${WAKE_CHANNEL}, ${joined.length > MAX_PAYLOAD ? '' : joined})`.execute(trx);
}

/**
 * Calls `onWake` with the integrations that have new work, or 'all' when the
 * notification did not say. Returns the way to stop listening.
 */
export function listenForWake(
  database: Pick<DatabaseSession, 'listen'>,
  onWake: (integrationIds: string[] | 'all') => void,
): Promise<() => Promise<void>> {
  return database.listen(WAKE_CHANNEL, (payload) => onWake(payload === '' ? 'all' : payload.split(',')));
}
