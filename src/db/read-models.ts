import type { DeliveryStatus, NotificationType } from './database.ts';

/*
 * The shapes that the audit and list queries answer, beside the row types of
 * ./database.ts: the repos return them and the views take them as props, so
 * a view needs nothing from the rooms that render it.
 */

export interface DeliveryListItem {
  integration_id: string;
  event_id: string;
  event_name: string;
  domain_entity_type: string | null;
  domain_entity_id: string | null;
  published_at: Date;
  status: DeliveryStatus;
  attempts: number;
  last_attempted_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  response_time_ms: number | null;
}

export interface LastResponse {
  event_id: string;
  status_code: number | null;
  error_message: string | null;
  response_body: string | null;
}

export interface LogEntry {
  id: string;
  action: 'started' | 'stopped';
  reason: string;
  actor: string;
  created_at: Date;
}

export interface IntegrationStats {
  pending: number;
  delivered: number;
  failed: number;
  rejected: number;
  last_delivery_at: Date | null;
  oldest_pending_at: Date | null;
  /** What the notifications speak of: 'delayed' (backlog past BACKLOG_ALERT_AFTER_MS), or stopped by the system, with why. */
  alert: IntegrationAlert | null;
  /** The last start or stop in its log: who, why, when. */
  last_change: { actor: string; reason: string; at: Date } | null;
  /** Failed attempts over all attempts in the last hour (0–1), null when nothing was attempted. */
  failure_rate: number | null;
  /** While deliveries keep failing (webhook) or a batch waits to be uploaded again (S3): the last error, and when the next try is. */
  last_error: { message: string; at: Date | null; next_try_at: Date | null } | null;
}

export type IntegrationAlert = { kind: 'delayed'; since: Date } | { kind: 'stopped_by_system'; reason: string };

/** The delivery a waiting one waits for: the first pending one ahead of it in its line. */
export interface AheadInLine {
  event_id: string;
  event_name: string;
  published_at: Date;
  attempts: number;
  /** When it is tried next; null while it waits itself (its line is being released). */
  next_attempt_at: Date | null;
  in_flight: boolean;
}

/** One notice as a channel's page lists it: what was told and how its send went. */
export interface SentNotice {
  id: string;
  type: NotificationType;
  integration_id: string;
  occurred_at: Date;
  reason: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  sent_at: Date | null;
  last_error: string | null;
  next_attempt_at: Date;
}
