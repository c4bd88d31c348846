import { afterAll, beforeAll, expect, test } from 'bun:test';
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite, openPostgres, type DatabaseHandle } from '../../src/db/client.ts';
import { sha256Hex } from '../../src/lib/crypto.ts';
import { verifyPassword } from '../../src/auth/users.repo.ts';
import { createTestDatabase, prepareDataDir, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { childEnv, Output, ROOT } from '../helpers/process.ts';

/*
 * `bun run tideway …` as a user runs it: a child process on a real
 * deployment (a prepared DATA_DIR, or a Postgres database of this file's own).
 */

const dataDir = mkdtempSync(join(tmpdir(), 'tideway-cli-'));
let postgres: TestDatabase | undefined;

beforeAll(async () => {
  if (usingPostgres) postgres = await createTestDatabase();
  else await prepareDataDir(dataDir);
}, 120_000);
afterAll(async () => {
  await postgres?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function cli(...args: string[]) {
  const env: Record<string, string> = postgres
    ? { DATABASE_URL: postgres.url!, DATA_DIR: dataDir }
    : { DATA_DIR: dataDir };
  const proc = Bun.spawn(['bun', 'src/cli.ts', ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const stdout = new Output(proc.stdout);
  const stderr = new Output(proc.stderr);
  const code = await proc.exited;
  await Promise.all([stdout.closed, stderr.closed]);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Opens the deployment's database after the CLI has exited (the embedded one admits one process). */
async function withDatabase<T>(read: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = postgres ? openPostgres(postgres.url!) : await openPglite({ dataDir });
  try {
    return await read(handle);
  } finally {
    await handle.close();
  }
}

test('token create prints only the token on stdout and stores only its hash', async () => {
  const result = await cli('token', 'create', '--name', 'platform', '--permission', 'publish_events');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^tw_[A-Za-z0-9_-]{43}\n$/);
  const token = result.stdout.trim();
  const rows = await withDatabase((handle) => handle.db.selectFrom('api_tokens').selectAll().execute());
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    name: 'platform',
    permissions: ['publish_events'],
    token_hash: sha256Hex(token),
    revoked_at: null,
  });
  expect(JSON.stringify(rows)).not.toContain(token);
}, 30_000);

test('user create stores the user with an argon2id hash and the given permissions', async () => {
  const result = await cli(
    'user',
    'create',
    '--email',
    'ops@example.com',
    '--password',
    'correct horse',
    '--permission',
    'view_tools,manage_users',
  );
  expect(result.code).toBe(0);
  expect(result.stdout).toBe('Created user ops@example.com (view_tools, manage_users)\n');
  const user = await withDatabase((handle) =>
    handle.db.selectFrom('users').selectAll().where('email', '=', 'ops@example.com').executeTakeFirstOrThrow(),
  );
  expect(user.permissions).toEqual(['view_tools', 'manage_users']);
  expect(await verifyPassword('correct horse', user.password_hash)).toBe(true);

  const again = await cli(
    'user',
    'create',
    '--email',
    'OPS@example.com',
    '--password',
    'another one',
    '--permission',
    'view_tools',
  );
  expect(again.code).toBe(2);
  expect(again.stderr).toContain('--email: a user with the email OPS@example.com already exists');
}, 30_000);

test('bad input names every bad option, exits 2 and writes nothing', async () => {
  const result = await cli('token', 'create', '--permission', 'publish,view_tools');
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('--name: is required');
  expect(result.stderr).toContain(
    '--permission: "publish" is not a permission; use view_tools, publish_events, manage_users',
  );

  const unknown = await cli('token', 'create', '--name', 'x', '--permission', 'publish_events', '--admin');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("Unknown option '--admin'");

  const count = await withDatabase(
    async (handle) => (await handle.db.selectFrom('api_tokens').select('id').execute()).length,
  );
  expect(count).toBe(1); // only the token of the first test
}, 30_000);

test('migrate reports the schema current; unknown commands show the usage', async () => {
  const migrate = await cli('migrate');
  expect(migrate.code).toBe(0);
  expect(migrate.stdout).toBe('The database schema is up to date.\n');

  const unknown = await cli('frobnicate');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('Unknown command "frobnicate"');
  expect(unknown.stderr).toContain('token create --name N --permission publish_events');
}, 30_000);

const seededTableIndexes = () =>
  withDatabase(async ({ db }) =>
    (
      await sql<{ definition: string }>`select indexdef as definition from pg_indexes
        where tablename in ('events', 'deliveries', 'delivery_attempts') order by indexname`.execute(db)
    ).rows.map((row) => row.definition),
  );

test('seed writes N events over D days, a settled delivery and an attempt per integration, with paused placeholder integrations', async () => {
  const indexesBefore = await seededTableIndexes();
  expect(indexesBefore.length).toBeGreaterThan(8);
  const result = await cli('seed', '--events', '9000', '--days', '3', '--integrations', '2', '--payload-bytes', '600');
  expect(result.code).toBe(0);
  expect(result.stderr).toContain('seeded 9,000 of 9,000 events');
  expect(result.stdout).toContain('Seeded 9,000 events and 18,000 deliveries');
  // The indexes it set aside while writing are all there again, as they were.
  expect(await seededTableIndexes()).toEqual(indexesBefore);

  const facts = await withDatabase(async ({ db }) => {
    const integrations = await db
      .selectFrom('integrations')
      .select(['id', 'status', 'callback_url', 'delivered_count'])
      .where('id', 'like', 'seeded-%')
      .orderBy('id')
      .execute();
    const events = await db
      .selectFrom('events')
      .select((eb) => [
        eb.fn.countAll<string>().as('count'),
        eb.fn.min('published_at').as('first'),
        eb.fn.max('published_at').as('last'),
        eb.fn.count<string>(eb.fn('distinct', ['domain_entity_id' as never])).as('entities'),
        eb.fn.min(eb.fn('octet_length', ['payload'])).as('smallest'),
      ])
      .executeTakeFirstOrThrow();
    const statuses = await db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<string>().as('count')])
      .groupBy('status')
      .execute();
    const attempts = await db
      .selectFrom('delivery_attempts')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    const orphans = await db
      .selectFrom('delivery_attempts as a')
      .leftJoin('deliveries as d', (join) =>
        join.onRef('d.integration_id', '=', 'a.integration_id').onRef('d.event_id', '=', 'a.event_id'),
      )
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('d.event_id', 'is', null)
      .executeTakeFirstOrThrow();
    const names = await db.selectFrom('events').select('name').distinct().execute();
    const catalog = await db.selectFrom('event_types').select('name').execute();
    const payloads = await db
      .selectFrom('events')
      .select(['payload', 'domain_entity_id'])
      .limit(200)
      .offset(5_000)
      .execute();
    return { integrations, events, statuses, attempts, orphans, names, catalog, payloads };
  });
  expect(facts.integrations.map(({ id, status, callback_url }) => ({ id, status, callback_url }))).toEqual([
    { id: 'seeded-01', status: 'stopped', callback_url: 'https://placeholder.invalid/seeded-01' },
    { id: 'seeded-02', status: 'stopped', callback_url: 'https://placeholder.invalid/seeded-02' },
  ]);
  expect(Number(facts.events.count)).toBe(9_000);
  const spanDays =
    (new Date(facts.events.last as Date).getTime() - new Date(facts.events.first as Date).getTime()) / 86_400_000;
  expect(spanDays).toBeGreaterThan(2.9);
  expect(spanDays).toBeLessThanOrEqual(3);
  expect(new Date(facts.events.last as Date).getTime()).toBeLessThanOrEqual(Date.now());
  // Repeated templates still name entities of their own.
  expect(Number(facts.events.entities)).toBeGreaterThan(2_000);
  expect(Number(facts.events.smallest)).toBeGreaterThanOrEqual(580);
  const byStatus = Object.fromEntries(facts.statuses.map((row) => [row.status, Number(row.count)]));
  expect(byStatus.success! + byStatus.failure! + byStatus.rejected!).toBe(18_000);
  expect(byStatus.failure).toBeGreaterThan(0);
  expect(byStatus.rejected).toBeGreaterThan(0);
  expect(byStatus.pending).toBeUndefined();
  expect(Number(facts.attempts.count)).toBe(18_000);
  expect(Number(facts.orphans.count)).toBe(0);
  expect(facts.integrations.reduce((sum, row) => sum + Number(row.delivered_count), 0)).toBe(byStatus.success!);
  // The simulator's mix of names, every one in the catalog; payloads are JSON naming their domain entity.
  expect(facts.names.length).toBeGreaterThan(8);
  const known = new Set(facts.catalog.map((row) => row.name));
  expect(facts.names.every((row) => known.has(row.name))).toBe(true);
  for (const row of facts.payloads) {
    const payload = JSON.parse(row.payload);
    if (row.domain_entity_id) expect(JSON.stringify(payload)).toContain(`"${row.domain_entity_id}"`);
  }
}, 120_000);

test('seed refuses bad counts, naming each option', async () => {
  const result = await cli('seed', '--events', 'many', '--days', '0');
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('--events: must be a whole number of events');
  expect(result.stderr).toContain('--days: must be at least 1');
  expect(result.stderr).toContain('--integrations: is required');
}, 30_000);
