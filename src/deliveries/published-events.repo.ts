import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Database, Db, DeliveryStatus } from '../db/database.ts';
import type { KeysetPosition } from '../lib/keyset-cursor.ts';
import type { DeliveryListItem, LastResponse } from '../db/read-models.ts';
import { envelopeJson } from '../events/envelope.ts';
import { firstAheadInLine } from '../events/entity-lines.ts';
import { entityOf, eventObjectKey } from '../delivery/s3-keys.ts';

export type { DeliveryListItem, LastResponse };

/*
 * Reading deliveries for View Events and GET /published-events: filters on
 * one table (the event's name, domain entity and time are copied onto each
 * delivery), newest first, keyset-paged on (published_at, event_id) so a deep
 * page costs what the first does. The indexes deliveries_by_time,
 * deliveries_by_domain_entity and deliveries_by_status serve these orders.
 */

export interface DeliveryFilters {
  integrationId?: string;
  domainEntityId?: string;
  domainEntityType?: string;
  status?: DeliveryStatus;
  eventName?: string;
  from?: Date;
  to?: Date;
}

/** A delivery's place in the list order: (published_at, event_id). */
export type Position = KeysetPosition;

export const UUID_SHAPE = /^[0-9a-f-]{36}$/i;

/** The filters as one condition on deliveries. */
function matching(eb: ExpressionBuilder<Database, 'deliveries'>, filters: DeliveryFilters) {
  const conditions: Expression<SqlBool>[] = [];
  if (filters.integrationId) conditions.push(eb('integration_id', '=', filters.integrationId));
  if (filters.domainEntityId) conditions.push(eb('domain_entity_id', '=', filters.domainEntityId));
  if (filters.domainEntityType) conditions.push(eb('domain_entity_type', '=', filters.domainEntityType));
  if (filters.status) conditions.push(eb('status', '=', filters.status));
  if (filters.eventName) conditions.push(eb('event_name', '=', filters.eventName));
  if (filters.from) conditions.push(eb('published_at', '>=', filters.from));
  if (filters.to) conditions.push(eb('published_at', '<', filters.to));
  return eb.and(conditions);
}

/**
 * A page of deliveries. `after` continues towards older ones, `before` goes
 * back towards newer ones; the page itself is always newest first.
 */
export async function listDeliveries(
  db: Db,
  input: { filters: DeliveryFilters; limit: number; after?: Position; before?: Position },
): Promise<{ items: DeliveryListItem[]; hasOlder: boolean; hasNewer: boolean }> {
  const { filters } = input;
  let query = db
    .selectFrom('deliveries')
    .select([
      'integration_id',
      sql<string>`event_id::text`.as('event_id'),
      'event_name',
      'domain_entity_type',
      'domain_entity_id',
      'published_at',
      'status',
      'attempts',
      'last_attempted_at',
      'last_status_code',
      'last_error',
      'response_time_ms',
    ]);
  query = query.where((eb) => matching(eb, filters));

  const backwards = Boolean(input.before && !input.after);
  const position = input.after ?? input.before;
  if (position) {
    query = query.where((eb) =>
      eb(
        eb.refTuple('published_at', 'event_id'),
        backwards ? '>' : '<',
        eb.tuple(position.at, sql<string>`${position.id}::uuid`),
      ),
    );
  }
  const direction = backwards ? 'asc' : 'desc';
  const rows = await query
    .orderBy('published_at', direction)
    .orderBy('event_id', direction)
    .limit(input.limit + 1)
    .execute();
  const more = rows.length > input.limit;
  const page = rows.slice(0, input.limit);
  if (backwards) page.reverse();
  return {
    items: page,
    hasOlder: backwards ? true : more,
    hasNewer: backwards ? more : Boolean(input.after),
  };
}

export function positionOf(item: DeliveryListItem): Position {
  return { at: item.published_at, id: item.event_id };
}

/** One delivery with its event and every attempt, for the detail view. */
export async function findDeliveryDetail(db: Db, integrationId: string, eventId: string) {
  if (!UUID_SHAPE.test(eventId)) return undefined;
  const delivery = await db
    .selectFrom('deliveries')
    .leftJoin('events', 'events.id', 'deliveries.event_id')
    .leftJoin('s3_batches', 's3_batches.id', 'deliveries.batch_id')
    .select([
      's3_batches.object_key',
      'deliveries.integration_id',
      sql<string>`deliveries.event_id::text`.as('event_id'),
      'deliveries.event_name',
      'deliveries.domain_entity_type',
      'deliveries.domain_entity_id',
      'deliveries.published_at',
      'deliveries.status',
      'deliveries.attempts',
      'deliveries.next_attempt_at',
      'deliveries.order_sequence',
      'deliveries.last_attempted_at',
      'events.tenant',
      'events.payload',
      'events.entity',
      'events.entity_id',
    ])
    .where('deliveries.integration_id', '=', integrationId)
    .where('deliveries.event_id', '=', eventId)
    .executeTakeFirst();
  if (!delivery) return undefined;
  const attempts = await db
    .selectFrom('delivery_attempts')
    .select([
      'attempted_at',
      'duration_ms',
      'outcome',
      'trigger',
      'status_code',
      'error_class',
      'error_message',
      'response_body',
    ])
    .where('integration_id', '=', integrationId)
    .where('event_id', '=', eventId)
    .orderBy('attempted_at')
    .orderBy('id')
    .execute();
  // Only a pending delivery of an ordered line can wait for another.
  const waitsFor =
    delivery.status === 'pending' && delivery.order_sequence !== null
      ? await firstAheadInLine(db, integrationId, eventId)
      : undefined;
  // A delivery waiting in its line has no time of its own ('infinity', read as a number).
  const nextAttemptAt = delivery.next_attempt_at instanceof Date ? delivery.next_attempt_at : null;
  // A partitioned batch's objects: the one that holds this event.
  const objectKey =
    delivery.object_key &&
    eventObjectKey(delivery.object_key, {
      eventName: delivery.event_name,
      entity: delivery.entity ?? entityOf(delivery.event_name),
      publishedMs: delivery.published_at.getTime(),
    });
  // An S3 event waiting in a sealed batch has no attempts of its own: its batch's uploads are its attempts.
  const batch =
    delivery.status === 'pending' && attempts.length === 0
      ? await sealedBatchOf(db, integrationId, eventId)
      : undefined;
  return {
    delivery: {
      ...delivery,
      object_key: objectKey,
      next_attempt_at: batch ? batch.next_attempt_at : nextAttemptAt,
    },
    attempts: batch ? batch.attempts : attempts,
    waitsFor,
    inBatch: batch ? { attempts: batch.attempts.length } : undefined,
  };
}

/**
 * The sealed (not yet uploaded) S3 batch that holds this event, with its
 * upload attempts in the shape of a delivery's. Sealed batches are few
 * (s3_batches_due holds only them), so the member array is searched.
 */
async function sealedBatchOf(db: Db, integrationId: string, eventId: string) {
  const batch = await db
    .selectFrom('s3_batches')
    .select(['id', 'next_attempt_at'])
    .where('status', '=', 'sealed')
    .where('integration_id', '=', integrationId)
    .where(sql<boolean>`${eventId}::uuid = any(member_ids)`)
    .executeTakeFirst();
  if (!batch) return undefined;
  const rows = await db
    .selectFrom('s3_batch_attempts')
    .select(['attempted_at', 'duration_ms', 'outcome', 'error_code', 'error_message'])
    .where('batch_id', '=', batch.id)
    .orderBy('attempted_at')
    .orderBy('id')
    .execute();
  return {
    next_attempt_at: batch.next_attempt_at,
    attempts: rows.map((row) => ({
      attempted_at: row.attempted_at,
      duration_ms: row.duration_ms,
      outcome: row.outcome as string,
      trigger: 'batch upload',
      status_code: null,
      error_class: row.error_code,
      error_message: row.error_message,
      response_body: null,
    })),
  };
}

/**
 * The key of the S3 object that holds each of these delivered events, by
 * event id (a partitioned batch: the object of the event's partition).
 */
export async function objectKeysOf(db: Db, integrationId: string, eventIds: string[]): Promise<Map<string, string>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('deliveries')
    .innerJoin('s3_batches', 's3_batches.id', 'deliveries.batch_id')
    .innerJoin('events', 'events.id', 'deliveries.event_id')
    .select([
      sql<string>`deliveries.event_id::text`.as('event_id'),
      'deliveries.event_name',
      'deliveries.published_at',
      'events.entity',
      's3_batches.object_key',
    ])
    .where('deliveries.integration_id', '=', integrationId)
    .where(sql<SqlBool>`deliveries.event_id = any(${eventIds}::uuid[])`)
    .execute();
  return new Map(
    rows.map((row) => [
      row.event_id,
      eventObjectKey(row.object_key, {
        eventName: row.event_name,
        entity: row.entity,
        publishedMs: row.published_at.getTime(),
      }),
    ]),
  );
}

/** The last attempt of each of these deliveries: what the consumer answered. */
export async function lastResponses(
  db: Db,
  integrationId: string,
  eventIds: string[],
): Promise<Map<string, LastResponse>> {
  if (eventIds.length === 0) return new Map();
  const { rows } = await sql<LastResponse>`
    select distinct on (event_id) event_id::text, status_code, error_message, response_body
    from delivery_attempts
    where integration_id = ${integrationId} and event_id = any(${eventIds}::uuid[])
    order by event_id, attempted_at desc, id desc`.execute(db);
  return new Map(rows.map((row) => [row.event_id, row]));
}

/** Finished deliveries (failure or rejected) a bulk retry would take: those matching, with one of these statuses. */
const RETRYABLE: DeliveryStatus[] = ['failure', 'rejected'];

export async function countRetryable(db: Db, filters: DeliveryFilters & { integrationId: string }): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where((eb) => matching(eb, filters))
    .where('status', 'in', filters.status && RETRYABLE.includes(filters.status) ? [filters.status] : RETRYABLE)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Bulk retry: every failed or rejected delivery matching the filters goes
 * back to pending, due now, with a fresh retry schedule. Returns how many.
 */
export async function retryMatching(
  db: Db,
  filters: DeliveryFilters & { integrationId: string },
  now: Date,
): Promise<number> {
  const result = await db
    .updateTable('deliveries')
    .set({
      status: 'pending',
      next_attempt_at: now,
      attempts: 0,
      lease_owner: null,
      lease_expires_at: null,
      next_attempt_trigger: 'manual',
    })
    .where((eb) => matching(eb, filters))
    .where('status', 'in', filters.status && RETRYABLE.includes(filters.status) ? [filters.status] : RETRYABLE)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** payload.id of each event, by event id (one primary-key lookup per row). */
export async function entityIdsOf(db: Db, eventIds: string[]): Promise<Map<string, string | null>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('events')
    .select([sql<string>`id::text`.as('id'), 'entity_id'])
    .where('id', 'in', eventIds)
    .execute();
  return new Map(rows.map((row) => [row.id, row.entity_id]));
}

/** The envelope a receiver gets, as stored; null once retention pruned the event. */
export function envelopeOf(delivery: {
  event_id: string;
  tenant: string | null;
  event_name: string;
  published_at: Date;
  payload: string | null;
}) {
  if (delivery.payload === null) return null;
  return envelopeJson({
    id: delivery.event_id,
    tenant: delivery.tenant!,
    name: delivery.event_name,
    publishedAt: delivery.published_at,
    payloadJson: delivery.payload,
  });
}
