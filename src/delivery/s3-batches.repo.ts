import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, Db, IntegrationRow, S3Compression, S3Format } from '../db/database.ts';
import { batchKeyPattern, entityOf, eventObjectKey, isPartitioned, objectExtension, usesEntity } from './s3-keys.ts';

/*
 * S3 batches: seal (fix id, key and members) before any upload, so that a
 * retry — also after a crash — rebuilds the same bytes under the same key.
 */

/** Pending deliveries read per round trip while cutting batches. */
const SEAL_PAGE = 10_000;

export interface SealedBatch {
  id: string;
  /** Its objects' key pattern (the key itself, unpartitioned). */
  object_key: string;
  object_keys: string[];
  event_count: number;
  byte_count: number;
}

/**
 * Seals an integration's next batches, oldest pending deliveries first, as
 * many as bring its sealed (not yet uploaded) batches to `maxOpen`. Each
 * takes deliveries while its NDJSON stays within `maxBytes` (at least one);
 * full batches are always sealed, the remainder only once `intervalMs` has
 * passed since the integration's previous batch was sent. One transaction
 * holding the integration's row, so one worker seals for it at a time; it
 * writes one row per batch — the members' ids, in object-line order
 * (publication, then id; partitioned, by object key first), its objects'
 * keys and how it is written — and leaves the deliveries alone. Returns
 * what it sealed.
 */
export async function sealBatches(
  db: Kysely<Database>,
  integration: IntegrationRow,
  input: { tenant: string; maxBytes: number; intervalMs: number; maxOpen: number; now: Date; pageSize?: number },
): Promise<SealedBatch[]> {
  return db.transaction().execute(async (trx) => {
    const locked = await trx
      .selectFrom('integrations')
      .select(['last_batch_sent_at', 'created_at'])
      .where('id', '=', integration.id)
      .where('status', '=', 'running')
      // NO KEY: FOR UPDATE conflicts with the FOR KEY SHARE that every open
      // ingest transaction holds on this row (its deliveries' foreign key),
      // so under steady ingest SKIP LOCKED skipped sealing every time.
      .forNoKeyUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!locked) return [];
    const due = input.now.getTime() - (locked.last_batch_sent_at ?? locked.created_at).getTime() >= input.intervalMs;
    const open = await trx
      .selectFrom('s3_batches')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('integration_id', '=', integration.id)
      .where('status', '=', 'sealed')
      .executeTakeFirstOrThrow();
    if (Number(open.count) >= input.maxOpen) return [];
    const room = input.maxOpen - Number(open.count);
    const pageSize = input.pageSize ?? SEAL_PAGE;

    // Oldest first, in the order of the pending index, skipping members of
    // sealed batches (a hashed NOT IN: one lookup per row); a cursor, so a
    // large backlog is read only as far as the batches it fills.
    await sql`declare unbatched no scroll cursor for
      select event_id::text as id, (extract(epoch from published_at) * 1000)::float8 as published_ms, size_bytes, event_name from deliveries
      where integration_id = ${integration.id} and status = 'pending'
        and event_id not in (select unnest(member_ids) from s3_batches where integration_id = ${integration.id} and status = 'sealed')
      order by next_attempt_at`.execute(trx);
    // A group's members as parallel arrays (a batch can be 50,000+ of them).
    type Group = { ids: string[]; publishedMs: number[]; names: string[]; bytes: number };
    const groups: Group[] = [];
    const emptyGroup = (): Group => ({ ids: [], publishedMs: [], names: [], bytes: 0 });
    let group = emptyGroup();
    read: for (;;) {
      const { rows } = await sql<{
        id: string;
        published_ms: string;
        size_bytes: number;
        event_name: string;
      }>`fetch ${sql.lit(pageSize)} from unbatched`.execute(trx);
      for (const row of rows) {
        const bytes = row.size_bytes + 1; // and its newline
        if (group.ids.length > 0 && group.bytes + bytes > input.maxBytes) {
          groups.push(group);
          group = emptyGroup();
          if (groups.length === room) break read;
        }
        group.ids.push(row.id);
        group.publishedMs.push(Number(row.published_ms));
        group.names.push(row.event_name);
        group.bytes += bytes;
      }
      if (rows.length < pageSize) break;
    }
    await sql`close unbatched`.execute(trx);
    if (group.ids.length > 0 && groups.length < room && (due || group.bytes >= input.maxBytes)) groups.push(group);

    const template = integration.s3_key_template;
    const catalog = usesEntity(template)
      ? new Map(
          (await trx.selectFrom('event_types').select(['name', 'entity']).execute()).map((t) => [t.name, t.entity]),
        )
      : undefined;
    const sealed: SealedBatch[] = [];
    for (const members of groups) {
      const id = randomUUID();
      const pattern = batchKeyPattern(template, {
        keyPrefix: integration.s3_key_prefix,
        tenant: input.tenant,
        sealedAt: input.now,
        batchId: id,
        integrationId: integration.id,
        extension: objectExtension(integration.s3_format, integration.s3_compression),
      });
      const { ids, publishedMs, names } = members;
      const keys = isPartitioned(template)
        ? names.map((eventName, i) =>
            eventObjectKey(pattern, { eventName, entity: entityOf(eventName, catalog), publishedMs: publishedMs[i]! }),
          )
        : undefined;
      const order = ids
        .map((_, i) => i)
        .sort(
          (a, b) =>
            (keys ? compareText(keys[a]!, keys[b]!) : 0) ||
            publishedMs[a]! - publishedMs[b]! ||
            compareText(ids[a]!, ids[b]!),
        );
      const objects = objectsInOrder(order.map((i) => keys?.[i] ?? pattern));
      const batch = {
        id,
        object_key: pattern,
        object_keys: objects.keys,
        event_count: ids.length,
        byte_count: members.bytes,
      };
      // The ids as one comma-separated text: 50,000 array elements would each be escaped and quoted.
      await sql`
        insert into s3_batches (id, integration_id, object_key, event_count, byte_count, sealed_at, next_attempt_at, member_ids,
          format, compression, object_keys, object_event_counts)
        values (${id}, ${integration.id}, ${pattern}, ${batch.event_count}, ${batch.byte_count}, ${input.now}, ${input.now},
          string_to_array(${order.map((i) => ids[i]!).join(',')}, ',')::uuid[],
          ${integration.s3_format}, ${integration.s3_compression}, ${objects.keys}::text[], ${objects.counts}::int[])`.execute(
        trx,
      );
      sealed.push(batch);
    }
    return sealed;
  });
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Runs of equal keys, in order: each object's key and how many members it holds. */
function objectsInOrder(memberKeys: string[]): { keys: string[]; counts: number[] } {
  const keys: string[] = [];
  const counts: number[] = [];
  for (const key of memberKeys) {
    if (keys.at(-1) === key) counts[counts.length - 1]!++;
    else {
      keys.push(key);
      counts.push(1);
    }
  }
  return { keys, counts };
}

export interface ClaimedBatch {
  id: string;
  integration_id: string;
  object_key: string;
  format: S3Format;
  compression: S3Compression;
  object_keys: string[];
  object_event_counts: number[];
  event_count: number;
  byte_count: number;
  attempts: number;
}

/** Leases sealed batches that are due (several workers: each batch to one of them). */
export async function claimDueBatches(
  db: Db,
  input: { integrationIds: string[]; owner: string; now: Date; leaseMs: number; limit: number },
): Promise<ClaimedBatch[]> {
  if (input.integrationIds.length === 0) return [];
  const { rows } = await sql<ClaimedBatch>`
    with due as (
      select id from s3_batches
      where status = 'sealed' and next_attempt_at <= ${input.now} and integration_id = any(${input.integrationIds}::text[])
        and (lease_expires_at is null or lease_expires_at <= ${input.now})
        and integration_id in (select id from integrations where status = 'running')
      order by next_attempt_at
      limit ${input.limit}
      for update skip locked
    )
    update s3_batches b set lease_owner = ${input.owner}, lease_expires_at = ${new Date(input.now.getTime() + input.leaseMs)}
    from due where b.id = due.id
    returning b.id::text, b.integration_id, b.object_key, b.format, b.compression, b.object_keys, b.object_event_counts, b.event_count, b.byte_count::float8 as byte_count, b.attempts`.execute(
    db,
  );
  return rows;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Which of an event's fields a batch page reads: the NDJSON envelope's, or a Parquet row's. */
export type BatchColumns = 'envelope' | 'parquet';

const BATCH_COLUMNS: Record<BatchColumns, string> = {
  envelope: 'e.id, e.tenant, e.name, e.published_at, e.payload',
  parquet:
    'e.id, e.tenant, e.name, e.published_at, e.entity, e.entity_id, e.domain_entity_type, e.domain_entity_id, e.payload',
};
export const BATCH_COLUMN_COUNTS: Record<BatchColumns, number> = { envelope: 5, parquet: 9 };

/**
 * The query for one page of a sealed batch's events — the envelope's
 * fields (id, tenant, name, published_at, payload), or a Parquet row's —
 * in object-line order: members `from` to `to` (1-based, inclusive), each
 * looked up by primary key. An event pruned by retention under a sealed
 * batch is simply not there. With its values as literals, for COPY (which
 * takes no parameters).
 */
export function batchEnvelopesQuery(
  batchId: string,
  from: number,
  to: number,
  columns: BatchColumns = 'envelope',
): string {
  if (!UUID.test(batchId) || !Number.isSafeInteger(from) || !Number.isSafeInteger(to))
    throw new Error(`not a batch page: ${batchId} ${from}..${to}`);
  return `select ${BATCH_COLUMNS[columns]}
    from unnest((select member_ids[${from}:${to}] from s3_batches where id = '${batchId}')) with ordinality as m(id, position)
    join events e on e.id = m.id
    order by m.position`;
}

/**
 * Marks an uploaded batch and all its members delivered, in one transaction
 * guarded by the lease: attempted at = upload time; the integration's
 * counters and the minute rollup follow.
 */
export async function markBatchUploaded(
  db: Kysely<Database>,
  input: { batchId: string; integrationId: string; owner: string; uploadedAt: Date; durationMs: number },
) {
  return db.transaction().execute(async (trx) => {
    const batch = await trx
      .updateTable('s3_batches')
      .set({
        status: 'uploaded',
        uploaded_at: input.uploadedAt,
        attempts: sql`attempts + 1`,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
      })
      .where('id', '=', input.batchId)
      .where('lease_owner', '=', input.owner)
      .returning(['id'])
      .executeTakeFirst();
    if (!batch) return false;
    // Its members, by primary key: status and batch in the one write each delivery gets.
    const marked = await sql`
      update deliveries d set status = 'success', batch_id = ${input.batchId}, attempts = d.attempts + 1,
        last_attempted_at = ${input.uploadedAt}, response_time_ms = ${input.durationMs}, last_error = null, next_attempt_at = ${input.uploadedAt}
      from unnest((select member_ids from s3_batches where id = ${input.batchId})) as m(event_id)
      where d.integration_id = ${input.integrationId} and d.event_id = m.event_id and d.status = 'pending'`.execute(
      trx,
    );
    const delivered = Number(marked.numAffectedRows ?? 0n);
    await trx.updateTable('s3_batches').set({ member_ids: [] }).where('id', '=', input.batchId).execute();
    await trx
      .insertInto('s3_batch_attempts')
      .values({
        batch_id: input.batchId,
        attempted_at: input.uploadedAt,
        duration_ms: input.durationMs,
        outcome: 'success',
      })
      .execute();
    await sql`
      update integrations set delivered_count = delivered_count + ${delivered},
        last_delivery_at = greatest(last_delivery_at, ${input.uploadedAt}), last_batch_sent_at = ${input.uploadedAt}, failing_since = null
      where id = ${input.integrationId}`.execute(trx);
    await sql`
      insert into delivery_minutes as m (integration_id, minute, delivered, total_duration_ms)
      values (${input.integrationId}, date_trunc('minute', ${input.uploadedAt}::timestamptz), ${delivered}, ${input.durationMs})
      on conflict (integration_id, minute) do update set delivered = m.delivered + excluded.delivered`.execute(trx);
    return true;
  });
}

/** Records a failed upload and when to try again (transient: retry) or leaves it for a restart (permanent: interrupt). */
export async function markBatchFailed(
  db: Db,
  input: {
    batchId: string;
    owner: string;
    attemptedAt: Date;
    durationMs: number;
    permanent: boolean;
    errorCode: string;
    errorMessage: string;
    nextAttemptAt: Date;
  },
) {
  await db
    .updateTable('s3_batches')
    .set({
      attempts: sql`attempts + 1`,
      next_attempt_at: input.nextAttemptAt,
      lease_owner: null,
      lease_expires_at: null,
      last_error: `${input.errorCode}: ${input.errorMessage}`.slice(0, 2000),
    })
    .where('id', '=', input.batchId)
    .where('lease_owner', '=', input.owner)
    .execute();
  await db
    .insertInto('s3_batch_attempts')
    .values({
      batch_id: input.batchId,
      attempted_at: input.attemptedAt,
      duration_ms: input.durationMs,
      outcome: input.permanent ? 'interrupt' : 'retry',
      error_code: input.errorCode,
      error_message: input.errorMessage.slice(0, 2000),
    })
    .execute();
}

export async function runningS3Integrations(db: Db): Promise<IntegrationRow[]> {
  return db
    .selectFrom('integrations')
    .selectAll()
    .where('status', '=', 'running')
    .where('target_kind', '=', 's3')
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
}

/**
 * Hands back sealed batches leased by `owner` (these, or all of them), due
 * at once for any worker, without counting an attempt: for a shutdown, or
 * a batch whose integration stopped between sealing and upload.
 */
export async function releaseBatchLeases(db: Db, owner: string, batchIds?: string[]): Promise<void> {
  let query = db
    .updateTable('s3_batches')
    .set({ lease_owner: null, lease_expires_at: null })
    .where('lease_owner', '=', owner)
    .where('status', '=', 'sealed');
  if (batchIds) query = query.where('id', 'in', batchIds);
  await query.execute();
}
