import { type Kysely, sql } from 'kysely';

/*
 * S3 batch members move from deliveries.batch_id onto the batch row.
 *
 * Sealing used to write batch_id into every member delivery, and marking
 * wrote each delivery again: two non-HOT updates per event (≈ 40 µs each on
 * this schema's five indexes), plus a foreign-key check per row. Now a seal
 * writes one row — the batch, with its members' event ids in object-line
 * order — and only the mark touches the deliveries, setting status and
 * batch_id together once the object is in the bucket. While a batch is
 * sealed its members are found through member_ids; once it is uploaded,
 * through deliveries.batch_id, and member_ids is emptied.
 *
 * Without the member index and the foreign key, deliveries.batch_id may
 * outlive its batch after retention; readers left-join and show no key.
 */

const statements = [
  sql`alter table s3_batches add column member_ids uuid[] not null default '{}'`,
  // Batches sealed under the old layout keep their members.
  sql`update s3_batches b set member_ids = coalesce((
      select array_agg(d.event_id order by d.published_at, d.event_id)
      from deliveries d where d.batch_id = b.id), '{}')
    where b.status = 'sealed'`,
  sql`update deliveries set batch_id = null
    where status = 'pending' and batch_id is not null`,
  sql`drop index deliveries_by_batch`,
  sql`alter table deliveries drop constraint deliveries_batch_id_fkey`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`update deliveries d set batch_id = null where batch_id is not null and not exists (select 1 from s3_batches b where b.id = d.batch_id)`.execute(
    db,
  );
  await sql`update deliveries d set batch_id = b.id from s3_batches b where b.status = 'sealed' and d.integration_id = b.integration_id and d.event_id = any(b.member_ids)`.execute(
    db,
  );
  await sql`alter table deliveries add constraint deliveries_batch_id_fkey foreign key (batch_id) references s3_batches (id) on delete set null`.execute(
    db,
  );
  await sql`create index deliveries_by_batch on deliveries (batch_id, published_at, event_id) where batch_id is not null`.execute(
    db,
  );
  await sql`alter table s3_batches drop column member_ids`.execute(db);
}
