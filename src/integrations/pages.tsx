import { HTTPException } from 'hono/http-exception';
import { createMiddleware } from 'hono/factory';
import type { Kysely } from 'kysely';
import type { SessionVariables } from '../auth/session.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { findIntegration, integrationStats } from './integrations.repo.ts';
import { targetLabel } from './integrations.resource.ts';
import { maskUrlCredentials } from '../lib/crypto.ts';
import { healthOf } from '../../views/integrations/health.tsx';
import type { IntegrationSummary } from '../../views/integrations/home.tsx';

/** What the Event Stream pages share: their context, and the integration a path names. */
export type PageEnv = { Variables: SessionVariables & { integration: IntegrationRow } };

/** What app.onError renders for a page that names something missing: the 404 page with this title and detail. */
export class PageNotFound extends HTTPException {
  constructor(
    readonly title: string,
    detail: string,
  ) {
    super(404, { message: detail });
  }
}

/**
 * Loads the integration of the `:id` path parameter into `c.var.integration`,
 * or answers the 404 page.
 *
 * @example .get('/:id/edit', withIntegration(db), (c) => c.var.integration)
 */
export function withIntegration(db: Kysely<Database>) {
  return createMiddleware<PageEnv>(async (c, next) => {
    const row = await findIntegration(db, c.req.param('id')!);
    if (!row) throw new PageNotFound('Integration not found', `There is no integration "${c.req.param('id')}".`);
    c.set('integration', row);
    await next();
  });
}

/** What an integration's pages show in their shared header: its ID, target, health and switch. */
export async function integrationSummary(
  db: Kysely<Database>,
  row: IntegrationRow,
  csrfToken: string,
): Promise<IntegrationSummary> {
  const stats = (await integrationStats(db, [row])).get(row.id)!;
  return {
    id: row.id,
    status: row.status,
    targetKind: row.target_kind,
    target: row.target_kind === 'webhook' ? maskUrlCredentials(row.callback_url ?? '') : targetLabel(row),
    health: healthOf(row, stats),
    now: new Date(),
    csrfToken,
  };
}
