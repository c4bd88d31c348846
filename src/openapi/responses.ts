import { z } from 'zod';
import { ORDERINGS, S3_COMPRESSIONS, S3_FORMATS } from '../db/database.ts';

/*
 * What the API answers, as zod schemas: the OpenAPI document is built from
 * them, and every API test checks each response it receives against the
 * document (test/helpers/contract.ts), so a handler that drifts from these
 * fails its tests.
 */

const time = z.iso.datetime().meta({ example: '2026-12-01T10:00:00.000Z' });
const nullableTime = time.nullable();
const cursor = z
  .string()
  .nullable()
  .meta({ description: 'Pass as `cursor` for the next page; null on the last page.' });

export const fieldErrorSchema = z
  .object({
    field: z.string().optional().meta({ description: 'The field, e.g. `callback_parameters.callback_url`.' }),
    index: z.number().int().optional().meta({ description: 'The event in a batch (0-based).' }),
    line: z.number().int().optional().meta({ description: 'The NDJSON line (1-based).' }),
    offset: z.number().int().optional().meta({ description: 'Byte offset of bytes that are not UTF-8.' }),
    message: z.string(),
  })
  .meta({ id: 'FieldError' });

export const problemSchema = z
  .object({
    type: z.string().meta({ description: 'A URI naming the kind of problem, or `about:blank`.' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().meta({ description: 'The request path.' }),
    request_id: z.string().optional(),
    error_code: z.string().meta({
      description:
        "NewStore's error code: `resource_not_found`, `validation_error`, `unauthorized`, `forbidden`, `conflict`, `bad_request`, `too_many_requests`, `service_unavailable`…",
    }),
    message: z.string().meta({ description: "The detail again, under NewStore's name." }),
    errors: z.array(fieldErrorSchema).optional(),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details, with NewStore’s `error_code` and `message`.',
    example: {
      type: 'https://tideway.dev/problems/not-found',
      title: 'Integration not found',
      status: 404,
      detail: 'There is no integration "erp".',
      instance: '/api/v1/org/integrations/eventstream/erp',
      request_id: '8c1f…',
      error_code: 'resource_not_found',
      message: 'There is no integration "erp".',
    },
  });

const filterConditions = z.object({ event_filter: z.array(z.string()), entity_filter: z.array(z.string()) });

export const integrationSchema = z
  .object({
    id: z.string(),
    integration_type: z.enum(['permanent', 'temporary']),
    ordering: z.enum(ORDERINGS).meta({
      description:
        '`by_domain_entity`: one entity’s events one at a time, in publication order; `unordered`: any order.',
    }),
    status: z.enum(['running', 'stopped']),
    starts_at: nullableTime,
    ends_at: nullableTime,
    filter_conditions: filterConditions,
    callback_parameters: z
      .object({
        callback_url: z.string().nullable(),
        api_key: z.string().nullable().meta({ description: 'Masked, e.g. `••••3f9a`.' }),
      })
      .optional()
      .meta({ description: 'A webhook integration’s target.' }),
    s3_parameters: z
      .object({
        aws_access_key_id: z.string().nullable(),
        aws_secret_access_key: z.string().nullable().meta({ description: 'Masked.' }),
        aws_region: z.string().nullable(),
        bucket: z.string().nullable(),
        key_prefix: z.string().nullable(),
        endpoint: z.string().nullable(),
        compression: z.enum(S3_COMPRESSIONS),
        gzip: z.boolean().meta({ description: 'Whether `compression` is `gzip` (the older field).' }),
        format: z.enum(S3_FORMATS),
        key_template: z
          .string()
          .meta({ description: 'The object key template (NewStore’s key unless one was given).' }),
      })
      .optional()
      .meta({ description: 'An S3 integration’s target.' }),
    created_at: time,
    updated_at: time,
    stats: z.object({
      pending: z.number().int(),
      delivered: z.number().int(),
      failed: z.number().int(),
      rejected: z.number().int(),
      last_delivery_at: nullableTime,
      oldest_pending_at: nullableTime,
    }),
  })
  .meta({
    id: 'Integration',
    example: {
      id: 'erp',
      integration_type: 'permanent',
      ordering: 'unordered',
      status: 'running',
      starts_at: '2026-12-01T10:00:00.000Z',
      ends_at: null,
      filter_conditions: { event_filter: ['order.created'], entity_filter: [] },
      callback_parameters: { callback_url: 'https://erp.example.com/hooks/tideway', api_key: '••••3f9a' },
      created_at: '2026-12-01T10:00:00.000Z',
      updated_at: '2026-12-01T10:00:00.000Z',
      stats: {
        pending: 0,
        delivered: 12,
        failed: 0,
        rejected: 1,
        last_delivery_at: '2026-12-01T10:05:00.000Z',
        oldest_pending_at: null,
      },
    },
  });

export const integrationListSchema = z
  .object({ integrations: z.array(integrationSchema), next_cursor: cursor })
  .meta({ id: 'IntegrationList', example: { integrations: [], next_cursor: null } });

const status = z.enum(['pending', 'success', 'failure', 'rejected']);

export const publishedEventsSchema = z
  .object({
    events: z.array(
      z.object({
        integration_id: z.string(),
        integration_type: z.enum(['permanent', 'temporary']).nullable(),
        target: z.string().nullable(),
        status,
        attempted_at: nullableTime,
        retries_remaining: z.number().int(),
        entity_id: z.string().nullable(),
        domain_entity_id: z.string().nullable(),
        domain_entity_type: z.string().nullable(),
        event_name: z.string(),
        event_id: z.uuid(),
        published_at: time,
        response_time_ms: z.number().int().nullable(),
      }),
    ),
    next_cursor: cursor,
  })
  .meta({
    id: 'PublishedEvents',
    example: {
      events: [
        {
          integration_id: 'erp',
          integration_type: 'permanent',
          target: 'erp.example.com',
          status: 'success',
          attempted_at: '2026-12-01T10:00:01.250Z',
          retries_remaining: 0,
          entity_id: 'order-1001',
          domain_entity_id: 'order-1001',
          domain_entity_type: 'order',
          event_name: 'order.created',
          event_id: '3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f',
          published_at: '2026-12-01T10:00:01.000Z',
          response_time_ms: 42,
        },
      ],
      next_cursor: null,
    },
  });

export const rejectedEventsSchema = z
  .object({
    rejected_events: z.array(
      z.object({
        event_id: z.uuid(),
        event_name: z.string(),
        domain_entity_id: z.string().nullable(),
        published_at: time,
        created_at: nullableTime,
        status_code: z.number().int().nullable(),
        response: z
          .string()
          .nullable()
          .meta({ description: 'The excerpt of the consumer’s answer (at most 20 KB), or the error.' }),
      }),
    ),
    next_cursor: cursor,
  })
  .meta({
    id: 'RejectedEvents',
    example: {
      rejected_events: [
        {
          event_id: '3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f',
          event_name: 'order.created',
          domain_entity_id: 'order-1001',
          published_at: '2026-12-01T10:00:01.000Z',
          created_at: '2026-12-01T10:00:01.250Z',
          status_code: 422,
          response: '{"error":"unknown customer"}',
        },
      ],
      next_cursor: null,
    },
  });

export const integrationLogsSchema = z
  .object({
    logs: z.array(
      z.object({ action: z.string(), reason: z.string().nullable(), actor: z.string().nullable(), created_at: time }),
    ),
    next_cursor: cursor,
  })
  .meta({
    id: 'IntegrationLogs',
    example: {
      logs: [
        {
          action: 'stopped',
          reason: 'The callback answered 401 Unauthorized',
          actor: 'system',
          created_at: '2026-12-01T10:00:00.000Z',
        },
      ],
      next_cursor: null,
    },
  });

export const resendSchema = z
  .object({
    status,
    attempt: z.object({
      attempted_at: time,
      outcome: z.enum(['success', 'retry', 'rejected', 'interrupt']),
      trigger: z.literal('manual'),
      status_code: z.number().int().nullable(),
      error: z.string().nullable(),
      response_time_ms: z.number().int(),
    }),
  })
  .meta({
    id: 'Resend',
    example: {
      status: 'success',
      attempt: {
        attempted_at: '2026-12-01T10:00:00.000Z',
        outcome: 'success',
        trigger: 'manual',
        status_code: 200,
        error: null,
        response_time_ms: 35,
      },
    },
  });

export const connectionTestSchema = z
  .object({
    ok: z.boolean(),
    summary: z.string().meta({ description: 'What happened, in a sentence.' }),
    status_code: z.number().int().nullable(),
    duration_ms: z.number().int(),
    error: z.string().nullable(),
    response_body: z.string().nullable(),
  })
  .meta({
    id: 'ConnectionTest',
    example: {
      ok: true,
      summary: 'The callback answered 200 OK in 35 ms.',
      status_code: 200,
      duration_ms: 35,
      error: null,
      response_body: 'ok',
    },
  });

export const signingSecretSchema = z
  .object({ signing_secret: z.string().meta({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }) })
  .meta({ id: 'SigningSecret' });

export const eventTypesSchema = z
  .object({
    event_types: z.array(
      z.object({
        name: z.string(),
        entity: z.string(),
        description: z.string(),
        deprecated: z.boolean(),
        replaced_by: z.string().nullable(),
        domain_entity: z.object({ type: z.string().nullable(), id_field: z.string() }),
      }),
    ),
  })
  .meta({
    id: 'EventTypes',
    example: {
      event_types: [
        {
          name: 'order.created',
          entity: 'order',
          description: 'An order was placed.',
          deprecated: false,
          replaced_by: null,
          domain_entity: { type: 'order', id_field: 'payload.id' },
        },
      ],
    },
  });

export const ingestResultSchema = z
  .object({
    accepted: z.number().int().meta({ description: 'Events in the request, duplicates included.' }),
    ids: z.array(z.uuid()),
    duplicates: z.array(z.uuid()).meta({ description: 'Ids already stored: stored once, answered as success.' }),
  })
  .meta({
    id: 'IngestResult',
    example: { accepted: 1, ids: ['3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f'], duplicates: [] },
  });

export const healthSchema = z
  .object({ status: z.literal('ok'), version: z.string(), uptime_seconds: z.number().int() })
  .meta({ id: 'Health' });

export const readinessSchema = z
  .looseObject({ status: z.enum(['ready', 'unavailable']), database: z.string(), version: z.string().optional() })
  .meta({
    id: 'Readiness',
    description: 'When unavailable, further fields say what is unwell (the database, stale loops, shutting down).',
  });
