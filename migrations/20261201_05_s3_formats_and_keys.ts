import { type Kysely, sql } from 'kysely';

/*
 * Warehouse-ready S3 (issue 17): an integration writes NDJSON or Parquet
 * under a key template of its own (null: NewStore's key), and a sealed
 * batch keeps how it is written — format, compression, and its objects'
 * keys with how many of its members each holds, in member order — so that
 * a retry writes the same objects with the same bytes whatever the
 * integration says by then. A batch sealed before this migration is one
 * NDJSON object, compressed as its key's extension says.
 */

const statements = [
  sql`alter table integrations add column s3_format text not null default 'ndjson'
    constraint integrations_s3_format_known check (s3_format in ('ndjson', 'parquet'))`,
  sql`alter table integrations add column s3_key_template text`,
  sql`alter table s3_batches add column format text not null default 'ndjson'
    constraint s3_batches_format_known check (format in ('ndjson', 'parquet'))`,
  sql`alter table s3_batches add column compression text not null default 'none'
    constraint s3_batches_compression_known check (compression in ('none', 'gzip', 'zstd'))`,
  sql`alter table s3_batches add column object_keys text[] not null default '{}'`,
  sql`alter table s3_batches add column object_event_counts integer[] not null default '{}'`,
  sql`update s3_batches set
      compression = case when object_key like '%.gz' then 'gzip' when object_key like '%.zst' then 'zstd' else 'none' end,
      object_keys = array[object_key], object_event_counts = array[event_count]`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['format', 'compression', 'object_keys', 'object_event_counts'])
    await sql`alter table s3_batches drop column ${sql.ref(column)}`.execute(db);
  await sql`alter table integrations drop column s3_key_template`.execute(db);
  await sql`alter table integrations drop column s3_format`.execute(db);
}
