import type { Config } from '../config.ts';
import type { IntegrationRow } from '../db/database.ts';
import { envelopeJson } from '../events/envelope.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { ClaimedDelivery } from './deliveries.repo.ts';
import { sendWebhook, type AttemptResult, type WebhookRequest } from './webhook.ts';

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
      previous: integration.previous_signing_secret_enc
        ? secrets.decrypt(integration.previous_signing_secret_enc)
        : null,
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

/**
 * Sends one claimed delivery to its integration. An event that retention
 * pruned under a pending delivery cannot be sent: that is a rejection the
 * consumer never saw.
 */
export async function sendDelivery(
  integration: IntegrationRow,
  delivery: ClaimedDelivery,
  deps: { secrets: SecretBox; config: Config; now: () => Date },
): Promise<AttemptResult> {
  if (delivery.payload === null || delivery.published_at === null) {
    return {
      attemptClass: 'rejected',
      attemptedAt: deps.now(),
      durationMs: 0,
      statusCode: null,
      errorClass: null,
      errorMessage: 'The event was pruned by retention before it could be delivered',
      responseBody: null,
    };
  }
  const body = envelopeJson({
    id: delivery.event_id,
    tenant: delivery.tenant!,
    name: delivery.name!,
    publishedAt: delivery.published_at,
    payloadJson: delivery.payload,
  });
  return sendWebhook(
    webhookRequestFor(integration, deps.secrets, deps.config, { id: delivery.event_id, body }, deps.now()),
    deps.now,
  );
}
