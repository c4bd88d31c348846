import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { ProblemError } from '../lib/problem.ts';
import type { createCatalogCache } from './event-types.repo.ts';
import { countIngested } from '../lib/metrics.ts';
import { createIngestWriter } from './ingest-writer.ts';
import { validateEnvelopes } from './events.schema.ts';
import type { RawEnvelope } from './ingest-body.ts';

export interface IngestResult {
  /** Every event id of the request, in order (generated where absent). */
  ids: string[];
  /** Ids that were stored before, or repeated within the request: stored once. */
  duplicates: string[];
}

/**
 * Validates a request's envelopes and stores them all or none. Each stored
 * event gets its pending deliveries in the same transaction, and the
 * delivery loops are woken when it commits.
 */
export function createIngestService(deps: {
  db: Kysely<Database>;
  tenant: string;
  maxEventBytes: number;
  catalog: ReturnType<typeof createCatalogCache>;
  now?: () => Date;
  /** Transactions writing at once. */
  writers?: number;
}) {
  const writer = createIngestWriter(deps.db, deps.tenant, { concurrency: deps.writers ?? 4 });

  return async function ingest(raw: RawEnvelope[]): Promise<IngestResult> {
    const names = raw.flatMap((item) => {
      const name = (item.value as { name?: unknown } | null)?.name;
      return typeof name === 'string' ? [name] : [];
    });
    const { events, errors, tooLarge } = validateEnvelopes(raw, {
      tenant: deps.tenant,
      catalog: await deps.catalog.forNames(names),
      maxEventBytes: deps.maxEventBytes,
      now: deps.now?.() ?? new Date(),
    });
    if (errors.length > 0) {
      const many = raw.length > 1;
      throw new ProblemError({
        status: tooLarge ? 413 : 422,
        type: tooLarge ? 'event-too-large' : 'invalid-events',
        title: tooLarge ? 'Event too large' : 'Invalid events',
        detail: many
          ? `${new Set(errors.map((error) => error.index)).size} of ${raw.length} events are invalid; nothing was stored.`
          : 'The event is invalid; nothing was stored.',
        errors,
      });
    }

    // The first occurrence of an id in the request wins; later ones are duplicates.
    const firstById = new Map<string, (typeof events)[number]>();
    for (const event of events) if (!firstById.has(event.id)) firstById.set(event.id, event);
    const unique = [...firstById.values()];
    const stored = await writer.write(unique);
    countIngested(stored.size);

    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const { id } of events) {
      if (seen.has(id) || !stored.has(id)) duplicates.push(id);
      seen.add(id);
    }
    return { ids: events.map((event) => event.id), duplicates };
  };
}
