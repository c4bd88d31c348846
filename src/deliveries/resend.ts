import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, DeliveryStatus } from '../db/database.ts';
import { findIntegration } from '../integrations/integrations.repo.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { settleDeliveries } from '../delivery/deliveries.repo.ts';
import { envelopeOf, findDeliveryDetail } from './published-events.repo.ts';
import { settlementFor } from '../delivery/outcome.ts';
import { sendWebhook, type AttemptResult } from '../delivery/webhook.ts';
import { webhookRequestFor } from '../delivery/webhook-target.ts';

export type ResendOutcome =
  | { kind: 'not-found' }
  | { kind: 'not-supported'; code: 's3' | 'pruned'; reason: string }
  | { kind: 'sent'; status: DeliveryStatus; result: AttemptResult };

/**
 * Resend: one manual attempt of a delivery, now, whatever its status,
 * recorded with trigger "manual". It does not count against the retry
 * schedule and never stops the integration; success or a refusal settles
 * the delivery, anything else leaves a pending delivery to its schedule and
 * a finished one as it was.
 */
export async function resendDelivery(
  deps: { db: Kysely<Database>; secrets: SecretBox; config: Config },
  integrationId: string,
  eventId: string,
): Promise<ResendOutcome> {
  const integration = await findIntegration(deps.db, integrationId);
  const detail = integration ? await findDeliveryDetail(deps.db, integrationId, eventId) : undefined;
  if (!integration || !detail) return { kind: 'not-found' };
  if (integration.target_kind !== 'webhook')
    return {
      kind: 'not-supported',
      code: 's3',
      reason: 'S3 deliveries go out in batches: one event cannot be resent to the bucket.',
    };
  const { delivery } = detail;
  const body = envelopeOf(delivery);
  if (body === null)
    return {
      kind: 'not-supported',
      code: 'pruned',
      reason: 'The event was pruned by retention; there is nothing to resend.',
    };

  const result = await sendWebhook(
    webhookRequestFor(integration, deps.secrets, deps.config, { id: delivery.event_id, body }, new Date()),
  );
  // One waiting in its entity's line has no due time: left pending, it is due now, and still goes only first in line.
  const attempted = {
    ...delivery,
    integration_id: integrationId,
    next_attempt_at: delivery.next_attempt_at ?? undefined,
  };
  const settlement = settlementFor(attempted, result, {
    trigger: 'manual',
    scheduleSeconds: deps.config.webhook.retryScheduleSeconds,
    overloadFloorMs: deps.config.webhook.overloadBackoffMs,
  });
  await settleDeliveries(deps.db, null, [settlement]);
  return { kind: 'sent', status: settlement.status, result };
}
