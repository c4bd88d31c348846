import type { z } from 'zod';
import type { IntegrationFormValues } from '../../views/integrations/form.tsx';
import type { FieldErrors } from '../../views/components/field.tsx';
import type { IntegrationRow } from '../db/database.ts';
import { asSentence } from '../lib/messages.ts';
import { maskUrlCredentials } from '../lib/crypto.ts';

/*
 * The New/Edit form, mapped onto the API's shape so that the same schemas
 * validate both, and the API's error paths mapped back onto form fields.
 */

/** The New Integration form before anything is typed. */
export const EMPTY_FORM: IntegrationFormValues = {
  id: '',
  integration_type: 'permanent',
  starts_at: '',
  ends_at: '',
  entities: [],
  events: [],
  target: 'webhook',
  ordering: 'unordered',
  callback_url: '',
  aws_access_key_id: '',
  aws_region: '',
  bucket: '',
  key_prefix: '',
  endpoint: '',
  compression: 'none',
  format: 'ndjson',
  key_template: '',
};

type FormBody = Record<string, string | File | (string | File)[]>;

const text = (form: FormBody, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value.trim() : '';
};
const list = (form: FormBody, name: string): string[] => {
  const value = form[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter((item): item is string => typeof item === 'string');
};

const compressionOf = (value: string): IntegrationFormValues['compression'] =>
  value === 'gzip' || value === 'zstd' ? value : 'none';

/** What the user typed (secrets excluded: they are never written back into the page). */
export function formValues(form: FormBody, fallback: Partial<IntegrationFormValues> = {}): IntegrationFormValues {
  return {
    ...EMPTY_FORM,
    ...fallback,
    ...(fallback.id === undefined ? { id: text(form, 'id') } : {}),
    ...(fallback.integration_type === undefined
      ? { integration_type: text(form, 'integration_type') === 'temporary' ? 'temporary' : 'permanent' }
      : {}),
    starts_at: fallback.starts_at ?? text(form, 'starts_at'),
    ends_at: fallback.ends_at ?? text(form, 'ends_at'),
    entities: list(form, 'entities'),
    events: list(form, 'events'),
    target: fallback.target ?? (text(form, 'target') === 's3' ? 's3' : 'webhook'),
    ordering: text(form, 'ordering') === 'by_domain_entity' ? 'by_domain_entity' : 'unordered',
    callback_url: text(form, 'callback_url'),
    aws_access_key_id: text(form, 'aws_access_key_id'),
    aws_region: text(form, 'aws_region'),
    bucket: text(form, 'bucket'),
    key_prefix: text(form, 'key_prefix'),
    endpoint: text(form, 'endpoint'),
    compression: compressionOf(text(form, 'compression')),
    format: text(form, 'format') === 'parquet' ? 'parquet' : 'ndjson',
    key_template: text(form, 'key_template'),
  };
}

/** A datetime-local value ("2026-12-01T10:00", read as UTC) as ISO 8601; other text passes through to fail validation. */
function utc(value: string): string | undefined {
  if (value === '') return undefined;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)
    ? `${value.length === 16 ? `${value}:00` : value}Z`
    : value;
}

function target(form: FormBody, values: IntegrationFormValues, forEdit: boolean) {
  const secret = (name: string) =>
    typeof form[name] === 'string' && form[name] !== '' ? (form[name] as string) : undefined;
  if (values.target === 'webhook') {
    return {
      ordering: values.ordering,
      callback_parameters: {
        callback_url: values.callback_url,
        ...(secret('api_key') ? { api_key: secret('api_key') } : {}),
      },
    };
  }
  const s3 = {
    aws_access_key_id: values.aws_access_key_id,
    aws_region: values.aws_region,
    bucket: values.bucket,
    key_prefix: values.key_prefix,
    endpoint: values.endpoint || null,
    compression: values.compression,
    format: values.format,
    // Empty: NewStore's key (on edit too, so clearing the field goes back to it).
    key_template: values.key_template || null,
    ...(secret('aws_secret_access_key') || !forEdit
      ? { aws_secret_access_key: secret('aws_secret_access_key') ?? '' }
      : {}),
  };
  return { s3_parameters: s3 };
}

/** The New form as a create request body. */
export function createBodyFromForm(form: FormBody, values: IntegrationFormValues) {
  return {
    id: values.id,
    integration_type: values.integration_type,
    ...(utc(values.starts_at) ? { starts_at: utc(values.starts_at) } : {}),
    ...(values.integration_type === 'temporary' && utc(values.ends_at) ? { ends_at: utc(values.ends_at) } : {}),
    filter_conditions: { entities: values.entities, events: values.events },
    ...target(form, values, false),
  };
}

/** The Edit form as an update request body. */
export function updateBodyFromForm(form: FormBody, values: IntegrationFormValues) {
  return { filter_conditions: { entities: values.entities, events: values.events }, ...target(form, values, true) };
}

/** A stored integration as the Edit form's starting values. */
export function valuesFromRow(row: IntegrationRow): IntegrationFormValues {
  const local = (value: Date | null) => (value ? value.toISOString().slice(0, 19) : '');
  return {
    ...EMPTY_FORM,
    id: row.id,
    integration_type: row.integration_type,
    starts_at: local(row.starts_at),
    ends_at: local(row.ends_at),
    entities: row.filter_entities,
    events: row.filter_events,
    target: row.target_kind,
    ordering: row.ordering,
    callback_url: row.callback_url ? maskUrlCredentials(row.callback_url) : '',
    aws_access_key_id: row.s3_access_key_id ?? '',
    aws_region: row.s3_region ?? '',
    bucket: row.s3_bucket ?? '',
    key_prefix: row.s3_key_prefix,
    endpoint: row.s3_endpoint ?? '',
    compression: row.s3_compression,
    format: row.s3_format,
    key_template: row.s3_key_template ?? '',
  };
}

/** API error paths → form field names: `callback_parameters.callback_url` → `callback_url`. */
export function formErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const [first, second] = issue.path.map(String);
    let field = first ?? 'form';
    if (first === 'filter_conditions') field = 'events';
    else if ((first === 'callback_parameters' || first === 's3_parameters') && second) field = second;
    else if (first === 'callback_parameters' || first === 's3_parameters') field = 'target';
    // "is required: the AWS access key ID" says what the field's label already says: "Required." beside it is enough.
    const message = issue.message
      .replace('must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z', 'must be a date and time')
      .replace(/^is required: .*/, 'is required');
    errors[field] ??= asSentence(message);
  }
  return errors;
}
