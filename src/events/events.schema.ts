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

/** Ids are stored as PostgreSQL text, which cannot hold NUL (it was a 500). */
const NUL_IN_ID = 'must not contain the NUL character (\\u0000)';

const optionalId = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
  .refine((value) => !value.includes('\u0000'), NUL_IN_ID)
  .optional();

export const envelopeSchema = z
  .strictObject(
    {
      id: z.guid({ error: 'must be a UUID, e.g. 3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f' }).optional(),
      tenant: z.string({ error: 'must be a string' }).optional(),
      name: z
        .string({ error: 'is required: the event type, e.g. order.created' })
        .min(1, 'is required: the event type, e.g. order.created'),
      published_at: z.iso
        .datetime({ offset: true, error: 'must be an ISO 8601 time with a zone, e.g. 2026-11-30T10:00:00.123Z' })
        .optional(),
      // A plain-object check rather than z.record, which walks every key of
      // every payload: half of validation's time for nothing (bench/ingest.ts).
      payload: z
        .custom<Record<string, unknown>>(isRecord, {
          error: (issue) =>
            issue.input === undefined ? 'is required: the event data as a JSON object' : 'must be a JSON object',
        })
        .meta({
          override: {
            type: 'object',
            additionalProperties: true,
            description: 'The event data, a JSON object (e.g. the order).',
          },
        }),
      domain_entity_type: optionalId,
      domain_entity_id: optionalId,
    },
    { error: 'must be an event envelope (a JSON object)' },
  )
  .meta({
    id: 'EventEnvelope',
    description:
      'An event as producers publish it. `id` and `published_at` default to a new UUID and now; `tenant` to this deployment’s.',
  });

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
    const where = {
      ...(item.index !== undefined ? { index: item.index } : {}),
      ...(item.line !== undefined ? { line: item.line } : {}),
    };
    let problems: FieldError[] = [];
    const parsed = envelopeSchema.safeParse(item.value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys) {
            problems.push({
              ...where,
              field: key,
              message: `is not an envelope field (allowed: ${ENVELOPE_FIELDS.join(', ')})`,
            });
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
      problems.push({
        ...where,
        field: 'name',
        message: `"${name}" is not a known event type${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
      });
    }
    if (isRecord(item.value) && typeof item.value.tenant === 'string' && item.value.tenant !== context.tenant) {
      problems.push({
        ...where,
        field: 'tenant',
        message: `must be "${context.tenant}" (this deployment's tenant) or absent`,
      });
    }
    const payloadJson = envelope ? JSON.stringify(envelope.payload) : undefined;
    const unpaired = loneSurrogateProblems(item.value, payloadJson);
    if (unpaired.length > 0) {
      // Other messages may quote the same text (an unknown name or field):
      // escape it there too, so that the refusal is itself valid I-JSON.
      problems = [...problems, ...unpaired.map((problem) => ({ ...where, ...problem }))].map(printable);
    }
    if (!envelope || !type || payloadJson === undefined || problems.length > 0) {
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
      payloadJson,
      sizeBytes: 0,
    };
    // For order events the rule's field is payload.id itself: each field once.
    for (const [field, value] of new Map([
      ['payload.id', entityId],
      [`payload.${type.domain_entity_id_field}`, ruleId],
    ])) {
      if (value && value.length > MAX_ID_LENGTH)
        errors.push({ ...where, field, message: `must be at most ${MAX_ID_LENGTH} characters` });
      if (value?.includes('\u0000')) errors.push({ ...where, field, message: NUL_IN_ID });
    }
    event.sizeBytes = envelopeSizeBytes({ ...event, tenant: context.tenant });
    if (event.sizeBytes > context.maxEventBytes) {
      tooLarge = true;
      errors.push({
        ...where,
        message: `The event is ${event.sizeBytes} bytes; the limit is ${context.maxEventBytes} (MAX_EVENT_BYTES).`,
      });
      continue;
    }
    events.push(event);
  }
  return { events, errors, tooLarge };
}

/*
 * A lone surrogate (JSON `"\ud800"` without the low half after it) is not
 * Unicode text: PostgreSQL jsonb, BigQuery and strict parsers refuse it, RFC
 * 7493 (I-JSON) forbids it, and a text column would store U+FFFD instead.
 * Raw bytes were checked as UTF-8 already, so only `\u` escapes make one.
 */

/**
 * Every lone surrogate in an envelope's keys and string values, at any depth,
 * as field errors. The payload, the bulk of an envelope, is walked only when
 * its JSON text holds a `\ud` escape: JSON.stringify writes lone surrogates
 * as such escapes (lowercase) and pairs as the character itself.
 */
function loneSurrogateProblems(envelope: unknown, payloadJson: string | undefined): FieldError[] {
  const clean = payloadJson !== undefined && !payloadJson.includes('\\ud');
  if (clean && isRecord(envelope) && flatAndWellFormed(envelope)) return [];
  return collectLoneSurrogates(envelope, clean && isRecord(envelope) ? envelope.payload : undefined);
}

/** The common case, checked without the walk's allocations: well-formed keys and strings around the payload. */
function flatAndWellFormed(envelope: Record<string, unknown>): boolean {
  for (const key in envelope) {
    const value = envelope[key];
    if (!key.isWellFormed()) return false;
    if (key !== 'payload' && typeof value === 'object' && value !== null) return false;
    if (typeof value === 'string' && !value.isWellFormed()) return false;
  }
  return true;
}

/** A value met in the walk, with the key or index that leads to it from its parent. */
interface Step {
  value: unknown;
  name?: string;
  /** Whether `name` is an object's key (checked too) rather than an array index. */
  isKey?: boolean;
  parent?: Step;
}

/** How many lone surrogates one envelope reports: enough to fix it, not a reply as large as the body. */
const MAX_SURROGATE_ERRORS = 20;

/**
 * The walk, in document order, skipping `skip`. An explicit stack, and paths
 * built only for what is found, because a payload may nest a million deep.
 */
function collectLoneSurrogates(root: unknown, skip: unknown): FieldError[] {
  const found: FieldError[] = [];
  const stack: Step[] = [{ value: root }];
  while (stack.length > 0 && found.length < MAX_SURROGATE_ERRORS) {
    const step = stack.pop()!;
    const { value } = step;
    if (step.isKey && !step.name!.isWellFormed()) found.push(loneSurrogateKey(pathOf(step.parent), step.name!));
    if (typeof value === 'string') {
      if (!value.isWellFormed())
        found.push({
          ...fieldOf(pathOf(step)),
          message: `holds ${firstLoneSurrogate(value)}, a lone surrogate, so it is not Unicode text${PAIR_HINT}`,
        });
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--)
        stack.push({ value: value[index], name: String(index), parent: step });
    } else if (isRecord(value) && value !== skip) {
      const keys = Object.keys(value);
      for (let at = keys.length - 1; at >= 0; at--)
        stack.push({ value: value[keys[at]!], name: keys[at]!, isKey: true, parent: step });
    }
  }
  return found;
}

function pathOf(step: Step | undefined): string[] {
  const path: string[] = [];
  for (let at = step; at?.name !== undefined; at = at.parent) path.push(at.name);
  return path.reverse();
}

const PAIR_HINT = ': send the character itself or a complete surrogate pair';
const LONE_SURROGATE = /\p{Cs}/u;

function loneSurrogateKey(path: string[], key: string): FieldError {
  const shown = key.length > 60 ? `${[...key].slice(0, 60).join('')}…` : key;
  const message = `has a key, "${escapedSurrogates(shown)}", that holds a lone surrogate, so it is not Unicode text${PAIR_HINT}`;
  return path.length === 0 ? { message: `The envelope ${message}` } : { ...fieldOf(path), message };
}

/** The first lone surrogate of `text` as its escape, e.g. `\ud800`. */
function firstLoneSurrogate(text: string): string {
  return escapedSurrogates(LONE_SURROGATE.exec(text)?.[0] ?? '');
}

/** The path as other envelope errors name fields (`payload.items.0.name`), lone surrogates escaped. */
function fieldOf(path: string[]): { field?: string } {
  return path.length === 0 ? {} : { field: escapedSurrogates(path.join('.')) };
}

/** `text` with each lone surrogate written as its `\uXXXX` escape (pairs are kept). */
function escapedSurrogates(text: string): string {
  return text.replace(/\p{Cs}/gu, (unit) => `\\u${unit.charCodeAt(0).toString(16)}`);
}

/** `problem` with its field and message made Unicode text. */
function printable(problem: FieldError): FieldError {
  const field = problem.field === undefined ? {} : { field: escapedSurrogates(problem.field) };
  return { ...problem, ...field, message: escapedSurrogates(problem.message) };
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
