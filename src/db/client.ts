import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { join } from 'node:path';
import type { Database } from './database.ts';

export type DatabaseKind = 'postgres' | 'pglite';

/** The open database: the Kysely instance and how to close what is under it. */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly kind: DatabaseKind;
  close(): Promise<void>;
}

// int8 (counts, identities) comes back as a string from pg by default; PGlite
// must agree, or code would see numbers on one database and strings on the other.
const INT8_OID = 20;

/** Connects to PostgreSQL at `url` through a pool. */
export function openPostgres(url: string, options: { maxConnections?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 20 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

/**
 * Opens an embedded PGlite database: in `dataDir`/pglite, or from a dump made
 * by `dumpDataDir()` (tests), or in memory when neither is given.
 */
export async function openPglite(source: { dataDir?: string; dump?: Blob } = {}): Promise<DatabaseHandle & { pglite: PGlite }> {
  const pglite = new PGlite({
    dataDir: source.dataDir ? join(source.dataDir, 'pglite') : undefined,
    loadDataDir: source.dump,
    parsers: { [INT8_OID]: (value: string) => value },
  });
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return { db, kind: 'pglite', pglite, close: () => db.destroy() };
}
