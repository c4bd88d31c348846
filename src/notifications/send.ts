import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import type { Config } from '../config.ts';
import type { NotificationChannelRow } from '../db/database.ts';
import { checkOutboundUrl } from '../delivery/outbound.ts';
import { describeStatus, sendWebhook } from '../delivery/webhook.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { emailOf, jsonBody, type NoticeFacts, slackBody } from './message.ts';

/*
 * Sends one notice over one channel and says how it went; never throws.
 * Webhooks go through sendWebhook, as deliveries do (the outbound address
 * policy, the request pinned to the checked address, Standard Webhooks
 * signatures, the timeout). Email goes through SMTP_URL with nodemailer,
 * connected to the checked address of the mail server too.
 */

export interface SendResult {
  ok: boolean;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  /** The start of a webhook's answer. */
  responseBody: string | null;
}

export type SendDeps = { config: Config; secrets: SecretBox };

export async function sendNotice(
  channel: NotificationChannelRow,
  facts: NoticeFacts,
  deps: SendDeps,
): Promise<SendResult> {
  const started = performance.now();
  const result =
    channel.kind === 'webhook' ? await viaWebhook(channel, facts, deps) : await viaEmail(channel, facts, deps);
  return { ...result, durationMs: Math.round(performance.now() - started) };
}

async function viaWebhook(
  channel: NotificationChannelRow,
  facts: NoticeFacts,
  { config, secrets }: SendDeps,
): Promise<Omit<SendResult, 'durationMs'>> {
  const attempt = await sendWebhook({
    url: channel.url!,
    signingSecrets: [secrets.decrypt(channel.signing_secret_enc!)],
    id: facts.id,
    body: channel.format === 'slack' ? slackBody(facts) : jsonBody(facts),
    timeoutMs: config.webhook.timeoutMs,
    policy: config.outbound,
  });
  const ok = attempt.attemptClass === 'success';
  const error = ok
    ? null
    : (attempt.errorMessage ??
      (attempt.statusCode !== null ? `Answered ${describeStatus(attempt.statusCode)}` : 'No answer'));
  return { ok, statusCode: attempt.statusCode, error, responseBody: attempt.responseBody };
}

/** Thrown by email channels' sends when SMTP_URL is unset (they are refused at creation too). */
export const NO_SMTP =
  'SMTP_URL is not set: email notifications cannot be sent. Set SMTP_URL (e.g. smtp://user:pass@mail.example.com:587).';

async function viaEmail(
  channel: NotificationChannelRow,
  facts: NoticeFacts,
  { config }: SendDeps,
): Promise<Omit<SendResult, 'durationMs'>> {
  const smtpUrl = config.notifications.smtpUrl;
  if (!smtpUrl) return { ok: false, statusCode: null, error: NO_SMTP, responseBody: null };
  const server = new URL(smtpUrl);
  const address = await checkOutboundUrl(smtpUrl, config.outbound);
  if (!address.ok) return { ok: false, statusCode: null, error: address.reason, responseBody: null };
  const secure = server.protocol === 'smtps:';
  const name = server.hostname.replace(/^\[|\]$/g, '');
  const timeout = config.webhook.timeoutMs;
  // To the checked address; TLS (STARTTLS when offered, or smtps) still checks the server's own name.
  const transport = nodemailer.createTransport({
    host: address.address,
    port: Number(server.port) || (secure ? 465 : 587),
    secure,
    auth: server.username
      ? { user: decodeURIComponent(server.username), pass: decodeURIComponent(server.password) }
      : undefined,
    tls: isIP(name) ? {} : { servername: name },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  try {
    const { subject, text } = emailOf(facts);
    await transport.sendMail({
      from: config.notifications.mailFrom,
      to: channel.email_to,
      subject,
      text,
      headers: { 'X-Tideway-Notification': `${facts.type} ${facts.id}` },
    });
    return { ok: true, statusCode: null, error: null, responseBody: null };
  } catch (error) {
    const failure = error as { message?: string; responseCode?: number };
    return {
      ok: false,
      statusCode: failure.responseCode ?? null,
      error: `Mail not sent: ${failure.message ?? String(error)}`,
      responseBody: null,
    };
  } finally {
    transport.close();
  }
}
