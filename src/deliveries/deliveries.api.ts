import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { requireToken, type TokenVariables, type TokenVerifier } from '../auth/bearer.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { existingIntegration, listQuery } from '../integrations/integrations.api.ts';
import { listIntegrations } from '../integrations/integrations.repo.ts';
import { targetLabel } from '../integrations/integrations.resource.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { decodeKeyset, encodeKeyset } from '../lib/keyset-cursor.ts';
import { ProblemError, queryOf } from '../lib/problem.ts';
import { listIntegrationLogs, LOG_ID_SHAPE } from './logs.repo.ts';
import { entityIdsOf, lastResponses, listDeliveries, positionOf, UUID_SHAPE } from './published-events.repo.ts';
import { deliveryQuerySchema, filtersOf } from './published-events.schema.ts';
import { resendDelivery } from './resend.ts';

/*
 * The audit side of the configuration API, NewStore-compatible: what was
 * delivered (/published-events), what was refused (…/rejected-events), the
 * integration's log, and Resend. Mounted beside the integrations API at
 * /api/v1/org/integrations, with the same token and permission.
 */

export function deliveryApiRoutes(deps: {
  db: Kysely<Database>;
  secrets: SecretBox;
  tokens: TokenVerifier;
  config: Config;
}) {
  const { db } = deps;
  const existing = (id: string) => existingIntegration(db, id);

  return new Hono<{ Variables: TokenVariables }>()
    .use(requireToken(deps.tokens, ['view_tools']))
    .get('/published-events', async (c) => {
      const query = queryOf(deliveryQuerySchema, c.req.query());
      const { items, hasOlder } = await listDeliveries(db, {
        filters: filtersOf(query),
        limit: query.limit,
        after: decodeKeyset(query.cursor, UUID_SHAPE),
      });
      const integrations = new Map((await listIntegrations(db)).map((row) => [row.id, row]));
      const entityIds = await entityIdsOf(
        db,
        items.map((item) => item.event_id),
      );
      const retries = deps.config.webhook.retryScheduleSeconds.length;
      const last = items.at(-1);
      return c.json({
        events: items.map((item) => {
          const integration = integrations.get(item.integration_id);
          return {
            integration_id: item.integration_id,
            integration_type: integration?.integration_type ?? null,
            target: integration ? targetLabel(integration) : null,
            status: item.status,
            attempted_at: item.last_attempted_at?.toISOString() ?? null,
            retries_remaining: item.status === 'pending' ? Math.max(0, retries - Math.max(0, item.attempts - 1)) : 0,
            entity_id: entityIds.get(item.event_id) ?? null,
            domain_entity_id: item.domain_entity_id,
            domain_entity_type: item.domain_entity_type,
            event_name: item.event_name,
            event_id: item.event_id,
            published_at: item.published_at.toISOString(),
            response_time_ms: item.response_time_ms,
          };
        }),
        next_cursor: hasOlder && last ? encodeKeyset(positionOf(last)) : null,
      });
    })
    .post('/eventstream/:id/published-events/:eventId/_retry', async (c) => {
      const outcome = await resendDelivery(deps, c.req.param('id'), c.req.param('eventId'));
      if (outcome.kind === 'not-found')
        throw new ProblemError({
          status: 404,
          type: 'not-found',
          title: 'Delivery not found',
          detail: `Integration "${c.req.param('id')}" has no delivery of event ${c.req.param('eventId')}.`,
        });
      if (outcome.kind === 'not-supported')
        throw new ProblemError({ status: 422, type: 'not-supported', title: 'Cannot resend', detail: outcome.reason });
      const { result } = outcome;
      return c.json({
        status: outcome.status,
        attempt: {
          attempted_at: result.attemptedAt.toISOString(),
          outcome: result.attemptClass,
          trigger: 'manual',
          status_code: result.statusCode,
          error: result.errorMessage,
          response_time_ms: result.durationMs,
        },
      });
    })
    .get('/eventstream/:id/rejected-events', async (c) => {
      const integration = await existing(c.req.param('id'));
      const query = queryOf(deliveryQuerySchema, { ...c.req.query(), status: undefined, integration_id: undefined });
      const { items, hasOlder } = await listDeliveries(db, {
        filters: { ...filtersOf(query), integrationId: integration.id, status: 'rejected' },
        limit: query.limit,
        after: decodeKeyset(query.cursor, UUID_SHAPE),
      });
      const responses = await lastResponses(
        db,
        integration.id,
        items.map((item) => item.event_id),
      );
      const last = items.at(-1);
      return c.json({
        rejected_events: items.map((item) => ({
          event_id: item.event_id,
          event_name: item.event_name,
          domain_entity_id: item.domain_entity_id,
          published_at: item.published_at.toISOString(),
          created_at: item.last_attempted_at?.toISOString() ?? null,
          status_code: responses.get(item.event_id)?.status_code ?? null,
          response: responses.get(item.event_id)?.response_body ?? responses.get(item.event_id)?.error_message ?? null,
        })),
        next_cursor: hasOlder && last ? encodeKeyset(positionOf(last)) : null,
      });
    })
    .get('/eventstream/:id/logs', async (c) => {
      const integration = await existing(c.req.param('id'));
      const query = queryOf(listQuery, c.req.query());
      const { entries, next } = await listIntegrationLogs(db, {
        integrationId: integration.id,
        limit: query.limit,
        after: decodeKeyset(query.cursor, LOG_ID_SHAPE),
      });
      return c.json({
        logs: entries.map((entry) => ({
          action: entry.action,
          reason: entry.reason,
          actor: entry.actor,
          created_at: entry.created_at.toISOString(),
        })),
        next_cursor: next ? encodeKeyset(next) : null,
      });
    });
}
