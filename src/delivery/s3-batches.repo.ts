import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, Db, IntegrationRow } from '../db/database.ts';

/*
 * S3 batches: seal (fix id, key and members) before any upload, so that a
 * retry — also after a crash — rebuilds the same bytes under the same key.
 */

/** Candidates read per seal; a 50 MB batch of ~1 KB events is ~50,000. */
const SEAL_SCAN_LIMIT = 200_000;

/** `{key_prefix}/{tenant}/{timestamp_ms}-data-{batch_id}.export[.gz]` (no leading slash without a prefix). */
export function objectKey(integration: IntegrationRow, tenant: string, sealedAt: Date, batchId: string): string {
  const prefix = integration.s3_key_prefix ? `${integration.s3_key_prefix}/` : '';
  return `${prefix}${tenant}/${sealedAt.getTime()}-data-${batchId}.export${integration.s3_gzip ? '.gz' : ''}`;
}

export interface PendingVolume {
  events: number;
  bytes: number;
}

/** How much waits, unbatched, for an integration. */
export async function pendingVolume(db: Db, integrationId: string): Promise<PendingVolume> {
  const { rows } = await sql<{ events: string; bytes: string | null }>`
    select count(*) as events, sum(size_bytes + 1) as bytes
    from deliveries
    where integration_id = ${integrationId} and status = 'pending' and batch_id is null`.execute(db);
  return { events: Number(rows[0]!.events), bytes: Number(rows[0]!.bytes ?? 0) };
}

export interface SealedBatch {
  id: string;
  object_key: string;
  event_count: number;
  byte_count: string;
}

/**
 * Seals the next batch of an integration: its oldest unbatched pending
 * deliveries up to `maxBytes` of NDJSON (at least one), in one transaction
 * that holds the integration's row so that only one worker seals for it at a
 * time. Returns undefined when nothing waits.
 */
export async function sealBatch(db: Kysely<Database>, integration: IntegrationRow, input: { tenant: string; maxBytes: number; now: Date }): Promise<SealedBatch | undefined> {
  return db.transaction().execute(async (trx) => {
    const locked = await trx.selectFrom('integrations').select('id').where('id', '=', integration.id).where('status', '=', 'running').forUpdate().skipLocked().executeTakeFirst();
    if (!locked) return undefined;
    // Members are a prefix of the (published_at, event_id) order whose running
    // NDJSON size stays within maxBytes (at least one). All in the database:
    // no member list travels to this process.
    const id = randomUUID();
    const key = objectKey(integration, input.tenant, input.now, id);
    // The batch row first (members reference it), its counts once they are known.
    await trx
      .insertInto('s3_batches')
      .values({ id, integration_id: integration.id, object_key: key, event_count: 0, byte_count: 0, sealed_at: input.now, next_attempt_at: input.now })
      .execute();
    const { rows } = await sql<{ event_count: string; byte_count: string | null }>`
      with candidates as (
        select event_id, published_at,
          sum(size_bytes + 1) over (order by published_at, event_id) as running,
          row_number() over (order by published_at, event_id) as position
        from deliveries
        where integration_id = ${integration.id} and status = 'pending' and batch_id is null
        order by published_at, event_id
        limit ${SEAL_SCAN_LIMIT}
      ),
      members as (select event_id, running from candidates where running <= ${input.maxBytes} or position = 1),
      marked as (
        update deliveries d set batch_id = ${id}
        from members m where d.integration_id = ${integration.id} and d.event_id = m.event_id
        returning d.event_id
      )
      select (select count(*) from marked) as event_count, (select max(running) from members) as byte_count`.execute(trx);
    const eventCount = Number(rows[0]!.event_count);
    if (eventCount === 0) {
      await trx.deleteFrom('s3_batches').where('id', '=', id).execute();
      return undefined;
    }
    const byteCount = Number(rows[0]!.byte_count);
    await trx.updateTable('s3_batches').set({ event_count: eventCount, byte_count: byteCount }).where('id', '=', id).execute();
    return { id, object_key: key, event_count: eventCount, byte_count: String(byteCount) };
  });
}

export interface ClaimedBatch {
  id: string;
  integration_id: string;
  object_key: string;
  event_count: number;
  attempts: number;
}

/** Leases sealed batches that are due (several workers: each batch to one of them). */
export async function claimDueBatches(db: Db, input: { integrationIds: string[]; owner: string; now: Date; leaseMs: number; limit: number }): Promise<ClaimedBatch[]> {
  if (input.integrationIds.length === 0) return [];
  const { rows } = await sql<ClaimedBatch>`
    with due as (
      select id from s3_batches
      where status = 'sealed' and next_attempt_at <= ${input.now} and integration_id = any(${input.integrationIds}::text[])
        and (lease_expires_at is null or lease_expires_at <= ${input.now})
      order by next_attempt_at
      limit ${input.limit}
      for update skip locked
    )
    update s3_batches b set lease_owner = ${input.owner}, lease_expires_at = ${new Date(input.now.getTime() + input.leaseMs)}
    from due where b.id = due.id
    returning b.id::text, b.integration_id, b.object_key, b.event_count, b.attempts`.execute(db);
  return rows;
}

/** A batch's member ids in the order of its object's lines (publication, then id). */
export async function batchMemberIds(db: Db, batchId: string): Promise<string[]> {
  const { rows } = await sql<{ event_id: string }>`
    select event_id::text from deliveries where batch_id = ${batchId} order by published_at, event_id`.execute(db);
  return rows.map((row) => row.event_id);
}

/** The events that make these envelopes, by id (primary-key lookups). */
export async function eventsById(db: Db, ids: string[]) {
  const { rows } = await sql<{ id: string; tenant: string; name: string; published_at: Date; payload: string }>`
    select id::text, tenant, name, published_at, payload from events where id = any(${ids}::uuid[])`.execute(db);
  return new Map(rows.map((row) => [row.id, row]));
}

/**
 * Marks an uploaded batch and all its members delivered, in one transaction
 * guarded by the lease: attempted at = upload time; the integration's
 * counters and the minute rollup follow.
 */
export async function markBatchUploaded(db: Kysely<Database>, input: { batchId: string; integrationId: string; owner: string; uploadedAt: Date; durationMs: number }) {
  return db.transaction().execute(async (trx) => {
    const batch = await trx
      .updateTable('s3_batches')
      .set({ status: 'uploaded', uploaded_at: input.uploadedAt, attempts: sql`attempts + 1`, lease_owner: null, lease_expires_at: null, last_error: null })
      .where('id', '=', input.batchId)
      .where('lease_owner', '=', input.owner)
      .returning(['event_count'])
      .executeTakeFirst();
    if (!batch) return false;
    const marked = await trx
      .updateTable('deliveries')
      .set({ status: 'success', attempts: sql`attempts + 1`, last_attempted_at: input.uploadedAt, response_time_ms: input.durationMs, last_error: null, next_attempt_at: input.uploadedAt })
      .where('batch_id', '=', input.batchId)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    const delivered = Number(marked.numUpdatedRows);
    await trx.insertInto('s3_batch_attempts').values({ batch_id: input.batchId, attempted_at: input.uploadedAt, duration_ms: input.durationMs, outcome: 'success' }).execute();
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

/** Records a failed upload and when to try again (transient) or leaves it for a restart (permanent). */
export async function markBatchFailed(
  db: Db,
  input: { batchId: string; owner: string; attemptedAt: Date; durationMs: number; permanent: boolean; errorCode: string; errorMessage: string; nextAttemptAt: Date },
) {
  await db
    .updateTable('s3_batches')
    .set({ attempts: sql`attempts + 1`, next_attempt_at: input.nextAttemptAt, lease_owner: null, lease_expires_at: null, last_error: `${input.errorCode}: ${input.errorMessage}`.slice(0, 2000) })
    .where('id', '=', input.batchId)
    .where('lease_owner', '=', input.owner)
    .execute();
  await db
    .insertInto('s3_batch_attempts')
    .values({ batch_id: input.batchId, attempted_at: input.attemptedAt, duration_ms: input.durationMs, outcome: input.permanent ? 'permanent' : 'retry', error_code: input.errorCode, error_message: input.errorMessage.slice(0, 2000) })
    .execute();
}

export async function runningS3Integrations(db: Db): Promise<IntegrationRow[]> {
  return db.selectFrom('integrations').selectAll().where('status', '=', 'running').where('target_kind', '=', 's3').where('deleted_at', 'is', null).orderBy('id').execute();
}
