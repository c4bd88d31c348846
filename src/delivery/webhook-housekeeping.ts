import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { setIntegrationStatus } from './integration-status.ts';
import { completedTemporaryIntegrations, integrationsFailingSince } from './deliveries.repo.ts';

/**
 * Stops, as the system, the running integrations whose deliveries have
 * failed with no success for WEBHOOK_STOP_AFTER_FAILING_MS, and the
 * temporary ones whose window is delivered ("completed"). The webhook loop
 * runs it every few seconds.
 */
export async function stopSpentIntegrations(db: Kysely<Database>, config: Config, now: Date): Promise<void> {
  const failingSince = new Date(now.getTime() - config.webhook.stopAfterFailingMs);
  const hours = Math.round(config.webhook.stopAfterFailingMs / 3_600_000);
  for (const failing of await integrationsFailingSince(db, failingSince)) {
    await setIntegrationStatus(
      db,
      failing.id,
      'stopped',
      `Deliveries failed continuously for ${hours} h (since ${failing.failing_since.toISOString()})`,
      'system',
      {
        type: 'integration.stopped',
        details: { cause: 'failing_too_long', failing_since: failing.failing_since.toISOString() },
      },
    );
  }
  for (const id of await completedTemporaryIntegrations(db, now)) {
    await setIntegrationStatus(db, id, 'stopped', 'completed', 'system', { type: 'integration.completed' });
  }
}
