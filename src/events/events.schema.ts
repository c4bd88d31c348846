import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { nearest } from '../lib/nearest.ts';
import type { FieldError } from '../lib/problem.ts';
import type { Catalog } from './event-types.repo.ts';
import { envelopeSizeBytes } from './envelope.ts';
import type { RawEnvelope } from './ingest-body.ts';

const ENVELOPE_FIELDS = ['id', 'tenant', 'name', 'published_at', 'payload', 'domain_entity_type', 'domain_entity_id'];
/** Longer ids would not fit the indexes that search by them. */
const MAX_ID_LENGTH = 255;

const optionalId = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .optional();

export const envelopeSchema = z.strictObject(
  {
    id: z.guid({ error: 'must be a UUID, e.g. 3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f' }).optional(),
    tenant: z.string({ error: 'must be a string' }).optional(),
    name: z.string({ error: 'is required: the event type, e.g. order.created' }).min(1, 'is required: the event type, e.g. order.created'),
    published_at: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 time with a zone, e.g. 2026-11-30T10:00:00.123Z' })
      .optional(),
    // A plain-object check rather than z.record, which walks every key of
    // every payload: half of validation's time for nothing (bench/ingest.ts).
    payload: z.custom<Record<string, unknown>>(isRecord, {
      error: (issue) => (issue.input === undefined ? 'is required: the event data as a JSON object' : 'must be a JSON object'),
    }),
    domain_entity_type: optionalId,
    domain_entity_id: optionalId,
  },
  { error: 'must be an event envelope (a JSON object)' },
);

/** A validated event, ready to store. */
export interface NewEvent {
  id: string;
  name: string;
  entity: string;
  entityId: string | null;
  domainEntityType: string | null;
  domainEntityId: string | null;
  publishedAt: Date;
  payloadJson: string;
  sizeBytes: number;
}

export interface ValidationContext {
  tenant: string;
  catalog: Catalog;
  maxEventBytes: number;
  now: Date;
}

export type ValidationResult = { events: NewEvent[]; errors: FieldError[]; tooLarge: boolean };

/**
 * Validates every envelope of a request and reports every problem, each with
 * its field and, for batches, its index (and NDJSON line). Derives the
 * domain entity from the catalog's rule unless the envelope names it.
 */
export function validateEnvelopes(raw: RawEnvelope[], context: ValidationContext): ValidationResult {
  const events: NewEvent[] = [];
  const errors: FieldError[] = [];
  let tooLarge = false;
  for (const item of raw) {
    const where = { ...(item.index !== undefined ? { index: item.index } : {}), ...(item.line !== undefined ? { line: item.line } : {}) };
    const problems: FieldError[] = [];
    const parsed = envelopeSchema.safeParse(item.value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys) {
            problems.push({ ...where, field: key, message: `is not an envelope field (allowed: ${ENVELOPE_FIELDS.join(', ')})` });
          }
        } else {
          problems.push({ ...where, field: issue.path.map(String).join('.') || undefined, message: issue.message });
        }
      }
    }
    const envelope = parsed.success ? parsed.data : undefined;
    const name = isRecord(item.value) && typeof item.value.name === 'string' ? item.value.name : undefined;
    const type = name ? context.catalog.get(name) : undefined;
    if (name && !type) {
      const suggestion = nearest(name, context.catalog.names());
      problems.push({ ...where, field: 'name', message: `"${name}" is not a known event type${suggestion ? `; did you mean "${suggestion}"?` : ''}` });
    }
    if (isRecord(item.value) && typeof item.value.tenant === 'string' && item.value.tenant !== context.tenant) {
      problems.push({ ...where, field: 'tenant', message: `must be "${context.tenant}" (this deployment's tenant) or absent` });
    }
    if (!envelope || !type || problems.length > 0) {
      errors.push(...problems);
      continue;
    }

    const payload = envelope.payload;
    const entityId = idOf(payload.id);
    const ruleId = idOf(payload[type.domain_entity_id_field]);
    const event: NewEvent = {
      id: (envelope.id ?? randomUUID()).toLowerCase(),
      name: type.name,
      entity: type.entity,
      entityId,
      domainEntityType: envelope.domain_entity_type ?? type.domain_entity_type,
      domainEntityId: envelope.domain_entity_id ?? ruleId,
      publishedAt: envelope.published_at ? new Date(envelope.published_at) : context.now,
      payloadJson: JSON.stringify(payload),
      sizeBytes: 0,
    };
    for (const [field, value] of [['payload.id', entityId], [`payload.${type.domain_entity_id_field}`, ruleId]] as const) {
      if (value && value.length > MAX_ID_LENGTH) errors.push({ ...where, field, message: `must be at most ${MAX_ID_LENGTH} characters` });
    }
    event.sizeBytes = envelopeSizeBytes({ ...event, tenant: context.tenant });
    if (event.sizeBytes > context.maxEventBytes) {
      tooLarge = true;
      errors.push({ ...where, message: `The event is ${event.sizeBytes} bytes; the limit is ${context.maxEventBytes} (MAX_EVENT_BYTES).` });
      continue;
    }
    events.push(event);
  }
  return { events, errors, tooLarge };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An id found in a payload: strings and numbers count, anything else does not. */
function idOf(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}
