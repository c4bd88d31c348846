import { type Kysely, sql } from 'kysely';

/*
 * S3 objects compressed with none, gzip or zstd (issue 17): s3_compression
 * takes over from the s3_gzip flag, whose true becomes 'gzip'.
 */

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table integrations add column s3_compression text not null default 'none'
    constraint integrations_s3_compression_known check (s3_compression in ('none', 'gzip', 'zstd'))`.execute(db);
  await sql`update integrations set s3_compression = 'gzip' where s3_gzip`.execute(db);
  await sql`alter table integrations drop column s3_gzip`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table integrations add column s3_gzip boolean not null default false`.execute(db);
  await sql`update integrations set s3_gzip = true where s3_compression = 'gzip'`.execute(db);
  await sql`alter table integrations drop column s3_compression`.execute(db);
}
