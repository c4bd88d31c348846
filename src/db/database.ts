import type { ColumnType, Generated, Kysely, Selectable, Transaction, Updateable } from 'kysely';

/*
 * The shape of every table, as migrations/ create it. Column comments live in
 * the migration; here are the types. Timestamps read back as Date.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** bigint identity columns: pg returns int8 as a string, so we keep strings. */
type Identity = ColumnType<string, never, never>;

export type Permission = 'view_tools' | 'publish_events' | 'manage_users';

export type IntegrationType = 'permanent' | 'temporary';
/** Whether an integration's deliveries of one domain entity go out one at a time, in publication order. */
export const ORDERINGS = ['unordered', 'by_domain_entity'] as const;
export type Ordering = (typeof ORDERINGS)[number];
/** How an S3 integration's objects are compressed. */
export const S3_COMPRESSIONS = ['none', 'gzip', 'zstd'] as const;
export type S3Compression = (typeof S3_COMPRESSIONS)[number];
/** What an S3 integration's objects hold: NDJSON lines, or a Parquet file. */
export const S3_FORMATS = ['ndjson', 'parquet'] as const;
export type S3Format = (typeof S3_FORMATS)[number];
export type TargetKind = 'webhook' | 's3';
export type IntegrationStatus = 'running' | 'stopped';
export type DeliveryStatus = 'pending' | 'success' | 'failure' | 'rejected';
export type AttemptOutcome = 'success' | 'retry' | 'rejected' | 'interrupt' | 'failure';
export type AttemptTrigger = 'scheduled' | 'manual' | 'test';
export type BatchStatus = 'sealed' | 'uploaded' | 'failed';

export interface DeploymentSettingsTable {
  name: string;
  value: string;
  updated_at: DefaultedTimestamp;
}

export interface UsersTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  permissions: ColumnType<Permission[], Permission[] | undefined, Permission[]>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  disabled_at: Timestamp | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: DefaultedTimestamp;
  last_seen_at: DefaultedTimestamp;
  expires_at: Timestamp;
  address: string | null;
  user_agent: string | null;
}

export interface ApiTokensTable {
  id: Generated<string>;
  name: string;
  token_hash: string;
  token_prefix: string;
  permissions: ColumnType<Permission[], Permission[] | undefined, Permission[]>;
  created_by: string | null;
  created_at: DefaultedTimestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

/** Issued by `POST /v0/token` to exactly one holder: a user or an API token. */
export interface AccessTokensTable {
  id: Generated<string>;
  token_hash: string;
  user_id: string | null;
  api_token_id: string | null;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
}

export interface LoginAttemptsTable {
  id: Identity;
  email: string;
  address: string;
  succeeded: boolean;
  attempted_at: DefaultedTimestamp;
}

export interface EventTypesTable {
  name: string;
  entity: string;
  description: Generated<string>;
  deprecated: Generated<boolean>;
  replaced_by: string | null;
  domain_entity_type: string;
  domain_entity_id_field: string;
  created_at: DefaultedTimestamp;
}

export interface EventsTable {
  id: string;
  tenant: string;
  name: string;
  entity: string;
  entity_id: string | null;
  domain_entity_type: string | null;
  domain_entity_id: string | null;
  published_at: Timestamp;
  received_at: DefaultedTimestamp;
  /** The payload's compact JSON text. */
  payload: string;
  size_bytes: number;
  /** Ingest order (int8, as text), breaking ties in published_at; null for events stored before it existed. */
  sequence: Generated<string | null>;
}

export interface IntegrationsTable {
  id: string;
  integration_type: IntegrationType;
  ordering: ColumnType<Ordering, Ordering | undefined, Ordering>;
  target_kind: TargetKind;
  status: ColumnType<IntegrationStatus, IntegrationStatus | undefined, IntegrationStatus>;
  starts_at: DefaultedTimestamp;
  ends_at: Timestamp | null;
  filter_entities: ColumnType<string[], string[] | undefined, string[]>;
  filter_events: ColumnType<string[], string[] | undefined, string[]>;
  callback_url: string | null;
  api_key_enc: string | null;
  s3_access_key_id: string | null;
  s3_secret_access_key_enc: string | null;
  s3_region: string | null;
  s3_bucket: string | null;
  s3_key_prefix: Generated<string>;
  s3_endpoint: string | null;
  s3_compression: ColumnType<S3Compression, S3Compression | undefined, S3Compression>;
  s3_format: ColumnType<S3Format, S3Format | undefined, S3Format>;
  /** Its objects' key template (src/delivery/s3-keys.ts); null: NewStore's key. */
  s3_key_template: string | null;
  signing_secret_enc: string;
  previous_signing_secret_enc: string | null;
  previous_signing_secret_expires_at: Timestamp | null;
  failing_since: Timestamp | null;
  /** Set while its backlog is reported delayed: the oldest pending delivery's time then. */
  backlog_delayed_since: Timestamp | null;
  /** When the last digest of its failed deliveries was written. */
  failure_digest_at: Timestamp | null;
  last_batch_sent_at: Timestamp | null;
  delivered_count: ColumnType<string, never, string | number>;
  last_delivery_at: Timestamp | null;
  deleted_at: Timestamp | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface IntegrationLogsTable {
  id: Identity;
  integration_id: string;
  action: 'started' | 'stopped';
  reason: string;
  actor: string;
  created_at: DefaultedTimestamp;
}

export interface S3BatchesTable {
  id: string;
  integration_id: string;
  object_key: string;
  status: ColumnType<BatchStatus, BatchStatus | undefined, BatchStatus>;
  event_count: number;
  byte_count: ColumnType<string, number | string, number | string>;
  sealed_at: DefaultedTimestamp;
  attempts: Generated<number>;
  next_attempt_at: DefaultedTimestamp;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  uploaded_at: Timestamp | null;
  last_error: string | null;
  /** Event ids in object-line order while sealed; emptied once uploaded (deliveries.batch_id then says). */
  member_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** How its objects are written, fixed when it was sealed. */
  format: ColumnType<S3Format, S3Format | undefined, S3Format>;
  compression: ColumnType<S3Compression, S3Compression | undefined, S3Compression>;
  /**
   * Its objects, one per partition (one, unpartitioned), and how many of
   * member_ids each holds, in member order. object_key is then the pattern
   * of their keys: the key itself when unpartitioned, else with per-event
   * placeholders left in (deliveryObjectKey fills them for one event).
   */
  object_keys: ColumnType<string[], string[] | undefined, string[]>;
  object_event_counts: ColumnType<number[], number[] | undefined, number[]>;
}

export interface S3BatchAttemptsTable {
  id: Identity;
  batch_id: string;
  attempted_at: Timestamp;
  duration_ms: number;
  /** The webhook vocabulary (AttemptOutcome): a permanent refusal is an interrupt. */
  outcome: Extract<AttemptOutcome, 'success' | 'retry' | 'interrupt'>;
  error_code: string | null;
  error_message: string | null;
}

export interface DeliveriesTable {
  integration_id: string;
  event_id: string;
  event_name: string;
  domain_entity_type: string | null;
  domain_entity_id: string | null;
  published_at: Timestamp;
  size_bytes: Generated<number>;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: DefaultedTimestamp;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  last_attempted_at: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  response_time_ms: number | null;
  batch_id: string | null;
  next_attempt_trigger: ColumnType<AttemptTrigger, AttemptTrigger | undefined, AttemptTrigger>;
  created_at: DefaultedTimestamp;
  /**
   * Its place in its entity's line (int8, as text) when its integration is
   * ordered and its event has a domain entity; null: not ordered. Such a
   * delivery waiting for an earlier one is pending with next_attempt_at
   * 'infinity' (read back as the number Infinity).
   */
  order_sequence: string | null;
}

export interface DeliveryAttemptsTable {
  id: Identity;
  integration_id: string;
  event_id: string;
  attempted_at: Timestamp;
  duration_ms: number;
  outcome: AttemptOutcome;
  trigger: ColumnType<AttemptTrigger, AttemptTrigger | undefined, AttemptTrigger>;
  status_code: number | null;
  error_class: string | null;
  error_message: string | null;
  response_body: string | null;
}

export interface DeliveryMinutesTable {
  integration_id: string;
  minute: Timestamp;
  delivered: Generated<number>;
  failed: Generated<number>;
  rejected: Generated<number>;
  total_duration_ms: ColumnType<string, number | undefined, number>;
}

export type NotificationType =
  | 'integration.stopped'
  | 'integration.completed'
  | 'integration.backlog_delayed'
  | 'integration.backlog_recovered'
  | 'deliveries.failed';
export type ChannelKind = 'webhook' | 'email';
export type ChannelFormat = 'json' | 'slack';
export type NotificationSendStatus = 'pending' | 'sent' | 'failed';

export interface NotificationChannelsTable {
  id: Generated<string>;
  kind: ChannelKind;
  url: string | null;
  format: ColumnType<ChannelFormat, ChannelFormat | undefined, ChannelFormat>;
  signing_secret_enc: string | null;
  email_to: ColumnType<string[], string[] | undefined, string[]>;
  filter_integrations: ColumnType<string[], string[] | undefined, string[]>;
  filter_types: ColumnType<NotificationType[], NotificationType[] | undefined, NotificationType[]>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface NotificationsTable {
  id: Generated<string>;
  type: NotificationType;
  integration_id: string;
  occurred_at: DefaultedTimestamp;
  reason: string;
  details: ColumnType<Record<string, unknown>, string, string>;
  /** The page it links to, from the deployment's root: `/tools/event-stream/erp/logs`. */
  path: string;
}

export interface NotificationSendsTable {
  channel_id: string;
  notification_id: string;
  status: ColumnType<NotificationSendStatus, NotificationSendStatus | undefined, NotificationSendStatus>;
  attempts: Generated<number>;
  next_attempt_at: DefaultedTimestamp;
  lease_owner: string | null;
  lease_expires_at: Timestamp | null;
  sent_at: Timestamp | null;
  last_error: string | null;
}

export interface NotificationAttemptsTable {
  id: Identity;
  channel_id: string;
  notification_id: string;
  attempted_at: Timestamp;
  duration_ms: number;
  ok: boolean;
  status_code: number | null;
  error: string | null;
}

export interface Database {
  notification_channels: NotificationChannelsTable;
  notifications: NotificationsTable;
  notification_sends: NotificationSendsTable;
  notification_attempts: NotificationAttemptsTable;
  delivery_minutes: DeliveryMinutesTable;
  deployment_settings: DeploymentSettingsTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  access_tokens: AccessTokensTable;
  login_attempts: LoginAttemptsTable;
  event_types: EventTypesTable;
  events: EventsTable;
  integrations: IntegrationsTable;
  integration_logs: IntegrationLogsTable;
  s3_batches: S3BatchesTable;
  s3_batch_attempts: S3BatchAttemptsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
}

/** What repositories take: the database or a transaction on it. */
export type Db = Kysely<Database> | Transaction<Database>;

export type UserRow = Selectable<UsersTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type EventTypeRow = Selectable<EventTypesTable>;
export type IntegrationRow = Selectable<IntegrationsTable>;
export type IntegrationUpdate = Updateable<IntegrationsTable>;
export type NotificationChannelRow = Selectable<NotificationChannelsTable>;
export type NotificationRow = Selectable<NotificationsTable>;
