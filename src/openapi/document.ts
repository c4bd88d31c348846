import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { tokenRequestSchema, tokenResponseSchema } from '../auth/token.routes.ts';
import { deliveryQuerySchema } from '../deliveries/published-events.schema.ts';
import { envelopeSchema } from '../events/events.schema.ts';
import { listQuery, reasonBody } from '../integrations/integrations.api.ts';
import {
  createIntegrationSchema,
  updateIntegrationSchema,
  type CatalogNames,
} from '../integrations/integrations.schema.ts';
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

/** The catalog decides which names a filter may hold; the document cannot know it. */
const ANY_CATALOG: CatalogNames = { entities: new Set(), events: new Set() };

const PROBLEM_TEXT: Record<number, string> = {
  400: 'The request is malformed (not JSON, or a bad query parameter).',
  401: 'No token, or an unknown, expired or revoked one.',
  403: 'The token lacks the permission.',
  404: 'There is no such resource.',
  409: 'It exists already.',
  413: 'The body is too large.',
  415: 'The content type is not accepted.',
  422: 'The body names fields that are missing or wrong; nothing was changed.',
  429: 'Too many failed sign-ins: wait 15 minutes.',
  503: 'The database is unavailable, or the process is shutting down; try again after Retry-After.',
};

function problems(...statuses: number[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    [...statuses, 503].map((status) => [
      String(status),
      {
        description: PROBLEM_TEXT[status]!,
        content: { 'application/problem+json': { schema: responses.problemSchema } },
      },
    ]),
  );
}

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = (schema: z.ZodType, description?: string) => ({
  required: true,
  description,
  content: { 'application/json': { schema } },
});

const idParam = z.object({ id: z.string().meta({ description: 'The integration id.', example: 'erp' }) });
// Either a bearer token or the access token of NewStore's token endpoint.
const BEARER: Record<string, string[]>[] = [{ bearer: [] }, { oauth2: [] }];
const INTEGRATIONS = ['Integrations'];

function integrationOperation(
  operation: ZodOpenApiOperationObject & { responses: ZodOpenApiResponsesObject },
  ...statuses: number[]
): ZodOpenApiOperationObject {
  return {
    tags: INTEGRATIONS,
    security: BEARER,
    ...operation,
    responses: { ...operation.responses, ...problems(401, 403, ...statuses) },
  };
}

export function buildOpenApiDocument(version: string) {
  const createBody = createIntegrationSchema(ANY_CATALOG).meta({
    id: 'NewIntegration',
    description:
      'Give exactly one target: `callback_parameters` (webhook) or `s3_parameters` (S3). A temporary integration needs `ends_at` after its start. Names in `filter_conditions` must be in the event catalog (`GET /api/v1/event-types`).',
    example: {
      id: 'erp',
      integration_type: 'permanent',
      filter_conditions: { event_filter: ['order.created', 'order.cancelled'], entity_filter: [] },
      callback_parameters: { callback_url: 'https://erp.example.com/hooks/tideway', api_key: 'secret-key' },
    },
  });
  const updateBody = updateIntegrationSchema(ANY_CATALOG).meta({
    id: 'IntegrationChanges',
    description:
      'Only `filter_conditions` and the target’s details may change. An empty or absent secret keeps the stored one.',
    example: { callback_parameters: { callback_url: 'https://erp.example.com/v2/hooks' } },
  });
  const stopBody = {
    required: false,
    description: 'Optional: `{}`, an empty body, or a reason for the log.',
    content: { 'application/json': { schema: reasonBody } },
  };

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
      '/api/v1/org/integrations/eventstream': {
        get: integrationOperation(
          {
            operationId: 'listIntegrations',
            summary: 'List integrations',
            requestParams: { query: listQuery },
            responses: { '200': json(responses.integrationListSchema, 'A page of integrations.') },
          },
          400,
        ),
        post: integrationOperation(
          {
            operationId: 'createIntegration',
            summary: 'Create (and start) an integration',
            requestBody: body(createBody),
            responses: { '201': json(responses.integrationSchema, 'Created and running (unless created stopped).') },
          },
          400,
          409,
          422,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}': {
        get: integrationOperation(
          {
            operationId: 'getIntegration',
            summary: 'Read an integration',
            requestParams: { path: idParam },
            responses: { '200': json(responses.integrationSchema, 'The integration; secrets masked.') },
          },
          404,
        ),
        patch: integrationOperation(
          {
            operationId: 'updateIntegration',
            summary: 'Edit an integration',
            requestParams: { path: idParam },
            requestBody: body(updateBody),
            responses: { '200': json(responses.integrationSchema, 'The integration as changed.') },
          },
          400,
          404,
          422,
        ),
        delete: integrationOperation(
          {
            operationId: 'deleteIntegration',
            summary: 'Delete an integration with its deliveries and logs',
            requestParams: { path: idParam },
            responses: { '204': { description: 'Deleted.' } },
          },
          404,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}/_start': {
        post: integrationOperation(
          {
            operationId: 'startIntegration',
            summary: 'Start',
            requestParams: { path: idParam },
            requestBody: stopBody,
            responses: { '200': json(responses.integrationSchema, 'Running.') },
          },
          400,
          404,
          422,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}/_stop': {
        post: integrationOperation(
          {
            operationId: 'stopIntegration',
            summary: 'Stop (pause)',
            description: 'Once answered, no attempt starts; events keep accumulating and are delivered after a start.',
            requestParams: { path: idParam },
            requestBody: stopBody,
            responses: { '200': json(responses.integrationSchema, 'Stopped.') },
          },
          400,
          404,
          422,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}/_test': {
        post: integrationOperation(
          {
            operationId: 'testIntegration',
            summary: 'Test the connection',
            description: 'A signed `tideway.test` event to the webhook, or an S3 put and delete.',
            requestParams: { path: idParam },
            responses: { '200': json(responses.connectionTestSchema, 'What happened.') },
          },
          404,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}/published-events/{event_id}/_retry': {
        post: integrationOperation(
          {
            tags: ['Deliveries'],
            operationId: 'resendDelivery',
            summary: 'Resend one delivery now',
            requestParams: { path: idParam.extend({ event_id: z.uuid().meta({ description: 'The event id.' }) }) },
            responses: {
              '200': json(responses.resendSchema, 'The manual attempt and the delivery’s status after it.'),
            },
          },
          404,
          422,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}/rejected-events': {
        get: integrationOperation(
          {
            tags: ['Deliveries'],
            operationId: 'listRejectedEvents',
            summary: 'Events the consumer refused (4xx)',
            requestParams: { path: idParam, query: deliveryQuerySchema.omit({ status: true, integration_id: true }) },
            responses: { '200': json(responses.rejectedEventsSchema, 'A page of rejected events, newest first.') },
          },
          400,
          404,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}/logs': {
        get: integrationOperation(
          {
            operationId: 'listIntegrationLogs',
            summary: 'Starts, stops and why',
            requestParams: { path: idParam, query: listQuery },
            responses: { '200': json(responses.integrationLogsSchema, 'A page of log entries, newest first.') },
          },
          400,
          404,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}/signing-secret': {
        get: integrationOperation(
          {
            operationId: 'getSigningSecret',
            summary: 'Reveal the webhook signing secret',
            requestParams: { path: idParam },
            responses: { '200': json(responses.signingSecretSchema, 'The Standard Webhooks secret.') },
          },
          404,
        ),
      },
      '/api/v1/org/integrations/eventstream/{id}/signing-secret/_rotate': {
        post: integrationOperation(
          {
            operationId: 'rotateSigningSecret',
            summary: 'Rotate the signing secret',
            description: 'Both signatures are sent for 24 hours.',
            requestParams: { path: idParam },
            responses: { '200': json(responses.signingSecretSchema, 'The new secret.') },
          },
          404,
        ),
      },
      '/api/v1/org/integrations/published-events': {
        get: integrationOperation(
          {
            tags: ['Deliveries'],
            operationId: 'listPublishedEvents',
            summary: 'Delivery records',
            requestParams: { query: deliveryQuerySchema },
            responses: { '200': json(responses.publishedEventsSchema, 'A page of deliveries, newest first.') },
          },
          400,
        ),
      },
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
