import type { NotificationType } from '../db/database.ts';

/*
 * What a notice says, in each form a channel sends: the JSON body
 * `{type, id, occurred_at, integration_id, reason, details, url}`, Slack's
 * `{"text": …}`, and an email's subject and text with the same facts.
 */

export interface NoticeFacts {
  id: string;
  type: NotificationType | 'notification.test';
  integration_id: string;
  occurred_at: Date;
  reason: string;
  details: Record<string, unknown>;
  /** Absolute: PUBLIC_URL and the notice's path. */
  url: string;
}

const HEADLINES: Record<NoticeFacts['type'], string> = {
  'integration.stopped': 'stopped',
  'integration.completed': 'completed',
  'integration.backlog_delayed': 'is delayed',
  'integration.backlog_recovered': 'has recovered',
  'deliveries.failed': 'has deliveries that failed',
  'notification.test': 'test notification',
};

/** "Integration erp stopped: Callback answered HTTP 401 Unauthorized" */
export function headline(facts: NoticeFacts): string {
  return `Integration ${facts.integration_id} ${HEADLINES[facts.type]}: ${facts.reason}`;
}

/** The webhook body (compact JSON: the bytes that are signed). */
export function jsonBody(facts: NoticeFacts): string {
  return JSON.stringify({
    type: facts.type,
    id: facts.id,
    occurred_at: facts.occurred_at.toISOString(),
    integration_id: facts.integration_id,
    reason: facts.reason,
    details: facts.details,
    url: facts.url,
  });
}

/** Slack's mrkdwn wants &, < and > escaped. */
const slackEscape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A Slack incoming-webhook body: the headline and a link to the page. */
export function slackBody(facts: NoticeFacts): string {
  const detailLines = Object.entries(facts.details).map(([key, value]) => `• ${key}: ${slackEscape(describe(value))}`);
  const text = [
    `*${slackEscape(headline(facts))}*`,
    `\`${facts.type}\` at ${facts.occurred_at.toISOString()}`,
    ...detailLines,
    `<${facts.url}|Open in Tideway>`,
  ].join('\n');
  return JSON.stringify({ text });
}

/** An email's subject and plain text. */
export function emailOf(facts: NoticeFacts): { subject: string; text: string } {
  const oneLine = headline(facts).replace(/\s+/g, ' ');
  return {
    subject: `[Tideway] ${oneLine.length > 180 ? `${oneLine.slice(0, 179)}…` : oneLine}`,
    text: [
      headline(facts),
      '',
      `Type: ${facts.type}`,
      `Integration: ${facts.integration_id}`,
      `Reason: ${facts.reason}`,
      `Occurred at: ${facts.occurred_at.toISOString()}`,
      ...Object.entries(facts.details).map(([key, value]) => `${key}: ${describe(value)}`),
      `Notification id: ${facts.id}`,
      '',
      `Open: ${facts.url}`,
      '',
    ].join('\n'),
  };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join(', ');
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}
