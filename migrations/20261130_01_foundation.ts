import { type Kysely, sql } from 'kysely';

/*
 * Tideway's whole data model (SPEC §1–§5). Later work adds behaviour, not
 * tables. Frozen once released: change the schema with a new migration.
 *
 * Conventions: ids chosen by people are text (integrations), ids chosen by
 * producers are uuid (events), internal ids are identity bigints; every time
 * is timestamptz; enumerations are text with a CHECK so that a bad value
 * fails at the database, not only in the application.
 */

const statements = [
  // ── The deployment ──────────────────────────────────────────────────────
  // Small facts about the deployment itself, e.g. a value sealed with the
  // encryption key so that a process started with the wrong key refuses to
  // run instead of writing secrets no other process can read.
  sql`create table deployment_settings (
    name text primary key,
    value text not null,
    updated_at timestamptz not null default now()
  )`,

  // ── Accounts ────────────────────────────────────────────────────────────
  sql`create table users (
    id uuid primary key default gen_random_uuid(),
    email text not null,
    password_hash text not null,
    permissions text[] not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    disabled_at timestamptz,
    constraint users_permissions_known
      check (permissions <@ array['view_tools', 'publish_events', 'manage_users']::text[])
  )`,
  // Emails compare case-insensitively: one account per address however typed.
  sql`create unique index users_email_key on users (lower(email))`,

  // The cookie holds a random token; only its SHA-256 is stored, so a leaked
  // table cannot be replayed as sessions.
  sql`create table sessions (
    id text primary key,
    user_id uuid not null references users (id) on delete cascade,
    csrf_token text not null,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    expires_at timestamptz not null,
    address text,
    user_agent text
  )`,
  // Deleting a user cascades here; without this index that is a scan.
  sql`create index sessions_user_id on sessions (user_id)`,
  // The expiry sweep deletes by this column.
  sql`create index sessions_expires_at on sessions (expires_at)`,

  // API tokens are shown once; only the SHA-256 of the token is kept.
  sql`create table api_tokens (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    token_hash text not null unique,
    token_prefix text not null,
    permissions text[] not null default '{}',
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    constraint api_tokens_permissions_known
      check (permissions <@ array['view_tools', 'publish_events', 'manage_users']::text[])
  )`,

  // Login throttling must hold across several web processes, hence a table.
  sql`create table login_attempts (
    id bigint generated always as identity primary key,
    email text not null,
    address text not null,
    succeeded boolean not null,
    attempted_at timestamptz not null default now()
  )`,
  // "Failures for this account / from this address in the last N minutes".
  sql`create index login_attempts_by_email on login_attempts (lower(email), attempted_at)`,
  sql`create index login_attempts_by_address on login_attempts (address, attempted_at)`,

  // ── The catalog ─────────────────────────────────────────────────────────
  // domain_entity_type / domain_entity_id_field: where an event of this type
  // finds its domain entity, e.g. fulfillment_request.* → order, payload.order_id.
  sql`create table event_types (
    name text primary key,
    entity text not null,
    description text not null default '',
    deprecated boolean not null default false,
    replaced_by text references event_types (name),
    domain_entity_type text not null,
    domain_entity_id_field text not null,
    created_at timestamptz not null default now(),
    constraint event_types_name_shape check (name ~ '^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$'),
    constraint event_types_entity_prefix check (split_part(name, '.', 1) = entity)
  )`,

  // ── Events ──────────────────────────────────────────────────────────────
  // payload is the compact JSON text of the payload as validated at ingest
  // (text, not json/jsonb): it is spliced verbatim into the envelope that is
  // signed and uploaded, keeping the producer's key order, and the database
  // does not parse ~1 KB per event a second time. Cast it (payload::json)
  // to query inside it.
  // name has no foreign key to event_types: ingest checks every name against
  // the catalog, and the per-row key check cost ingest ~8 % (bench/ingest.ts).
  // size_bytes is the compact envelope's length, which S3 batching sums.
  sql`create table events (
    id uuid primary key,
    tenant text not null,
    name text not null,
    entity text not null,
    entity_id text,
    domain_entity_type text,
    domain_entity_id text,
    published_at timestamptz not null,
    received_at timestamptz not null default now(),
    payload text not null,
    size_bytes integer not null
  )`,
  // Replay (events since an integration's starts_at) and retention (events
  // older than N days) both range-scan publication time.
  sql`create index events_published_at on events (published_at)`,

  // ── Integrations ────────────────────────────────────────────────────────
  // Secret fields end in _enc: AES-256-GCM ciphertext, never plain text.
  // delivered_count and last_delivery_at are kept by the delivery engines as
  // they settle: counting millions of successful deliveries on every read of
  // the integration list would be a scan; the rarer statuses are counted
  // through their indexes instead.
  // Targets are columns rather than a JSON blob so the database enforces
  // "exactly one target" and the required fields of each kind.
  sql`create table integrations (
    id text primary key,
    integration_type text not null,
    target_kind text not null,
    status text not null default 'running',
    starts_at timestamptz not null default now(),
    ends_at timestamptz,
    filter_entities text[] not null default '{}',
    filter_events text[] not null default '{}',
    callback_url text,
    api_key_enc text,
    s3_access_key_id text,
    s3_secret_access_key_enc text,
    s3_region text,
    s3_bucket text,
    s3_key_prefix text not null default '',
    s3_endpoint text,
    s3_gzip boolean not null default false,
    signing_secret_enc text not null,
    previous_signing_secret_enc text,
    previous_signing_secret_expires_at timestamptz,
    failing_since timestamptz,
    last_batch_sent_at timestamptz,
    delivered_count bigint not null default 0,
    last_delivery_at timestamptz,
    deleted_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint integrations_id_shape
      check (id ~ '^[a-z0-9][a-z0-9_-]{2,63}$' and id not in ('new', 'overview')),
    constraint integrations_type_known check (integration_type in ('permanent', 'temporary')),
    constraint integrations_target_known check (target_kind in ('webhook', 's3')),
    constraint integrations_status_known check (status in ('running', 'stopped')),
    constraint integrations_temporary_has_end check ((integration_type = 'temporary') = (ends_at is not null)),
    constraint integrations_window_order check (ends_at is null or ends_at > starts_at),
    constraint integrations_webhook_target check (
      target_kind <> 'webhook' or (callback_url is not null and s3_bucket is null)),
    constraint integrations_s3_target check (
      target_kind <> 's3' or (callback_url is null and s3_bucket is not null and s3_region is not null
        and s3_access_key_id is not null and s3_secret_access_key_enc is not null))
  )`,

  // One row per start or stop: who (a user's email, or 'system') and why.
  sql`create table integration_logs (
    id bigint generated always as identity primary key,
    integration_id text not null references integrations (id) on delete cascade,
    action text not null,
    reason text not null,
    actor text not null,
    created_at timestamptz not null default now(),
    constraint integration_logs_action_known check (action in ('started', 'stopped'))
  )`,
  // View Logs: newest first for one integration, keyset-paged on (created_at, id).
  sql`create index integration_logs_by_integration on integration_logs (integration_id, created_at desc, id desc)`,

  // ── S3 batches ──────────────────────────────────────────────────────────
  // A batch is sealed (id, key and members fixed) before any upload, so a
  // retry rebuilds the same bytes under the same key.
  sql`create table s3_batches (
    id uuid primary key,
    integration_id text not null references integrations (id) on delete cascade,
    object_key text not null,
    status text not null default 'sealed',
    event_count integer not null,
    byte_count bigint not null,
    sealed_at timestamptz not null default now(),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    lease_owner text,
    lease_expires_at timestamptz,
    uploaded_at timestamptz,
    last_error text,
    constraint s3_batches_status_known check (status in ('sealed', 'uploaded', 'failed')),
    constraint s3_batches_key_unique unique (integration_id, object_key)
  )`,
  // The uploader claims sealed batches that are due; uploaded ones (nearly
  // all of them) stay out of this small partial index.
  sql`create index s3_batches_due on s3_batches (next_attempt_at) where status = 'sealed'`,
  sql`create index s3_batches_by_integration on s3_batches (integration_id, sealed_at desc)`,

  sql`create table s3_batch_attempts (
    id bigint generated always as identity primary key,
    batch_id uuid not null references s3_batches (id) on delete cascade,
    attempted_at timestamptz not null,
    duration_ms integer not null,
    outcome text not null,
    error_code text,
    error_message text,
    constraint s3_batch_attempts_outcome_known check (outcome in ('success', 'retry', 'permanent'))
  )`,
  sql`create index s3_batch_attempts_by_batch on s3_batch_attempts (batch_id, attempted_at)`,

  // ── Deliveries: one event for one integration ───────────────────────────
  // The key is the natural pair (integration_id, event_id): fan-out and replay
  // insert with ON CONFLICT DO NOTHING on it, so an event can never be queued
  // twice for one integration, and the API addresses deliveries by it.
  //
  // event_name, domain_entity_*, published_at are copied from the event so
  // that View Events filters and pages on this one table, with no join;
  // size_bytes (the envelope's) so that S3 batching sums it likewise.
  //
  // next_attempt_trigger is 'manual' after a user's bulk retry, so the
  // attempt that follows is recorded as theirs, not the schedule's.
  //
  // There is deliberately no foreign key to events: it would need another
  // index on deliveries (event_id) that every ingest pays for. Retention
  // deletes deliveries before their events instead.
  //
  // Leasing: a claim sets lease_owner and lease_expires_at only; a delivery
  // whose lease ran out (its worker died) is claimable again, so the claim is
  // the stale-lease sweep. Those columns are in no index, and fillfactor 90
  // leaves room on each page, so a claim can be a HOT update that touches
  // no index. Settling checks
  // lease_owner so a worker that lost its lease cannot overwrite.
  sql`create table deliveries (
    integration_id text not null references integrations (id) on delete cascade,
    event_id uuid not null,
    event_name text not null,
    domain_entity_type text,
    domain_entity_id text,
    published_at timestamptz not null,
    size_bytes integer not null default 0,
    status text not null default 'pending',
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    lease_owner text,
    lease_expires_at timestamptz,
    last_attempted_at timestamptz,
    last_status_code integer,
    last_error text,
    response_time_ms integer,
    batch_id uuid references s3_batches (id) on delete set null,
    next_attempt_trigger text not null default 'scheduled',
    created_at timestamptz not null default now(),
    primary key (integration_id, event_id),
    constraint deliveries_status_known check (status in ('pending', 'success', 'failure', 'rejected'))
  ) with (fillfactor = 90)`,
  // Hot path 1, claiming: "pending deliveries of integration X due by now",
  // oldest first. Partial on pending, so the index holds only the backlog
  // however many millions of settled rows the table keeps; it also answers
  // backlog counts and the oldest pending time per integration.
  sql`create index deliveries_due on deliveries (integration_id, next_attempt_at) where status = 'pending'`,
  // Hot path 2, View Events: one integration's deliveries newest first with
  // keyset paging on (published_at, event_id); a from/to range is a range on
  // the second column.
  sql`create index deliveries_by_time on deliveries (integration_id, published_at desc, event_id desc)`,
  // ... filtered by domain entity ("did order X reach the ERP?"): equality on
  // the second column, then the same keyset order.
  sql`create index deliveries_by_domain_entity
    on deliveries (integration_id, domain_entity_id, published_at desc, event_id desc)`,
  // ... filtered by status. Failures and rejections are rare and old, so they
  // get this small partial index and "show me the failures" never walks the
  // successes. Success (the bulk) and pending (the newest rows, at the head
  // of deliveries_by_time) are served by deliveries_by_time. Pending is left
  // out on purpose: every ingested delivery starts pending, and one more
  // index entry per delivery cost ingest ~10 % (bench/ingest.ts).
  sql`create index deliveries_by_status on deliveries (integration_id, status, published_at desc, event_id desc)
    where status in ('failure', 'rejected')`,
  // Members of an S3 batch, read back a page at a time in publication order
  // (the order of the lines of its object) to rebuild it.
  sql`create index deliveries_by_batch on deliveries (batch_id, published_at, event_id) where batch_id is not null`,

  // Every attempt, webhook or manual resend; response_body holds at most the
  // first 20 KB of what the receiver answered.
  sql`create table delivery_attempts (
    id bigint generated always as identity primary key,
    integration_id text not null,
    event_id uuid not null,
    attempted_at timestamptz not null,
    duration_ms integer not null,
    outcome text not null,
    trigger text not null default 'scheduled',
    status_code integer,
    error_class text,
    error_message text,
    response_body text,
    foreign key (integration_id, event_id) references deliveries (integration_id, event_id) on delete cascade,
    constraint delivery_attempts_outcome_known
      check (outcome in ('success', 'retry', 'rejected', 'interrupt', 'failure')),
    constraint delivery_attempts_trigger_known check (trigger in ('scheduled', 'manual', 'test'))
  )`,
  // Attempts per integration and minute, kept by the settle statement, so the
  // Overview's charts (last hour) and metrics read a few dozen rows instead of
  // scanning attempts. Pruned with the rest by retention.
  sql`create table delivery_minutes (
    integration_id text not null references integrations (id) on delete cascade,
    minute timestamptz not null,
    delivered integer not null default 0,
    failed integer not null default 0,
    rejected integer not null default 0,
    total_duration_ms bigint not null default 0,
    primary key (integration_id, minute)
  )`,

  // The detail view lists one delivery's attempts in order; the cascade from
  // deliveries (retention, integration delete) finds them by the same prefix.
  sql`create index delivery_attempts_by_delivery on delivery_attempts (integration_id, event_id, attempted_at)`,
];

export async function up(db: Kysely<any>): Promise<void> {
  // One statement per call: PGlite's extended protocol takes a single one.
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'delivery_minutes',
    'delivery_attempts',
    'deliveries',
    's3_batch_attempts',
    's3_batches',
    'integration_logs',
    'integrations',
    'events',
    'event_types',
    'login_attempts',
    'api_tokens',
    'sessions',
    'users',
    'deployment_settings',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
