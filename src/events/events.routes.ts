import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { requireToken, type TokenVerifier } from '../auth/bearer.ts';
import type { Config } from '../config.ts';
import type { DatabaseKind } from '../db/client.ts';
import type { Database } from '../db/database.ts';
import { createCatalogCache, listEventTypes, toEventTypeResource } from './event-types.repo.ts';
import { readEnvelopes } from './ingest-body.ts';
import { createIngestService } from './ingest.service.ts';

/** `/api/v1/event-types` and `/api/v1/events`. */
export function eventApiRoutes(deps: {
  db: Kysely<Database>;
  databaseKind: DatabaseKind;
  config: Config;
  tokens: TokenVerifier;
}) {
  const ingest = createIngestService({
    db: deps.db,
    // PGlite has one connection: a second writer would only queue behind the first.
    writers: deps.databaseKind === 'pglite' ? 1 : 4,
    tenant: deps.config.tenant,
    maxEventBytes: deps.config.ingest.maxEventBytes,
    catalog: createCatalogCache(deps.db),
  });

  return new Hono()
    .get('/event-types', requireToken(deps.tokens, ['publish_events', 'view_tools']), async (c) =>
      c.json({ event_types: (await listEventTypes(deps.db)).map(toEventTypeResource) }),
    )
    .post('/events', requireToken(deps.tokens, ['publish_events']), async (c) => {
      const raw = await readEnvelopes(c.req.raw, deps.config.ingest.maxRequestBytes, deps.config.ingest.maxJsonDepth);
      const result = await ingest(raw);
      return c.json({ accepted: result.ids.length, ids: result.ids, duplicates: result.duplicates }, 202);
    });
}
