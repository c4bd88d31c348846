import type { Context } from 'hono';
import type { Kysely } from 'kysely';
import { ErrorPage } from '../../views/error.tsx';
import type { SessionVariables } from '../auth/session.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { findIntegration } from './integrations.repo.ts';

/** What the Event Stream pages share: their context, and finding the integration a path names. */
export type PageEnv = { Variables: SessionVariables };

/** The integration of the `:id` path parameter, or the 404 page to answer with. */
export async function integrationOr404(c: Context<PageEnv>, db: Kysely<Database>): Promise<IntegrationRow | Response> {
  const row = await findIntegration(db, c.req.param('id')!);
  if (row) return row;
  c.status(404);
  return c.render(
    ErrorPage({
      status: 404,
      title: 'Integration not found',
      detail: `There is no integration "${c.req.param('id')}".`,
    }),
    {
      title: 'Not found',
      section: 'event-stream',
    },
  );
}
