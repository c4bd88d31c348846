import type { Config } from '../config.ts';
import type { IntegrationRow } from '../db/database.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { WebhookRequest } from './webhook.ts';

/*
 * How an integration's row becomes a webhook request: its URL, its API key,
 * and the secrets that sign (both during the 24 hours after a rotation).
 * Used by the delivery loop, Resend and Test connection alike, so a manual
 * attempt is signed exactly like a scheduled one.
 */

interface OpenedSecrets {
  signing: string;
  previous: string | null;
  apiKey: string | null;
}

// Decrypted once per row object: the loop re-reads rows every second, and
// otherwise every delivery would pay two AES-GCM decryptions.
const opened = new WeakMap<IntegrationRow, OpenedSecrets>();

function openSecrets(integration: IntegrationRow, secrets: SecretBox): OpenedSecrets {
  let found = opened.get(integration);
  if (!found) {
    found = {
      signing: secrets.decrypt(integration.signing_secret_enc),
      previous: integration.previous_signing_secret_enc ? secrets.decrypt(integration.previous_signing_secret_enc) : null,
      apiKey: integration.api_key_enc ? secrets.decrypt(integration.api_key_enc) : null,
    };
    opened.set(integration, found);
  }
  return found;
}

/**
 * The request that sends `body` (an envelope, id `id`) to a webhook integration.
 *
 * @example await sendWebhook(webhookRequestFor(row, secrets, config, { id, body }, new Date()))
 */
export function webhookRequestFor(
  integration: IntegrationRow,
  secrets: SecretBox,
  config: Config,
  message: { id: string; body: string },
  now: Date,
): WebhookRequest {
  const { signing, previous, apiKey } = openSecrets(integration, secrets);
  const overlap = integration.previous_signing_secret_expires_at;
  return {
    url: integration.callback_url!,
    apiKey,
    signingSecrets: previous && overlap && overlap > now ? [signing, previous] : [signing],
    id: message.id,
    body: message.body,
    timeoutMs: config.webhook.timeoutMs,
    policy: config.outbound,
  };
}
