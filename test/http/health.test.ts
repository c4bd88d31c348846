import { expect, test } from 'bun:test';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_FOLDER, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

test('GET /healthz answers while the process runs', async () => {
  const response = await createTestApp(database()).request('/healthz');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toStartWith('application/json');
  expect(await response.json()).toMatchObject({ status: 'ok', version: '0.0.0-test' });
});

test('GET /readyz is 200 when the database answers and the schema is current', async () => {
  const response = await createTestApp(database()).request('/readyz');
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: 'ready', database: database().kind, version: '0.0.0-test' });
});

test('GET /readyz is 503 with the pending migrations named while the schema is behind', async () => {
  const behind = await createTestDatabase();
  try {
    const migrator = new Migrator({
      db: behind.db,
      provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
    });
    const { error } = await migrator.migrateDown();
    expect(error).toBeUndefined();
    const app = createTestApp(behind);

    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    const latest = (await fs.readdir(MIGRATIONS_FOLDER)).sort().at(-1)!.replace(/\.ts$/, '');
    expect(await response.json()).toMatchObject({ status: 'unavailable', reason: 'migrations pending', pending: [latest] });

    await migrateToLatest(behind.db);
    expect((await app.request('/readyz')).status).toBe(200);
  } finally {
    await behind.close();
  }
}, 60_000);

test('GET /readyz is 503 when the database does not answer', async () => {
  const lost = await createTestDatabase();
  const app = createTestApp(lost);
  expect((await app.request('/readyz')).status).toBe(200);
  await lost.close();
  const response = await app.request('/readyz');
  expect(response.status).toBe(503);
  expect(await response.json()).toMatchObject({ status: 'unavailable' });
  expect(((await app.request('/readyz')).status)).toBe(503);
}, 60_000);

test('GET /readyz is 503 naming every loop whose heartbeat is older than 60 s, and 200 again once they beat', async () => {
  let ages = { 'webhook-delivery': 75, 's3-batches': 2, retention: 61.5 };
  const app = createTestApp(database(), { health: { heartbeats: () => Object.entries(ages).map(([loop, ageSeconds]) => ({ loop, ageSeconds })) } });
  const response = await app.request('/readyz');
  expect(response.status).toBe(503);
  expect(await response.json()).toMatchObject({
    status: 'unavailable',
    reason: 'loops not making progress: webhook-delivery (last heartbeat 75 s ago), retention (last heartbeat 62 s ago)',
    stale_loops: ['webhook-delivery', 'retention'],
  });
  ages = { 'webhook-delivery': 0.2, 's3-batches': 0.1, retention: 3 };
  expect((await app.request('/readyz')).status).toBe(200);
});
