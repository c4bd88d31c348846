import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { AheadInLine } from '../db/read-models.ts';
import { lostRace } from '../db/unavailable.ts';

/*
 * Ordered delivery (integrations with ordering = 'by_domain_entity'): the
 * deliveries of one domain entity (type + id) form a line, in publication
 * order, ties broken by ingest order (events.sequence) and then the event
 * id. A delivery is sent only once every delivery ahead of it in its line
 * is settled (success, rejected, or failure after its last retry).
 *
 * Two mechanisms, one for correctness and one for cost:
 *
 * - The claim takes a delivery only when nothing ahead of it in its line
 *   is pending (isFirstInLine). That alone keeps the order, whatever else
 *   happens: two ingests of one entity at once, an event that arrives
 *   after a later one of its entity, a retried failure.
 *
 * - So that the claim does not walk past the waiting ones, a delivery
 *   stored behind a pending one waits with next_attempt_at = 'infinity',
 *   out of reach of the claim's scan of deliveries_due. When the first of a
 *   line settles, releaseNextInLine makes the next one due. It runs after
 *   the settle commits, and after an ingest that stored waiting deliveries
 *   commits: whichever of the two commits second sees the other's rows, so
 *   no line is left waiting on a delivery that has settled. The sweep
 *   (releaseStrandedLines) releases lines whose first delivery was removed
 *   (retention) or whose release was lost (a crash between the two).
 */

/** A domain entity's line of deliveries to one integration. */
export interface EntityLine {
  integrationId: string;
  domainEntityType: string;
  domainEntityId: string;
}

/**
 * Over an integration `i` and an event `e` (with its sequence): the
 * delivery's order_sequence, or null when it is not ordered.
 */
export const orderSequenceOf = sql`(case
  when i.ordering = 'by_domain_entity' and e.domain_entity_type is not null and e.domain_entity_id is not null
  then coalesce(e.sequence, 0)
end)`;

/** A delivery's line key, as deliveries_entity_line indexes it (see its migration). */
const lineOf = (alias: string) =>
  sql.raw(`delivery_line(${alias}.integration_id, ${alias}.domain_entity_type, ${alias}.domain_entity_id)`);

/** Over deliveries `p` and `d`: `p` is ahead of `d` in the same line. */
const aheadOf = sql`${lineOf('p')} = ${lineOf('d')}
  and p.status = 'pending' and p.order_sequence is not null
  and (p.published_at, p.order_sequence, p.event_id) < (d.published_at, d.order_sequence, d.event_id)`;

/** Over a delivery `d`: it is not ordered, or nothing ahead of it in its line is pending. */
export const isFirstInLine = sql`(d.order_sequence is null or not exists (select 1 from deliveries p where ${aheadOf}))`;

/** Over a delivery-to-be `d` (a row with the deliveries' columns): something ahead of it in its line is pending now. */
export const waitsInLine = sql`(d.order_sequence is not null and exists (select 1 from deliveries p where ${aheadOf}))`;

/**
 * For each line: when its first pending delivery is waiting, makes it due
 * now. Returns the integrations that got a delivery due. Idempotent; one
 * that loses a deadlock to another release is run again.
 */
export async function releaseNextInLine(db: Db, lines: EntityLine[], now: Date = new Date()): Promise<string[]> {
  if (lines.length === 0) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await releaseFirstWaiting(db, lines, now);
    } catch (error) {
      if (attempt >= RELEASE_ATTEMPTS || !lostRace(error)) throw error;
    }
  }
}

const RELEASE_ATTEMPTS = 3;

async function releaseFirstWaiting(db: Db, lines: EntityLine[], now: Date): Promise<string[]> {
  const { rows } = await sql<{ integration_id: string }>`
    with line as (
      select distinct * from unnest(
        ${lines.map((line) => line.integrationId)}::text[],
        ${lines.map((line) => line.domainEntityType)}::text[],
        ${lines.map((line) => line.domainEntityId)}::text[]
      ) as l(integration_id, domain_entity_type, domain_entity_id)
    ),
    first as (
      select f.integration_id, f.event_id
      from line l
      cross join lateral (
        select d.integration_id, d.event_id, d.next_attempt_at from deliveries d
        where ${lineOf('d')} = ${lineOf('l')} and d.status = 'pending' and d.order_sequence is not null
        order by d.published_at, d.order_sequence, d.event_id
        limit 1
      ) f
      where f.next_attempt_at = 'infinity'
    ),
    ${lockedInKeyOrder}
    update deliveries d set next_attempt_at = ${now}
    from locked where d.integration_id = locked.integration_id and d.event_id = locked.event_id
    returning d.integration_id`.execute(db);
  return [...new Set(rows.map((row) => row.integration_id))];
}

/**
 * The waiting deliveries named by `first`, locked in key order: two
 * releases that share rows then wait for each other instead of
 * deadlocking (they did, under load, and a lost release left its line
 * waiting for the sweep). One released meanwhile drops out.
 */
const lockedInKeyOrder = sql`locked as (
  select d.integration_id, d.event_id from deliveries d
  join first on d.integration_id = first.integration_id and d.event_id = first.event_id
  where d.next_attempt_at = 'infinity'
  order by d.integration_id, d.event_id
  for update of d
)`;

/**
 * Releases every line of ordered deliveries whose first pending delivery
 * is waiting: the sweep after what releaseNextInLine could not see
 * (retention removed the first; a process died between a commit and its
 * release). Reads every pending ordered delivery, so it runs now and then,
 * not per claim.
 */
export async function releaseStrandedLines(db: Db, now: Date = new Date()): Promise<number> {
  const result = await sql`
    with first as (
      select distinct on (${lineOf('d')}) d.integration_id, d.event_id, d.next_attempt_at
      from deliveries d
      where d.status = 'pending' and d.order_sequence is not null
      order by ${lineOf('d')}, d.published_at, d.order_sequence, d.event_id
    ),
    ${lockedInKeyOrder}
    update deliveries d set next_attempt_at = ${now}
    from locked where d.integration_id = locked.integration_id and d.event_id = locked.event_id`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * An integration's pending deliveries after its ordering changed (call it
 * in the transaction that changed it). Ordered now: each gets its place
 * in its line, and all but the first of each line wait (those in flight
 * keep going: they were claimed before). Unordered now: none has a place,
 * and none waits.
 */
export async function reorderPendingDeliveries(
  db: Db,
  integrationId: string,
  ordered: boolean,
  now: Date,
): Promise<void> {
  if (!ordered) {
    await sql`
      update deliveries set order_sequence = null,
        next_attempt_at = case when next_attempt_at = 'infinity' then ${now} else next_attempt_at end
      where integration_id = ${integrationId} and status = 'pending' and order_sequence is not null`.execute(db);
    return;
  }
  await sql`
    update deliveries d set order_sequence = coalesce(e.sequence, 0)
    from events e
    where d.integration_id = ${integrationId} and d.status = 'pending' and d.order_sequence is null
      and e.id = d.event_id and d.domain_entity_type is not null and d.domain_entity_id is not null`.execute(db);
  await sql`
    update deliveries d set next_attempt_at = 'infinity'
    where d.integration_id = ${integrationId} and d.status = 'pending' and d.order_sequence is not null
      and d.lease_owner is null and ${waitsInLine}`.execute(db);
}

/** What the pending ordered delivery of `eventId` waits for, or undefined when it waits for nothing. */
export async function firstAheadInLine(
  db: Db,
  integrationId: string,
  eventId: string,
): Promise<AheadInLine | undefined> {
  const { rows } = await sql<Omit<AheadInLine, 'next_attempt_at'> & { next_attempt_at: Date | number }>`
    select p.event_id::text, p.event_name, p.published_at, p.attempts, p.next_attempt_at,
      (p.lease_owner is not null and p.lease_expires_at > now()) as in_flight
    from deliveries d
    join deliveries p on ${aheadOf}
    where d.integration_id = ${integrationId} and d.event_id = ${eventId}::uuid
      and d.status = 'pending' and d.order_sequence is not null
    order by p.published_at, p.order_sequence, p.event_id
    limit 1`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  return { ...row, next_attempt_at: row.next_attempt_at instanceof Date ? row.next_attempt_at : null };
}

/** Counted up to this many waiting deliveries: the page says "more than" past it. */
export const WAITING_COUNT_LIMIT = 100_000;

/**
 * How many entities of an ordered integration wait behind a head that is
 * being retried, and how many deliveries wait in those lines (both
 * counted among the first WAITING_COUNT_LIMIT waiting deliveries).
 */
export async function linesBehindRetries(
  db: Db,
  integrationId: string,
): Promise<{ entities: number; deliveries: number }> {
  const { rows } = await sql<{ entities: string; deliveries: string }>`
    select count(distinct (w.domain_entity_type, w.domain_entity_id)) as entities, count(*) as deliveries
    from (
      select w.domain_entity_type, w.domain_entity_id from deliveries w
      where w.integration_id = ${integrationId} and w.status = 'pending' and w.next_attempt_at = 'infinity'
        and exists (
          select 1 from deliveries h
          where ${lineOf('h')} = ${lineOf('w')} and h.status = 'pending' and h.order_sequence is not null
            and h.attempts > 0 and h.next_attempt_at <> 'infinity')
      limit ${WAITING_COUNT_LIMIT}
    ) w`.execute(db);
  return { entities: Number(rows[0]?.entities ?? 0), deliveries: Number(rows[0]?.deliveries ?? 0) };
}
