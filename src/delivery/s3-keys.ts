import type { S3Compression, S3Format } from '../db/database.ts';

/*
 * S3 object keys from an integration's key template (issue 17). A template
 * holds text and placeholders: per batch {key_prefix}, {tenant},
 * {timestamp_ms} (when the batch was sealed), {batch_id} and
 * {integration_id}; per event {event_name}, {entity} and {yyyy} {MM} {dd}
 * {HH} of its published_at in UTC. A template with per-event placeholders
 * partitions a batch: one object per distinct key. The extension follows
 * the format and compression (.export, .export.gz, .export.zst, .parquet).
 *
 * Sealing fills the per-batch placeholders once, and keeps the result as
 * the batch's key pattern; each event's object key is the pattern with its
 * own values, now or whenever the audit pages ask.
 */

/** NewStore's key: the default, and what every integration wrote before templates. */
export const DEFAULT_KEY_TEMPLATE = '{key_prefix}/{tenant}/{timestamp_ms}-data-{batch_id}';

export const BATCH_PLACEHOLDERS = ['key_prefix', 'tenant', 'timestamp_ms', 'batch_id', 'integration_id'] as const;
export const EVENT_PLACEHOLDERS = ['event_name', 'entity', 'yyyy', 'MM', 'dd', 'HH'] as const;
export const KEY_PLACEHOLDERS: readonly string[] = [...BATCH_PLACEHOLDERS, ...EVENT_PLACEHOLDERS];

type BatchPlaceholder = (typeof BATCH_PLACEHOLDERS)[number];
type EventPlaceholder = (typeof EVENT_PLACEHOLDERS)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;
/** AWS's safe characters for keys, with / between segments and = for Hive-style name=value partitions. */
const SAFE_TEXT = /^[A-Za-z0-9!\-_.*'()/=]$/;
const MAX_TEMPLATE_LENGTH = 512;

/** What is wrong with a key template, one message per problem; empty when it is usable. */
export function keyTemplateProblems(template: string): string[] {
  if (template.length === 0) return ['is empty: leave it out for the default key'];
  if (template.length > MAX_TEMPLATE_LENGTH)
    return [`is ${template.length} characters long; at most ${MAX_TEMPLATE_LENGTH}`];
  const problems: string[] = [];
  const unknown = [...template.matchAll(PLACEHOLDER)]
    .map((match) => match[1]!)
    .filter((name) => !KEY_PLACEHOLDERS.includes(name));
  for (const name of new Set(unknown))
    problems.push(`{${name}} is not a placeholder; use ${KEY_PLACEHOLDERS.map((known) => `{${known}}`).join(', ')}`);
  if (!template.includes('{batch_id}'))
    problems.push(
      'must contain {batch_id}, which keeps every batch’s objects apart (without it, batches overwrite each other)',
    );
  // What is left between placeholders is fixed text; positions count in the template as typed.
  const text = template.replace(PLACEHOLDER, (placeholder) => '\u0000'.repeat(placeholder.length));
  for (const [index, character] of [...text].entries()) {
    if (character === '\u0000' || SAFE_TEXT.test(character)) continue;
    const shown =
      character === '{' || character === '}' ? `a ${character} outside a placeholder` : JSON.stringify(character);
    problems.push(
      `${shown} (character ${index + 1}) should not be in an S3 key; use letters, digits, / = ! - _ . * ' ( ) and placeholders`,
    );
    break;
  }
  if (text.startsWith('/')) problems.push('must not start with /');
  if (text.endsWith('/')) problems.push('must end with a name, not /');
  if (text.includes('//')) problems.push('must not hold an empty segment (//)');
  if (text.split('/').some((segment) => segment === '.' || segment === '..'))
    problems.push('must not hold a . or .. segment');
  return problems;
}

/** Whether objects are split per event value (a partitioned batch). */
export function isPartitioned(template: string | null): boolean {
  return [...(template ?? DEFAULT_KEY_TEMPLATE).matchAll(PLACEHOLDER)].some((match) =>
    (EVENT_PLACEHOLDERS as readonly string[]).includes(match[1]!),
  );
}

/** Whether the template names the event's entity (sealing then looks entities up). */
export function usesEntity(template: string | null): boolean {
  return (template ?? DEFAULT_KEY_TEMPLATE).includes('{entity}');
}

const EXTENSIONS: Record<S3Compression, string> = { none: '.export', gzip: '.export.gz', zstd: '.export.zst' };

/** What an object's key ends with: NDJSON by its compression; Parquet compresses inside the file. */
export function objectExtension(format: S3Format, compression: S3Compression): string {
  return format === 'parquet' ? '.parquet' : EXTENSIONS[compression];
}

export interface BatchKeyFacts {
  keyPrefix: string;
  tenant: string;
  sealedAt: Date;
  batchId: string;
  integrationId: string;
  extension: string;
}

/**
 * The batch's key pattern: the template with its per-batch placeholders
 * filled and the extension added; per-event placeholders stay. An empty
 * {key_prefix} leaves no leading or doubled slash, as NewStore's key does.
 */
export function batchKeyPattern(template: string | null, facts: BatchKeyFacts): string {
  const values: Record<BatchPlaceholder, string> = {
    key_prefix: facts.keyPrefix,
    tenant: facts.tenant,
    timestamp_ms: String(facts.sealedAt.getTime()),
    batch_id: facts.batchId,
    integration_id: facts.integrationId,
  };
  const filled = (template ?? DEFAULT_KEY_TEMPLATE).replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? values[name as BatchPlaceholder] : whole,
  );
  return filled.replace(/\/{2,}/g, '/').replace(/^\//, '') + facts.extension;
}

export interface EventKeyFacts {
  eventName: string;
  entity: string;
  /** published_at, in ms since the epoch. */
  publishedMs: number;
}

const twoDigits = (value: number) => String(value).padStart(2, '0');

/** The key of the object that holds an event: its batch's pattern with the event's values. */
export function eventObjectKey(pattern: string, event: EventKeyFacts): string {
  if (!pattern.includes('{')) return pattern;
  const published = new Date(event.publishedMs);
  const values: Record<EventPlaceholder, string> = {
    event_name: event.eventName,
    entity: event.entity,
    yyyy: String(published.getUTCFullYear()),
    MM: twoDigits(published.getUTCMonth() + 1),
    dd: twoDigits(published.getUTCDate()),
    HH: twoDigits(published.getUTCHours()),
  };
  return pattern.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? values[name as EventPlaceholder] : whole,
  );
}

/** An event's entity: the catalog's, else its name up to the first dot (`order.created` → `order`). */
export function entityOf(eventName: string, catalog?: ReadonlyMap<string, string>): string {
  return catalog?.get(eventName) ?? eventName.split('.')[0]!;
}

/**
 * The key an integration's next object would have, for an order.created
 * event now: the form's live example. A template that cannot be used gets
 * what is wrong with it instead.
 */
export function exampleObjectKey(input: {
  template: string | null;
  keyPrefix: string;
  tenant: string;
  format: S3Format;
  compression: S3Compression;
  integrationId: string;
  now: Date;
}): string {
  const problems = input.template ? keyTemplateProblems(input.template) : [];
  if (problems.length > 0) return `Not a usable template: ${problems.join('; ')}.`;
  const pattern = batchKeyPattern(input.template, {
    keyPrefix: input.keyPrefix.replace(/^\/+|\/+$/g, ''),
    tenant: input.tenant,
    sealedAt: input.now,
    batchId: '0b7e5c1a-3f2d-4e8b-9a6c-1d2e3f4a5b6c',
    integrationId: input.integrationId || 'my-integration',
    extension: objectExtension(input.format, input.compression),
  });
  return eventObjectKey(pattern, { eventName: 'order.created', entity: 'order', publishedMs: input.now.getTime() });
}
