import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import { tokenRequestSchema, tokenResponseSchema } from '../auth/token.routes.ts';
import { envelopeSchema } from '../events/events.schema.ts';
import { integrationPaths } from './integration-paths.ts';
import { notificationPaths } from './notification-paths.ts';
import { BEARER, json, problems } from './operation-parts.ts';
import * as responses from './responses.ts';

/*
 * The OpenAPI 3.1 document of the whole API, served at /api/openapi.json.
 * Request schemas are the ones the handlers validate with; response
 * schemas are those of ./responses.ts, which the API tests hold every
 * response to. Built with zod-openapi rather than @hono/zod-openapi or
 * hono-openapi: those validate requests in route middleware with static
 * schemas, while ours depend on the event catalog at request time and
 * answer errors in NewStore's shape; a document builder over the very
 * schemas the handlers use keeps one source without reshaping every route.
 * Refinements that need data (the event catalog) or several
 * fields (exactly one target) cannot be said in JSON Schema: the
 * descriptions say them.
 */

export function buildOpenApiDocument(version: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Tideway API',
      version,
      description:
        'Tideway stores the events of a commerce platform and delivers them to webhooks and S3 buckets. The configuration API follows NewStore’s Event Stream API, so its clients work unmodified. Authenticate with `Authorization: Bearer <token>`: an API token (created in the UI or with `bun run tideway token create`) or an access token from `POST /v0/token`.',
    },
    tags: [
      { name: 'Authentication', description: 'NewStore’s token endpoint.' },
      { name: 'Events', description: 'Publishing events and the event catalog.' },
      { name: 'Integrations', description: 'Event stream integrations: webhooks and S3 buckets.' },
      { name: 'Deliveries', description: 'The audit trail: what was delivered, when, and what the consumer answered.' },
      {
        name: 'Notifications',
        description:
          'Channels (signed webhooks, Slack, email) told when an integration stops, completes, falls behind or recovers.',
      },
      { name: 'Operations', description: 'Probes and metrics.' },
    ],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token (`tw_…`) or an access token from `POST /v0/token` (a JWT).',
        },
        oauth2: {
          type: 'oauth2',
          description: 'NewStore’s token endpoint: the access token it answers is sent as a bearer token.',
          flows: {
            password: { tokenUrl: '/v0/token', scopes: {} },
            clientCredentials: { tokenUrl: '/v0/token', scopes: {} },
          },
        },
      },
    },
    paths: {
      '/v0/token': {
        post: {
          tags: ['Authentication'],
          operationId: 'createToken',
          summary: 'Get an access token',
          description:
            'OAuth 2 password grant (a user with `view_tools`) or client-credentials grant (`client_secret` is an API token, `client_id` its name or id). Form-encoded; a body with no content type or `text/plain` is read as a form too. Wrong credentials are a 403, as NewStore answers. Failed password grants are throttled together with the sign-in page.',
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: tokenRequestSchema,
                example: { grant_type: 'password', username: 'admin@localhost', password: '…' },
              },
              'application/json': { schema: tokenRequestSchema },
            },
          },
          responses: {
            '200': json(tokenResponseSchema, 'An access token (valid for `expires_in` seconds).'),
            ...problems(400, 403, 429),
          },
        },
      },
      '/api/v1/events': {
        post: {
          tags: ['Events'],
          operationId: 'publishEvents',
          summary: 'Publish events',
          description:
            'One envelope, an array of envelopes (a batch: all or nothing), or NDJSON. Needs `publish_events`. The `id` is the idempotency key.',
          security: BEARER,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: z.union([envelopeSchema, z.array(envelopeSchema)]),
                example: {
                  id: '3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f',
                  name: 'order.created',
                  published_at: '2026-12-01T10:00:00.000Z',
                  payload: { id: 'order-1001' },
                },
              },
              'application/x-ndjson': { schema: z.string().meta({ description: 'One envelope per line.' }) },
            },
          },
          responses: {
            '202': json(responses.ingestResultSchema, 'Stored; deliveries are queued.'),
            ...problems(400, 401, 403, 413, 415, 422),
          },
        },
      },
      '/api/v1/event-types': {
        get: {
          tags: ['Events'],
          operationId: 'listEventTypes',
          summary: 'The event catalog',
          security: BEARER,
          responses: {
            '200': json(responses.eventTypesSchema, 'Every event type, with its domain-entity rule.'),
            ...problems(401, 403),
          },
        },
      },
      ...integrationPaths(),
      ...notificationPaths(),
      '/metrics': {
        get: {
          tags: ['Operations'],
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          description: 'The Prometheus text exposition; needs a bearer token with `view_tools`.',
          security: BEARER,
          responses: {
            '200': { description: 'Metrics.', content: { 'text/plain': { schema: z.string() } } },
            ...problems(401, 403),
          },
        },
      },
      '/healthz': {
        get: {
          tags: ['Operations'],
          operationId: 'health',
          summary: 'Liveness',
          responses: { '200': json(responses.healthSchema, 'The process is up.') },
        },
      },
      '/readyz': {
        get: {
          tags: ['Operations'],
          operationId: 'readiness',
          summary: 'Readiness',
          responses: {
            '200': json(responses.readinessSchema, 'Ready.'),
            '503': json(responses.readinessSchema, 'Not ready: the database, a stale loop, or shutting down.'),
          },
        },
      },
    },
  });
}
