import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { type EntityLine, orderSequenceOf } from './entity-lines.ts';
import { integrationWantsEvent, queueWantedDeliveries } from './fan-out.ts';
import type { NewEvent } from './events.schema.ts';

export interface StoredBatch {
  /** Ids inserted now; the others of the batch were stored before (duplicates). */
  storedIds: Set<string>;
  /** Integrations that got at least one new pending delivery. */
  integrationIds: string[];
  queuedDeliveries: number;
  /** Lines (of ordered integrations) in which a delivery was stored waiting: to release after the commit. */
  waitingLines: EntityLine[];
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
  const { rows } = await sql<{
    stored: string[];
    integrations: string[];
    queued: string;
    lines: [string, string, string][];
  }>`
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
      ) with ordinality as t(id, name, entity, entity_id, domain_entity_type, domain_entity_id, published_at, payload, size_bytes, place)
    ),
    stored as (
      -- In the order given, so that each event's sequence is its ingest order.
      insert into events (id, tenant, name, entity, entity_id, domain_entity_type, domain_entity_id, published_at, payload, size_bytes)
      select id, ${tenant}, name, entity, entity_id, domain_entity_type, domain_entity_id, published_at, payload, size_bytes
      from incoming
      order by place
      on conflict (id) do nothing
      returning id, name, entity, domain_entity_type, domain_entity_id, published_at, size_bytes, sequence
    ),
    wanted as (
      select i.id as integration_id, e.id as event_id, e.name as event_name, e.domain_entity_type, e.domain_entity_id,
        e.published_at, e.size_bytes, ${orderSequenceOf} as order_sequence
      from stored e
      join integrations i on ${integrationWantsEvent}
    ),
    ${queueWantedDeliveries}
    select
      array(select id::text from stored) as stored,
      array(select distinct integration_id from queued) as integrations,
      (select count(*) from queued) as queued,
      coalesce((select json_agg(distinct jsonb_build_array(integration_id, domain_entity_type, domain_entity_id))
        from queued where waits), '[]') as lines`.execute(trx);
  const row = rows[0]!;
  return {
    storedIds: new Set(row.stored),
    integrationIds: row.integrations,
    queuedDeliveries: Number(row.queued),
    waitingLines: row.lines.map(([integrationId, domainEntityType, domainEntityId]) => ({
      integrationId,
      domainEntityType,
      domainEntityId,
    })),
  };
}
