import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { FileMigrationProvider, Migrator, type MigrationResult } from 'kysely/migration';
import type { Database } from './database.ts';

export const MIGRATIONS_FOLDER = path.resolve(import.meta.dir, '../../migrations');

// Any fixed 64-bit number unique to Tideway's schema changes.
const MIGRATION_LOCK_KEY = 7_411_302_118n;

export class MigrationError extends Error {
  constructor(
    readonly migration: string | undefined,
    cause: unknown,
  ) {
    super(`Migration ${migration ?? '(setup)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'MigrationError';
  }
}

/**
 * Brings the schema up to date and returns the names of the migrations it
 * applied (none when already current).
 *
 * Several processes may start at once against one Postgres: all but one wait
 * on a session advisory lock held on one pinned connection, then find nothing
 * left to do. (Kysely locks too, but only after creating its own bookkeeping
 * tables, which is itself a race on a fresh database.)
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  return db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(connection);
    try {
      const migrator = new Migrator({
        db: connection,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
      });
      const { error, results = [] } = await migrator.migrateToLatest();
      if (error) throw new MigrationError(results.find(failed)?.migrationName, error);
      return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
    } finally {
      await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK_KEY)})`.execute(connection);
    }
  });
}

function failed(result: MigrationResult) {
  return result.status === 'Error';
}

/** Names of migrations in migrations/ that the database has not applied. */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
  });
  const all = await migrator.getMigrations();
  return all.filter((migration) => !migration.executedAt).map((migration) => migration.name);
}
