import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { integrationWantsEvent } from './fan-out.ts';
import type { NewEvent } from './events.schema.ts';

export interface StoredBatch {
  /** Ids inserted now; the others of the batch were stored before (duplicates). */
  storedIds: Set<string>;
  /** Integrations that got at least one new pending delivery. */
  integrationIds: string[];
  queuedDeliveries: number;
}

/**
 * Stores new events and queues one pending delivery per integration that
 * wants each, in one statement (run it inside the ingest transaction, after
 * takeIngestLock). Events whose id exists already are skipped, so a resent
 * event is stored once. Rows travel as one array per column (unnest), which
 * keeps the statement's text and parameter count fixed whatever the batch size.
 */
export async function insertEventsAndQueueDeliveries(
  trx: Db,
  tenant: string,
  events: NewEvent[],
): Promise<StoredBatch> {
  const { rows } = await sql<{ stored: string[]; integrations: string[]; queued: string }>`
    with incoming as (
      select * from unnest(
        ${events.map((event) => event.id)}::uuid[],
        ${events.map((event) => event.name)}::text[],
        ${events.map((event) => event.entity)}::text[],
        ${events.map((event) => event.entityId)}::text[],
        ${events.map((event) => event.domainEntityType)}::text[],
        ${events.map((event) => event.domainEntityId)}::text[],
        ${events.map((event) => event.publishedAt.toISOString())}::timestamptz[],
        ${events.map((event) => event.payloadJson)}::text[],
        ${events.map((event) => event.sizeBytes)}::integer[]
      ) as t(id, name, entity, entity_id, domain_entity_type, domain_entity_id, published_at, payload, size_bytes)
    ),
    stored as (
      insert into events (id, tenant, name, entity, entity_id, domain_entity_type, domain_entity_id, published_at, payload, size_bytes)
      select id, ${tenant}, name, entity, entity_id, domain_entity_type, domain_entity_id, published_at, payload, size_bytes
      from incoming
      on conflict (id) do nothing
      returning id, name, entity, domain_entity_type, domain_entity_id, published_at, size_bytes
    ),
    queued as (
      insert into deliveries (integration_id, event_id, event_name, domain_entity_type, domain_entity_id, published_at, size_bytes)
      select i.id, e.id, e.name, e.domain_entity_type, e.domain_entity_id, e.published_at, e.size_bytes
      from stored e
      join integrations i on ${integrationWantsEvent}
      on conflict (integration_id, event_id) do nothing
      returning integration_id
    )
    select
      array(select id::text from stored) as stored,
      array(select distinct integration_id from queued) as integrations,
      (select count(*) from queued) as queued`.execute(trx);
  const row = rows[0]!;
  return { storedIds: new Set(row.stored), integrationIds: row.integrations, queuedDeliveries: Number(row.queued) };
}
