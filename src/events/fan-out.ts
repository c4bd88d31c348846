import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { orderSequenceOf, waitsInLine } from './entity-lines.ts';

/*
 * Fan-out: which integrations get a delivery for which events.
 *
 * An integration wants an event when it is not deleted, the event was
 * published inside its window [starts_at, ends_at), and the event's entity or
 * name is among its filters (no filter at all = every event). Paused
 * integrations still want events: they accumulate until started again.
 *
 * No gap between ingest and integration creation. Ingest takes a shared
 * advisory lock before it reads the integrations it fans out to; creating an
 * integration takes the same lock exclusively, then replays. Whichever comes
 * second sees the other's committed rows:
 *   - an ingest that committed first is in the events the replay reads;
 *   - an ingest that starts after the creation committed sees the new
 *     integration in its fan-out.
 * The lock must be taken in a statement of its own, before the fan-out
 * statement, because a READ COMMITTED statement reads the snapshot taken
 * when it starts. The ON CONFLICT on the deliveries key absorbs overlap.
 */

const FAN_OUT_LOCK_KEY = 7_411_302_120n;

/** Ingest side: many may hold it at once. */
export async function takeIngestLock(trx: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock_shared(${sql.lit(FAN_OUT_LOCK_KEY)})`.execute(trx);
}

/** Integration side (create, change of window or filters): waits for in-flight ingests. */
export async function takeIntegrationChangeLock(trx: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(FAN_OUT_LOCK_KEY)})`.execute(trx);
}

/** The matching rule as SQL over an integration `i` and an event `e` (or a row with its columns). */
export const integrationWantsEvent = sql`(
  i.deleted_at is null
  and e.published_at >= i.starts_at
  and (i.ends_at is null or e.published_at < i.ends_at)
  and (
    (cardinality(i.filter_entities) = 0 and cardinality(i.filter_events) = 0)
    or e.entity = any(i.filter_entities)
    or e.name = any(i.filter_events)
  )
)`;

/**
 * The `placed` and `queued` steps of a statement that has a `wanted` step
 * (the deliveries to queue: integration_id, event_id, event_name,
 * domain_entity_type, domain_entity_id, published_at, size_bytes,
 * order_sequence). Inserts them; an ordered one waits (see entity-lines.ts)
 * when one ahead of it in its line is pending already or comes in this
 * statement. `queued` returns each new delivery's integration, entity and
 * whether it waits.
 */
export const queueWantedDeliveries = sql`
  placed as (
    select w.*, (w.order_sequence is not null and row_number() over (
        partition by w.integration_id, w.domain_entity_type, w.domain_entity_id, w.order_sequence is null
        order by w.published_at, w.order_sequence, w.event_id) > 1) as behind_batch
    from wanted w
  ),
  queued as (
    insert into deliveries (integration_id, event_id, event_name, domain_entity_type, domain_entity_id, published_at,
      size_bytes, order_sequence, next_attempt_at)
    select d.integration_id, d.event_id, d.event_name, d.domain_entity_type, d.domain_entity_id, d.published_at,
      d.size_bytes, d.order_sequence,
      case when d.behind_batch or ${waitsInLine} then 'infinity'::timestamptz else now() end
    from placed d
    on conflict (integration_id, event_id) do nothing
    returning integration_id, domain_entity_type, domain_entity_id, next_attempt_at = 'infinity' as waits
  )`;

/**
 * Queues a delivery to integration `integrationId` for every stored event it
 * wants (its replay, when starts_at lies in the past). Call it in the
 * transaction that created or widened the integration, after
 * takeIntegrationChangeLock. Returns how many deliveries were queued.
 */
export async function replayIntoIntegration(trx: Db, integrationId: string): Promise<number> {
  const { rows } = await sql<{ queued: string }>`
    with wanted as (
      select i.id as integration_id, e.id as event_id, e.name as event_name, e.domain_entity_type, e.domain_entity_id,
        e.published_at, e.size_bytes, ${orderSequenceOf} as order_sequence
      from integrations i
      join events e on e.published_at >= i.starts_at and (i.ends_at is null or e.published_at < i.ends_at)
      where i.id = ${integrationId} and ${integrationWantsEvent}
    ),
    ${queueWantedDeliveries}
    select count(*) as queued from queued`.execute(trx);
  return Number(rows[0]?.queued ?? 0);
}
