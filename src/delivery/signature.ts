import { createHmac } from 'node:crypto';

/*
 * Standard Webhooks signatures (https://www.standardwebhooks.com): an
 * HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${body}` with the
 * base64-decoded part of the `whsec_` secret, sent as `v1,<base64>`. During a
 * rotation both secrets sign and both signatures go in the header.
 */

export function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  const digest = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${digest}`;
}

/** The three Standard Webhooks headers for one delivery. */
export function standardWebhookHeaders(
  secrets: string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => signatureOf(secret, id, timestampSeconds, body)).join(' '),
  };
}
