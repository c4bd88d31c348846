import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import type { IntegrationRow } from '../db/database.ts';
import { envelopeJson } from '../events/envelope.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { describeStatus, sendWebhook } from './webhook.ts';
import { webhookRequestFor } from './webhook-target.ts';

export interface ConnectionTest {
  ok: boolean;
  /** What happened, in a sentence for the UI. */
  summary: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}

/**
 * Sends a signed `tideway.test` event to a webhook integration's callback,
 * exactly as a real delivery would go, and reports the outcome. Nothing is
 * stored.
 */
export async function testWebhookConnection(
  integration: IntegrationRow,
  secrets: SecretBox,
  config: Config,
): Promise<ConnectionTest> {
  const id = randomUUID();
  const body = envelopeJson({
    id,
    tenant: config.tenant,
    name: 'tideway.test',
    publishedAt: new Date(),
    payloadJson: JSON.stringify({
      integration_id: integration.id,
      message: 'A test event from Tideway. It needs no processing.',
    }),
  });
  const result = await sendWebhook(webhookRequestFor(integration, secrets, config, { id, body }, new Date()));
  const ok = result.attemptClass === 'success';
  const answer =
    result.statusCode !== null ? `answered ${describeStatus(result.statusCode)}` : `failed: ${result.errorMessage}`;
  return {
    ok,
    summary: `The callback ${answer} in ${result.durationMs} ms${ok ? '.' : ` — a real delivery would be ${result.attemptClass === 'retry' ? 'retried' : result.attemptClass === 'interrupt' ? 'held and the integration stopped' : 'rejected'}.`}`,
    status_code: result.statusCode,
    duration_ms: result.durationMs,
    error: result.errorMessage,
    response_body: result.responseBody,
  };
}
