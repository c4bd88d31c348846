import { expect, test } from 'bun:test';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_FOLDER, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestApp } from '../helpers/app.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createTestDatabase, useTestDatabase, usingPostgres } from '../helpers/database.ts';

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
    expect(await response.json()).toMatchObject({
      status: 'unavailable',
      reason: 'migrations pending',
      pending: [latest],
    });

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
  expect((await app.request('/readyz')).status).toBe(503);
}, 60_000);

test('GET /readyz is 503 naming every loop whose heartbeat is older than 60 s, and 200 again once they beat', async () => {
  let ages = { 'webhook-delivery': 75, 's3-batches': 2, retention: 61.5 };
  const app = createTestApp(database(), {
    health: {
      heartbeats: () => Object.entries(ages).map(([loop, ageSeconds]) => ({ loop, ageSeconds })),
      stopping: () => false,
    },
  });
  const response = await app.request('/readyz');
  expect(response.status).toBe(503);
  expect(await response.json()).toMatchObject({
    status: 'unavailable',
    reason:
      'loops not making progress: webhook-delivery (last heartbeat 75 s ago), retention (last heartbeat 62 s ago)',
    stale_loops: ['webhook-delivery', 'retention'],
  });
  ages = { 'webhook-delivery': 0.2, 's3-batches': 0.1, retention: 3 };
  expect((await app.request('/readyz')).status).toBe(200);
});

test('once shutting down, /readyz is 503 "shutting down": load balancers stop sending to it', async () => {
  const app = createTestApp(database(), { health: { heartbeats: () => [], stopping: () => true } });
  const ready = await app.request('/readyz');
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ status: 'unavailable', reason: 'shutting down' });
});

test.skipIf(!usingPostgres)(
  'a request whose database closes under it during a shutdown is a 503 to send elsewhere, not a logged error',
  async () => {
    const closing = await createTestDatabase();
    const lines: string[] = [];
    const app = createTestApp(closing, {
      health: { heartbeats: () => [], stopping: () => true },
      log: createLogger('debug', (line) => lines.push(line)),
    });
    await closing.close(); // as deployment.close() does at the end of a shutdown ("driver has already been destroyed")
    const response = await app.request('/api/v1/event-types', { headers: { authorization: 'Bearer tw_anything' } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ type: 'https://tideway.dev/problems/shutting-down', status: 503 });
    expect(lines.filter((line) => line.includes('"level":"error"'))).toEqual([]);
  },
  60_000,
);
