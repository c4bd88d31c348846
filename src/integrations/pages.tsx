import { HTTPException } from 'hono/http-exception';
import { createMiddleware } from 'hono/factory';
import type { Kysely } from 'kysely';
import type { SessionVariables } from '../auth/session.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { findIntegration } from './integrations.repo.ts';

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
