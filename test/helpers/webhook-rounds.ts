import { loadConfig } from '../../src/config.ts';
import type { DatabaseSession } from '../../src/db/session.ts';
import { createWebhookLoop } from '../../src/delivery/webhook-loop.ts';
import { createLogger } from '../../src/lib/log.ts';
import type { TestDatabase } from './database.ts';
import { testSecrets } from './fixtures.ts';

/**
 * The webhook engine for tests that drive it one round (runOnce) at a time
 * on a clock of their own: configured from `env`, reading `now`, with
 * jitter fixed at the middle of its range and nothing logged.
 */
export function webhookLoopForRounds(
  database: TestDatabase,
  session: DatabaseSession,
  env: Record<string, string>,
  now: () => Date,
) {
  return createWebhookLoop({
    db: database.db,
    session,
    secrets: testSecrets,
    config: loadConfig(env),
    log: createLogger('error', () => {}),
    now,
    random: () => 0.5,
  });
}
