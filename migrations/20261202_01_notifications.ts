import { type Kysely, sql } from 'kysely';

/*
 * Notifications (issue 18): operators are told when an integration is
 * stopped by the system, completes, falls behind or recovers, and of
 * deliveries that failed for good.
 *
 * notification_channels: where notices go — a webhook (signed with its own
 * `whsec_` secret, encrypted like every secret; JSON or Slack's body) or
 * email addresses. filter_integrations / filter_types empty = all.
 *
 * notifications: the outbox. A row is written in the same transaction as
 * the change it tells of (a stop, the backlog crossing its threshold…),
 * one notification_sends row per channel that wants it, so nothing is
 * told that did not happen and nothing that happened is lost to a crash.
 * integration_id has no foreign key: what was told outlives a deleted
 * integration.
 *
 * notification_sends: one notice for one channel, claimed under a lease
 * like deliveries (notification_sends_due serves the claim: pending rows by
 * due time only, so sent ones cost the claim nothing). A channel's page
 * reads its recent sends through the primary key (channel_id first).
 *
 * notification_attempts: every try of a send, with its outcome.
 *
 * integrations.backlog_delayed_since: set while its backlog is reported
 * delayed (the oldest pending delivery's time), so delayed and recovered
 * are told once per change, by whichever process sees the change first.
 * integrations.failure_digest_at: when the last digest of failed
 * deliveries was written (at most one an hour, covering failures since).
 */

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table notification_channels (
    id uuid primary key default gen_random_uuid(),
    kind text not null constraint notification_channels_kind_known check (kind in ('webhook', 'email')),
    url text,
    format text not null default 'json' constraint notification_channels_format_known check (format in ('json', 'slack')),
    signing_secret_enc text,
    email_to text[] not null default '{}',
    filter_integrations text[] not null default '{}',
    filter_types text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint notification_channels_target check (
      (kind = 'webhook' and url is not null and signing_secret_enc is not null)
      or (kind = 'email' and cardinality(email_to) > 0))
  )`.execute(db);
  await sql`create table notifications (
    id uuid primary key default gen_random_uuid(),
    type text not null,
    integration_id text not null,
    occurred_at timestamptz not null default now(),
    reason text not null,
    details jsonb not null default '{}',
    path text not null
  )`.execute(db);
  await sql`create table notification_sends (
    channel_id uuid not null references notification_channels (id) on delete cascade,
    notification_id uuid not null references notifications (id) on delete cascade,
    status text not null default 'pending'
      constraint notification_sends_status_known check (status in ('pending', 'sent', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    lease_owner text,
    lease_expires_at timestamptz,
    sent_at timestamptz,
    last_error text,
    primary key (channel_id, notification_id)
  )`.execute(db);
  await sql`create index notification_sends_due on notification_sends (next_attempt_at) where status = 'pending'`.execute(
    db,
  );
  await sql`create index notification_sends_by_notification on notification_sends (notification_id)`.execute(db);
  await sql`create table notification_attempts (
    id bigint generated always as identity primary key,
    channel_id uuid not null,
    notification_id uuid not null,
    attempted_at timestamptz not null,
    duration_ms integer not null,
    ok boolean not null,
    status_code integer,
    error text,
    foreign key (channel_id, notification_id) references notification_sends (channel_id, notification_id) on delete cascade
  )`.execute(db);
  await sql`create index notification_attempts_by_send on notification_attempts (channel_id, notification_id, attempted_at)`.execute(
    db,
  );
  await sql`alter table integrations add column backlog_delayed_since timestamptz, add column failure_digest_at timestamptz`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table integrations drop column backlog_delayed_since, drop column failure_digest_at`.execute(db);
  await sql`drop table notification_attempts`.execute(db);
  await sql`drop table notification_sends`.execute(db);
  await sql`drop table notifications`.execute(db);
  await sql`drop table notification_channels`.execute(db);
}
