import type { Db, EventTypeRow } from '../db/database.ts';

export async function listEventTypes(db: Db): Promise<EventTypeRow[]> {
  return db.selectFrom('event_types').selectAll().orderBy('entity').orderBy('name').execute();
}

/** The catalog as the API shows it. */
export function toEventTypeResource(row: EventTypeRow) {
  return {
    name: row.name,
    entity: row.entity,
    description: row.description,
    deprecated: row.deprecated,
    replaced_by: row.replaced_by,
    domain_entity: { type: row.domain_entity_type, id_field: `payload.${row.domain_entity_id_field}` },
  };
}

export interface Catalog {
  get(name: string): EventTypeRow | undefined;
  names(): string[];
}

/**
 * The catalog held in memory for ingest, which looks up every event's type.
 * It reloads at most every `maxAgeMs`, and at once (throttled) when asked for
 * a name it does not know, so a type added by another process is found.
 */
export function createCatalogCache(db: Db, maxAgeMs = 30_000, now: () => number = Date.now) {
  let byName = new Map<string, EventTypeRow>();
  let loadedAt = -Infinity;
  let loading: Promise<void> | undefined;

  const reload = () => {
    loading ??= listEventTypes(db)
      .then((rows) => {
        byName = new Map(rows.map((row) => [row.name, row]));
        loadedAt = now();
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };

  return {
    /** The catalog, fresh enough to validate `names`. */
    async forNames(names: Iterable<string>): Promise<Catalog> {
      const age = now() - loadedAt;
      const missing = [...names].some((name) => !byName.has(name));
      if (age > maxAgeMs || (missing && age > 1_000)) await reload();
      const snapshot = byName;
      return { get: (name) => snapshot.get(name), names: () => [...snapshot.keys()] };
    },
  };
}

/** The names an integration's filter may hold: the catalog's entities and event types. */
export interface CatalogNames {
  entities: ReadonlySet<string>;
  events: ReadonlySet<string>;
}

export async function catalogNames(db: Db): Promise<CatalogNames> {
  const types = await listEventTypes(db);
  return { entities: new Set(types.map((type) => type.entity)), events: new Set(types.map((type) => type.name)) };
}
