import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { requireToken, type TokenVariables, type TokenVerifier } from '../auth/bearer.ts';
import type { Config } from '../config.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { testS3Connection } from '../delivery/s3-upload.ts';
import { testWebhookConnection } from '../delivery/test-connection.ts';
import { catalogNames } from '../events/event-types.repo.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { jsonBody, ProblemError, queryOf } from '../lib/problem.ts';
import { findIntegration, integrationStats, listIntegrations } from './integrations.repo.ts';
import { toIntegrationResource } from './integrations.resource.ts';
import { createIntegrationSchema, toFieldErrors, updateIntegrationSchema } from './integrations.schema.ts';
import type { Logger } from '../lib/log.ts';
import {
  createIntegration,
  deleteIntegration,
  DuplicateIntegrationError,
  fromCreateBody,
  rotateSigningSecret,
  setIntegrationStatus,
  signingSecretOf,
  EditRefusedError,
  updateIntegration,
} from './integrations.service.ts';

/*
 * The event stream configuration API, NewStore-compatible:
 * /api/v1/org/integrations/eventstream…, bearer token with view_tools.
 */

function invalid(error: z.ZodError): ProblemError {
  return new ProblemError({
    status: 422,
    type: 'validation',
    title: 'Invalid integration',
    detail: 'The request names fields that are missing or wrong; nothing was changed.',
    errors: toFieldErrors(error),
  });
}

/** The integration `id`, or the API's 404 for it. */
export async function existingIntegration(db: Kysely<Database>, id: string): Promise<IntegrationRow> {
  const row = await findIntegration(db, id);
  if (!row) throw integrationNotFound(id);
  return row;
}

/** The 404 of an unknown integration, with NewStore's error_code resource_not_found. */
export function integrationNotFound(id: string): ProblemError {
  return new ProblemError({
    status: 404,
    type: 'not-found',
    title: 'Integration not found',
    detail: `There is no integration "${id}".`,
  });
}

export const listQuery = z.object({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(1000, 'must be at most 1000')
    .default(100),
  cursor: z.string().optional(),
});

export const reasonBody = z.looseObject({ reason: z.string().trim().max(500, 'is too long').optional() });

export function integrationApiRoutes(deps: {
  db: Kysely<Database>;
  secrets: SecretBox;
  tokens: TokenVerifier;
  config: Config;
  log: Logger;
}) {
  const { db, secrets } = deps;
  const actorOf = (c: Context<{ Variables: TokenVariables }>) => c.get('token').actor;

  async function resources(rows: IntegrationRow[]) {
    const stats = await integrationStats(db, rows);
    return rows.map((row) => toIntegrationResource(row, secrets, stats.get(row.id)!));
  }
  const existing = (id: string) => existingIntegration(db, id);
  async function setStatus(c: Context<{ Variables: TokenVariables }>, status: 'running' | 'stopped') {
    const id = c.req.param('id')!;
    const body = reasonBody.safeParse(await jsonBody(c));
    if (!body.success) throw invalid(body.error);
    await existing(id);
    const reason = body.data.reason || (status === 'running' ? 'Started through the API' : 'Stopped through the API');
    const row = await setIntegrationStatus(db, id, status, reason, actorOf(c));
    return c.json((await resources([row!]))[0]);
  }

  return new Hono<{ Variables: TokenVariables }>()
    .use(requireToken(deps.tokens, ['view_tools']))
    .get('/eventstream', async (c) => {
      const query = queryOf(listQuery, c.req.query());
      const after = query.cursor ? Buffer.from(query.cursor, 'base64url').toString() : undefined;
      const rows = (await listIntegrations(db)).filter((row) => !after || row.id > after);
      const page = rows.slice(0, query.limit);
      const next = rows.length > page.length ? Buffer.from(page.at(-1)!.id).toString('base64url') : null;
      return c.json({ integrations: await resources(page), next_cursor: next });
    })
    .post('/eventstream', async (c) => {
      const body = createIntegrationSchema(await catalogNames(db)).safeParse(await jsonBody(c));
      if (!body.success) throw invalid(body.error);
      try {
        let { integration } = await createIntegration(db, secrets, fromCreateBody(body.data), actorOf(c));
        if (body.data.status === 'stopped') {
          integration = (await setIntegrationStatus(db, integration.id, 'stopped', 'Created stopped', actorOf(c)))!;
        }
        return c.json((await resources([integration]))[0], 201);
      } catch (error) {
        if (error instanceof DuplicateIntegrationError) {
          throw new ProblemError({
            status: 409,
            type: 'conflict',
            title: 'Integration exists',
            detail: error.message,
            errors: [{ field: 'id', message: error.message }],
          });
        }
        throw error;
      }
    })
    .get('/eventstream/:id', async (c) => c.json((await resources([await existing(c.req.param('id'))]))[0]))
    .patch('/eventstream/:id', async (c) => {
      const id = c.req.param('id');
      await existing(id);
      const body = updateIntegrationSchema(await catalogNames(db)).safeParse(await jsonBody(c));
      if (!body.success) throw invalid(body.error);
      try {
        const row = await updateIntegration(db, secrets, id, body.data);
        if (!row) throw integrationNotFound(id);
        return c.json((await resources([row]))[0]);
      } catch (error) {
        if (error instanceof EditRefusedError) {
          throw new ProblemError({
            status: 422,
            type: 'validation',
            title: 'Invalid integration',
            detail: error.message,
            errors: [{ field: error.field, message: error.message }],
          });
        }
        throw error;
      }
    })
    .delete('/eventstream/:id', async (c) => {
      const id = c.req.param('id');
      if (!(await deleteIntegration(db, id))) throw integrationNotFound(id);
      return c.body(null, 204);
    })
    .post('/eventstream/:id/_start', (c) => setStatus(c, 'running'))
    .post('/eventstream/:id/_stop', (c) => setStatus(c, 'stopped'))
    .post('/eventstream/:id/_test', async (c) => {
      const integration = await existing(c.req.param('id'));
      if (integration.target_kind === 's3')
        return c.json(await testS3Connection(integration, secrets, deps.config.outbound));
      return c.json(await testWebhookConnection(integration, secrets, deps.config));
    })
    .get('/eventstream/:id/signing-secret', async (c) => {
      const integration = await existing(c.req.param('id'));
      deps.log.info('signing secret revealed', { integration: integration.id, actor: actorOf(c) });
      return c.json({ signing_secret: signingSecretOf(integration, secrets) });
    })
    .post('/eventstream/:id/signing-secret/_rotate', async (c) => {
      const secret = await rotateSigningSecret(db, secrets, c.req.param('id'));
      if (!secret) throw integrationNotFound(c.req.param('id'));
      return c.json({ signing_secret: secret });
    });
}
