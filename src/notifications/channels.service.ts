import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import type { NotificationChannelRow } from '../db/database.ts';
import type { ConnectionTest } from '../delivery/test-connection.ts';
import { maskSecret, maskUrlCredentials, type SecretBox } from '../lib/crypto.ts';
import { sendNotice } from './send.ts';

/* A channel as the API shows it, and its test. */

export interface ChannelResource {
  id: string;
  kind: 'webhook' | 'email';
  url?: string;
  format?: 'json' | 'slack';
  /** Masked, except in the answer to its creation. */
  signing_secret?: string;
  to?: string[];
  filter: { integrations: string[]; types: string[] };
  created_at: string;
  updated_at: string;
}

/**
 * @example toChannelResource(row, secrets) // { id, kind: 'webhook', url, format: 'json', signing_secret: '••••3f9a', filter, … }
 */
export function toChannelResource(
  row: NotificationChannelRow,
  secrets: SecretBox,
  signingSecret?: string,
): ChannelResource {
  const target =
    row.kind === 'webhook'
      ? {
          url: maskUrlCredentials(row.url!),
          format: row.format,
          signing_secret: signingSecret ?? maskSecret(secrets.decrypt(row.signing_secret_enc!)),
        }
      : { to: row.email_to };
  return {
    id: row.id,
    kind: row.kind,
    ...target,
    filter: { integrations: row.filter_integrations, types: row.filter_types },
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** What a channel is, in a few words: the webhook's host, or the addresses. */
export function channelLabel(row: NotificationChannelRow): string {
  if (row.kind === 'email') return row.email_to.join(', ');
  const host = URL.canParse(row.url!) ? new URL(row.url!).host : row.url!;
  return `${host}${row.format === 'slack' ? ' (Slack)' : ''}`;
}

/**
 * Sends a `notification.test` notice now over `channel`, as real notices go
 * (signed, through the address policy, or by mail), and says how it went.
 * Nothing is stored.
 */
export async function testChannel(
  channel: NotificationChannelRow,
  deps: { config: Config; secrets: SecretBox },
): Promise<ConnectionTest> {
  const result = await sendNotice(
    channel,
    {
      id: randomUUID(),
      type: 'notification.test',
      integration_id: '(none)',
      occurred_at: new Date(),
      reason: 'A test notification from Tideway. It needs no action.',
      details: {},
      url: `${deps.config.notifications.publicUrl}/tools/event-stream/notifications/${channel.id}`,
    },
    deps,
  );
  const what = channel.kind === 'email' ? 'The mail server' : 'The webhook';
  const answer = result.ok
    ? channel.kind === 'email'
      ? 'accepted the message'
      : `answered HTTP ${result.statusCode}`
    : `failed: ${result.error}`;
  return {
    ok: result.ok,
    summary: `${what} ${answer} in ${result.durationMs} ms.`,
    status_code: result.statusCode,
    duration_ms: result.durationMs,
    error: result.error,
    response_body: result.responseBody,
  };
}
