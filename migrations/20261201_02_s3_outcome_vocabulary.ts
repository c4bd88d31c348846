import { type Kysely, sql } from 'kysely';

/*
 * One vocabulary for attempt outcomes across webhook and S3: an S3 upload
 * refused for good (bad credentials, no such bucket) stops the integration
 * and keeps the batch for a restart — what a webhook's 401 is, `interrupt`.
 * S3 attempts recorded as `permanent` become `interrupt`.
 */

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table s3_batch_attempts drop constraint s3_batch_attempts_outcome_known`.execute(db);
  await sql`update s3_batch_attempts set outcome = 'interrupt' where outcome = 'permanent'`.execute(db);
  await sql`alter table s3_batch_attempts add constraint s3_batch_attempts_outcome_known
    check (outcome in ('success', 'retry', 'interrupt'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table s3_batch_attempts drop constraint s3_batch_attempts_outcome_known`.execute(db);
  await sql`update s3_batch_attempts set outcome = 'permanent' where outcome = 'interrupt'`.execute(db);
  await sql`alter table s3_batch_attempts add constraint s3_batch_attempts_outcome_known
    check (outcome in ('success', 'retry', 'permanent'))`.execute(db);
}
