import { afterAll, beforeAll } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { openPglite, openPostgres, type DatabaseHandle } from '../../src/db/client.ts';
import { migrateToLatest, MIGRATIONS_FOLDER } from '../../src/db/migrate.ts';

/*
 * Every database test runs on PGlite, or on PostgreSQL when DATABASE_URL is
 * set, against a database of its own that is already migrated:
 *
 * - PGlite: initdb is slow (≈5 s), so the migrated database is dumped once
 *   to a file in the temp directory, keyed by the migrations' content, and
 *   each test database loads that dump (≈1 s).
 * - Postgres: a template database is migrated once (same key), and each
 *   test database is a `CREATE DATABASE … TEMPLATE` copy of it, dropped on close.
 */

export const usingPostgres = Boolean(process.env.DATABASE_URL);

export interface TestDatabase extends DatabaseHandle {
  /** For Postgres, the URL of this test's own database (for child processes). */
  readonly url?: string;
}

/** Identifies the current set of migrations; templates are rebuilt when it changes. */
function migrationsKey(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_FOLDER).sort()) {
    hash.update(file).update(readFileSync(join(MIGRATIONS_FOLDER, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

export async function createTestDatabase(): Promise<TestDatabase> {
  return usingPostgres ? createPostgresDatabase() : openPglite({ dump: await pgliteTemplate() });
}

/** The migrated PGlite dump, built on first use. */
export async function pgliteTemplate(): Promise<Blob> {
  const file = join(tmpdir(), `tideway-pglite-template-${migrationsKey()}.tar`);
  if (!existsSync(file)) {
    const fresh = await openPglite();
    await migrateToLatest(fresh.db);
    const dump = await fresh.pglite.dumpDataDir('none');
    await fresh.close();
    // Write then rename, so a concurrent test process never reads half a file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await Bun.write(partial, dump);
    renameSync(partial, file);
  }
  return new Blob([await Bun.file(file).arrayBuffer()]);
}

/**
 * A DATA_DIR holding a migrated embedded database, for tests that start
 * Tideway as a child process without paying for initdb.
 */
export async function prepareDataDir(dataDir: string): Promise<void> {
  const handle = await openPglite({ dataDir, dump: await pgliteTemplate() });
  await handle.close();
}

async function adminQuery<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

async function createPostgresDatabase(): Promise<TestDatabase> {
  const template = `tideway_template_${migrationsKey()}`;
  await ensurePostgresTemplate(template);
  const name = `tideway_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name} template ${template}`);
  const url = databaseUrl(name);
  const handle = openPostgres(url, { maxConnections: 10 });
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

/** Creates and migrates the template once; concurrent test processes wait on an advisory lock. */
async function ensurePostgresTemplate(template: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(7411302119)');
    const exists = await client.query('select 1 from pg_database where datname = $1', [template]);
    if (exists.rowCount === 0) {
      await client.query(`create database ${template}`);
      const handle = openPostgres(databaseUrl(template), { maxConnections: 2 });
      try {
        await migrateToLatest(handle.db);
      } finally {
        await handle.close();
      }
    }
  } finally {
    await client.query('select pg_advisory_unlock(7411302119)');
    await client.end();
  }
}

/** Names of the tables in the public schema, sorted. */
export async function tableNames(handle: DatabaseHandle): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(handle.db);
  return rows.map((row) => row.table_name);
}

/**
 * Gives the test file a database of its own for all its tests, opened before
 * the first and closed after the last.
 *
 * @example const db = useTestDatabase(); test('…', async () => { await db().db.selectFrom('users')… })
 */
export function useTestDatabase(): () => TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  }, 30_000);
  return () => {
    if (!database) throw new Error('the test database is not open yet');
    return database;
  };
}

/**
 * A brand-new, empty Postgres database (no migrations), for tests of what
 * happens on a fresh deployment. Postgres only.
 */
export async function createEmptyPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tideway_empty_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  return {
    url: databaseUrl(name),
    drop: async () => void (await adminQuery(`drop database if exists ${name} with (force)`)),
  };
}
