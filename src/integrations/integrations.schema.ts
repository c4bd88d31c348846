import { z } from 'zod';
import { ORDERINGS, S3_COMPRESSIONS, S3_FORMATS, type S3Compression } from '../db/database.ts';
import { DEFAULT_KEY_TEMPLATE, KEY_PLACEHOLDERS, keyTemplateProblems } from '../delivery/s3-keys.ts';
import type { CatalogNames } from '../events/event-types.repo.ts';
import { fieldErrorsOf, type FieldError } from '../lib/problem.ts';
import { httpUrlSchema, signingSecretSchema } from '../lib/schemas.ts';

/*
 * The integration as the JSON API speaks it (NewStore's event stream
 * configuration field names), validated against the event catalog. The UI's
 * form is mapped onto the same shape and validated by the same schemas, so
 * both refuse exactly the same things with the same words.
 */

export type { CatalogNames };

const RESERVED_IDS = new Set(['new', 'overview']);

const idSchema = z
  .string({ error: 'is required' })
  .min(1, 'is required')
  .regex(
    /^[a-z0-9][a-z0-9_-]{2,63}$/,
    'must be 3–64 characters: lower-case letters, digits, - and _, starting with a letter or digit',
  )
  .refine((id) => !RESERVED_IDS.has(id), 'is reserved; choose another ID');

const timeSchema = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z' });

const httpUrl = httpUrlSchema('https://erp.example.com/hooks/tideway');

const optionalSecret = z.string().max(4096, 'is too long').nullish();
const required = (label: string) =>
  z.string({ error: 'is required' }).trim().min(1, `is required: ${label}`).max(1024, 'is too long');

/**
 * `filter_conditions` in NewStore's names, `event_filter` and
 * `entity_filter`; Tideway's earlier `events` and `entities` are accepted
 * as aliases. The output is `{ events, entities }` whichever was sent.
 */
function filterSchema(catalog: CatalogNames) {
  const entityList = z.array(
    z.string({ error: 'must be an entity name' }).refine((entity) => catalog.entities.has(entity), {
      error: (issue) => `"${String(issue.input)}" is not an entity`,
    }),
    { error: 'must be a list of entity names, e.g. ["order"]' },
  );
  const eventList = z.array(
    z.string({ error: 'must be an event name' }).refine((name) => catalog.events.has(name), {
      error: (issue) => `"${String(issue.input)}" is not a known event type`,
    }),
    { error: 'must be a list of event names, e.g. ["order.created"]' },
  );
  return z
    .strictObject({
      event_filter: eventList.optional().meta({ description: 'Event names to deliver, e.g. `order.created`.' }),
      entity_filter: entityList
        .optional()
        .meta({ description: 'Entities whose every event is delivered, e.g. `order`.' }),
      events: eventList.optional().meta({ description: 'Alias of `event_filter`.', deprecated: true }),
      entities: entityList.optional().meta({ description: 'Alias of `entity_filter`.', deprecated: true }),
    })
    .superRefine((value, context) => {
      for (const [name, alias] of [
        ['event_filter', 'events'],
        ['entity_filter', 'entities'],
      ] as const) {
        if (value[name] && value[alias])
          context.addIssue({
            code: 'custom',
            path: [alias],
            message: `is another name for ${name}: give only one of them`,
          });
      }
    })
    .transform((value) => ({
      events: value.event_filter ?? value.events,
      entities: value.entity_filter ?? value.entities,
    }))
    .nullish()
    .meta({
      description:
        'An event is delivered when its name is in `event_filter` or its entity in `entity_filter`; empty or absent: every event.',
    });
}

const callbackSchema = z.strictObject({
  callback_url: httpUrl.refine(
    (value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''),
    'must not hold a user name or password: give the credential as api_key (sent as "Authorization: Bearer <key>"), which is stored encrypted',
  ),
  api_key: optionalSecret,
});

const s3Schema = z.strictObject({
  aws_access_key_id: required('the AWS access key ID'),
  aws_secret_access_key: z.string({ error: 'is required' }).min(1, 'is required: the AWS secret access key').max(4096),
  // An empty field is "is required", not a malformed value (abort: the format check has nothing to say then).
  aws_region: z
    .string({ error: 'is required' })
    .trim()
    .min(1, { message: 'is required', abort: true })
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$|^[a-z0-9-]{2,32}$/, 'must be an AWS region, e.g. eu-central-1'),
  bucket: z
    .string({ error: 'is required' })
    .trim()
    .min(1, { message: 'is required', abort: true })
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'must be an S3 bucket name: 3–63 lower-case letters, digits, dots and hyphens',
    ),
  key_prefix: z
    .string()
    .trim()
    .max(512, 'is too long')
    .transform((prefix) => prefix.replace(/^\/+|\/+$/g, ''))
    .nullish(),
  endpoint: httpUrl.nullish(),
  compression: z.enum(S3_COMPRESSIONS, { error: 'must be none, gzip or zstd' }).nullish().meta({
    description: 'How objects are compressed: `none` (`.export`), `gzip` (`.export.gz`) or `zstd` (`.export.zst`).',
  }),
  gzip: z
    .boolean({ error: 'must be true or false' })
    .nullish()
    .meta({ description: 'The older way to say `compression`: true is `gzip`, false is `none`.' }),
  format: z.enum(S3_FORMATS, { error: 'must be ndjson or parquet' }).nullish().meta({
    description:
      'What objects hold: `ndjson` (the default: one event envelope per line) or `parquet` (one row per event: id, tenant, name, published_at, entity, entity_id, domain_entity_type, domain_entity_id, payload as JSON; compressed inside the file, `.parquet`).',
  }),
  key_template: z
    .string({ error: 'must be text' })
    .trim()
    .superRefine((template, context) => {
      if (template === '') return;
      for (const message of keyTemplateProblems(template)) context.addIssue({ code: 'custom', message });
    })
    .transform((template) => template || null)
    .nullish()
    .meta({
      description: `Object keys (the extension is added): placeholders ${KEY_PLACEHOLDERS.map((name) => `\`{${name}}\``).join(', ')}; per-event ones (\`{event_name}\`, \`{entity}\`, \`{yyyy}\` … \`{HH}\` of published_at in UTC) split each batch into one object per value. Must hold \`{batch_id}\`. Absent, empty or null: NewStore's \`${DEFAULT_KEY_TEMPLATE}\`.`,
    }),
});

/** `gzip` and `compression` given together must agree. */
function checkCompression(
  s3: { gzip?: boolean | null; compression?: S3Compression | null } | null | undefined,
  context: z.RefinementCtx,
) {
  if (!s3 || s3.gzip === undefined || s3.gzip === null || !s3.compression) return;
  if (s3.gzip !== (s3.compression === 'gzip')) {
    context.addIssue({
      code: 'custom',
      path: ['s3_parameters', 'compression'],
      message: `is ${s3.compression} but gzip is ${s3.gzip}: give compression alone`,
    });
  }
}

const orderingSchema = z.enum(ORDERINGS, { error: 'must be unordered or by_domain_entity' }).meta({
  description:
    '`by_domain_entity`: the events of one domain entity (e.g. one order) are delivered one at a time, in publication order; a failing one holds back only its own entity. `unordered` (the default): any order, fastest.',
});

export const ORDERING_WEBHOOKS_ONLY =
  'applies to webhook integrations only: S3 batches are not delivered one event at a time';

/** `POST /api/v1/org/integrations/eventstream` (and the New Integration form). */
export function createIntegrationSchema(catalog: CatalogNames) {
  return z
    .strictObject({
      id: idSchema,
      integration_type: z.enum(['permanent', 'temporary'], { error: 'must be permanent or temporary' }),
      starts_at: timeSchema.nullish(),
      ends_at: timeSchema.nullish(),
      status: z.enum(['running', 'stopped'], { error: 'must be running or stopped' }).nullish(),
      ordering: orderingSchema.nullish(),
      filter_conditions: filterSchema(catalog),
      callback_parameters: callbackSchema.nullish(),
      s3_parameters: s3Schema.nullish(),
      signing_secret: signingSecretSchema.nullish(),
    })
    .superRefine((value, context) => {
      if (Boolean(value.callback_parameters) === Boolean(value.s3_parameters)) {
        context.addIssue({
          code: 'custom',
          path: [value.callback_parameters ? 's3_parameters' : 'callback_parameters'],
          message: 'give exactly one target: callback_parameters (webhook) or s3_parameters (S3)',
        });
      }
      if (value.integration_type === 'temporary' && !value.ends_at) {
        context.addIssue({ code: 'custom', path: ['ends_at'], message: 'is required for a temporary integration' });
      }
      if (value.integration_type === 'permanent' && value.ends_at) {
        context.addIssue({
          code: 'custom',
          path: ['ends_at'],
          message: 'must be empty for a permanent integration (make it temporary to give it an end)',
        });
      }
      checkCompression(value.s3_parameters, context);
      if (value.s3_parameters && value.ordering === 'by_domain_entity') {
        context.addIssue({ code: 'custom', path: ['ordering'], message: ORDERING_WEBHOOKS_ONLY });
      }
      const start = value.starts_at ? Date.parse(value.starts_at) : Date.now();
      if (value.ends_at && Date.parse(value.ends_at) <= start) {
        context.addIssue({ code: 'custom', path: ['ends_at'], message: 'must be after the start' });
      }
    });
}
export type CreateIntegrationBody = z.output<ReturnType<typeof createIntegrationSchema>>;

const IMMUTABLE = ['id', 'integration_type', 'starts_at', 'ends_at', 'status', 'signing_secret'] as const;

/**
 * `PATCH …/{id}` (and the Edit form): only the delivery order, the events
 * and the target's details. An empty or absent secret keeps the stored one.
 */
export function updateIntegrationSchema(catalog: CatalogNames) {
  return z
    .looseObject({
      ordering: orderingSchema.optional(),
      filter_conditions: filterSchema(catalog),
      callback_parameters: callbackSchema.partial().nullish(),
      s3_parameters: s3Schema.partial().nullish(),
    })
    .superRefine((value, context) => {
      checkCompression(value.s3_parameters, context);
      for (const field of IMMUTABLE) {
        if (field in value)
          context.addIssue({ code: 'custom', path: [field], message: 'cannot be changed after creation' });
      }
      for (const field of Object.keys(value)) {
        if (
          !IMMUTABLE.includes(field as (typeof IMMUTABLE)[number]) &&
          !['ordering', 'filter_conditions', 'callback_parameters', 's3_parameters'].includes(field)
        ) {
          context.addIssue({ code: 'custom', path: [field], message: 'is not an integration field' });
        }
      }
    });
}
export type UpdateIntegrationBody = z.output<ReturnType<typeof updateIntegrationSchema>>;

/** zod issues as problem+json field errors, e.g. `callback_parameters.callback_url`. */
export const toFieldErrors = (error: z.ZodError): FieldError[] => fieldErrorsOf(error, 'is not an integration field');
