import { readdirSync } from 'node:fs';
import { expect, test } from 'bun:test';
import { openPostgres } from '../../src/db/client.ts';
import { MIGRATIONS_FOLDER, migrateToLatest, pendingMigrations } from '../../src/db/migrate.ts';
import { ensureFirstAdmin } from '../../src/auth/bootstrap.ts';
import { createEmptyPostgresDatabase, usingPostgres } from '../helpers/database.ts';

// Several processes starting together on one fresh Postgres is a Postgres-only
// situation: the embedded database belongs to a single process.
test.skipIf(!usingPostgres)(
  'processes starting together on a fresh Postgres migrate once and create one admin',
  async () => {
    const fresh = await createEmptyPostgresDatabase();
    const processes = Array.from({ length: 4 }, () => openPostgres(fresh.url, { maxConnections: 3 }));
    try {
      const applied = await Promise.all(processes.map((handle) => migrateToLatest(handle.db)));
      expect(applied.filter((names) => names.length > 0)).toHaveLength(1);
      const files = readdirSync(MIGRATIONS_FOLDER)
        .map((file) => file.replace(/\.ts$/, ''))
        .sort();
      expect(applied.flat()).toEqual(files);
      expect(await pendingMigrations(processes[0]!.db)).toEqual([]);

      const announcements: string[] = [];
      const created = await Promise.all(
        processes.map((handle) =>
          ensureFirstAdmin(handle.db, { email: 'admin@localhost', password: undefined }, (message) =>
            announcements.push(message),
          ),
        ),
      );
      expect(created.filter(Boolean)).toEqual(['admin@localhost']);
      expect(announcements).toHaveLength(1);
      const users = await processes[0]!.db.selectFrom('users').select('email').execute();
      expect(users).toEqual([{ email: 'admin@localhost' }]);
    } finally {
      await Promise.all(processes.map((handle) => handle.close()));
      await fresh.drop();
    }
  },
);
