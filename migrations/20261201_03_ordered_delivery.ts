import { type Kysely, sql } from 'kysely';

/*
 * Ordered delivery per domain entity (issue 16).
 *
 * events.sequence: ingest order, from a sequence, breaking ties in
 * published_at. Added without a default first and given one after, so
 * that the table is not rewritten: events stored before have none (0 is
 * used for them, and then the event id).
 *
 * integrations.ordering: 'unordered' (today's behaviour) or
 * 'by_domain_entity'.
 *
 * deliveries.order_sequence: set, from its event's sequence, only on the
 * deliveries of an ordered integration whose event has a domain entity;
 * null means "not ordered". deliveries_entity_line serves "the earliest
 * unsettled delivery of this entity" for exactly those rows, so unordered
 * integrations pay nothing for it at ingest. A delivery that waits for an
 * earlier one of its entity is pending with next_attempt_at = 'infinity':
 * the claim's range scan of deliveries_due never reaches it.
 *
 * The index is on one key per line, delivery_line(…), and the queries ask
 * for that key, so that no other index can serve them: on (integration_id,
 * domain_entity_type, domain_entity_id) it lost to deliveries_due on a table
 * not yet analyzed (a fresh deployment), whose filter then read every
 * pending delivery of the integration per line (44 ms instead of 0.4 ms
 * for 16 lines of a 16,000-delivery backlog). The length keeps keys apart
 * whatever the type holds.
 */

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create sequence events_sequence`.execute(db);
  await sql`alter table events add column sequence bigint`.execute(db);
  await sql`alter table events alter column sequence set default nextval('events_sequence')`.execute(db);
  await sql`alter table integrations add column ordering text not null default 'unordered'
    constraint integrations_ordering_known check (ordering in ('unordered', 'by_domain_entity'))`.execute(db);
  await sql`alter table deliveries add column order_sequence bigint`.execute(db);
  await sql`create function delivery_line(integration_id text, domain_entity_type text, domain_entity_id text)
    returns text language sql immutable parallel safe
    return integration_id || ' ' || length(domain_entity_type) || ' ' || domain_entity_type || ' ' || domain_entity_id`.execute(
    db,
  );
  await sql`create index deliveries_entity_line
    on deliveries (delivery_line(integration_id, domain_entity_type, domain_entity_id), published_at, order_sequence, event_id)
    where status = 'pending' and order_sequence is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`update deliveries set next_attempt_at = now() where next_attempt_at = 'infinity'`.execute(db);
  await sql`drop index deliveries_entity_line`.execute(db);
  await sql`drop function delivery_line`.execute(db);
  await sql`alter table deliveries drop column order_sequence`.execute(db);
  await sql`alter table integrations drop column ordering`.execute(db);
  await sql`alter table events drop column sequence`.execute(db);
  await sql`drop sequence events_sequence`.execute(db);
}
