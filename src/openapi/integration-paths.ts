import { z } from 'zod';
import type { ZodOpenApiPathsObject } from 'zod-openapi';
import { deliveryQuerySchema } from '../deliveries/published-events.schema.ts';
import { listQuery, reasonBody } from '../integrations/integrations.api.ts';
import { createIntegrationSchema, updateIntegrationSchema } from '../integrations/integrations.schema.ts';
import { ANY_CATALOG, body, idParam, integrationOperation, json } from './operation-parts.ts';
import * as responses from './responses.ts';

/** The configuration and audit API under /api/v1/org/integrations (NewStore's event stream API). */
export function integrationPaths(): ZodOpenApiPathsObject {
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

  return {
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
  };
}
