import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmptyPostgresDatabase, usingPostgres } from '../helpers/database.ts';
import { childEnv, Output, ROOT, startTideway, stopTideway } from '../helpers/process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'tideway-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const PASSWORD_LINE = /password: (\S+)/g;

describe('bun start on the embedded database', () => {
  test('first start on an empty DATA_DIR: ready within 30 s, admin printed once; a second process is refused; restart reuses the data', async () => {
    const began = Date.now();
    const first = await startTideway({ DATA_DIR: dataDir });
    const ready = await fetch(`${first.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(Date.now() - began).toBeLessThan(30_000);
    expect([...first.stderr.text.matchAll(PASSWORD_LINE)]).toHaveLength(1);
    expect(first.stderr.text).toContain('email:    admin@localhost');
    const key = readFileSync(join(dataDir, 'secret.key'), 'utf8');
    expect(key.trim()).toMatch(/^[0-9a-f]{64}$/);
    // Nothing in the data directory is readable by other local users.
    const shared = readdirSync(dataDir, { recursive: true, withFileTypes: true })
      .map((entry) => join(entry.parentPath, entry.name))
      .filter((path) => (statSync(path).mode & 0o077) !== 0);
    expect(shared).toEqual([]);
    // The password goes to the terminal once, never into the JSON log.
    const password = [...first.stderr.text.matchAll(PASSWORD_LINE)][0]![1]!;
    expect(first.stdout.text).not.toContain(password);

    // A second process on the same directory exits at once and says why.
    const secondBegan = Date.now();
    const second = Bun.spawn(['bun', 'src/main.ts'], {
      cwd: ROOT,
      env: childEnv({ DATA_DIR: dataDir, PORT: '0' }),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const secondErr = new Output(second.stderr);
    const code = await second.exited;
    expect(code).not.toBe(0);
    expect(Date.now() - secondBegan).toBeLessThan(5_000);
    await secondErr.closed;
    expect(secondErr.text).toContain(
      `Data directory ${dataDir} is in use by another Tideway process (pid ${first.proc.pid}`,
    );

    // The first keeps serving.
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    expect(await stopTideway(first)).toBe(0);
    expect(first.stdout.logLines().map((line) => line.msg)).toContain('stopped');

    // Restart: same key, no second admin, nothing printed.
    const again = await startTideway({ DATA_DIR: dataDir });
    expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
    expect(again.stderr.text).not.toMatch(PASSWORD_LINE);
    expect(readFileSync(join(dataDir, 'secret.key'), 'utf8')).toBe(key);
    expect(await stopTideway(again, 'SIGINT')).toBe(0);
  }, 90_000);

  test('the role flag: a worker serves no HTTP', async () => {
    const worker = await startTideway({ DATA_DIR: dataDir }, 45_000, ['--role', 'worker']);
    const started = worker.stdout.logLines().find((line) => line.msg === 'tideway started');
    expect(started).toMatchObject({ role: 'worker' });
    expect(started?.url).toBeUndefined();
    expect(await stopTideway(worker)).toBe(0);
  }, 60_000);
});

test.skipIf(!usingPostgres)(
  'bun start on a fresh Postgres creates the admin once; a restart reuses it',
  async () => {
    const fresh = await createEmptyPostgresDatabase();
    const keyDir = mkdtempSync(join(tmpdir(), 'tideway-pgstart-'));
    try {
      const env = { DATABASE_URL: fresh.url, DATA_DIR: keyDir, ADMIN_PASSWORD: 'correct-horse-battery' };
      const first = await startTideway(env);
      expect(await (await fetch(`${first.url}/readyz`)).json()).toMatchObject({
        status: 'ready',
        database: 'postgres',
      });
      expect(first.stderr.text).toContain(
        'Created the first admin admin@localhost with the password from ADMIN_PASSWORD.',
      );
      expect(first.stderr.text).not.toContain('correct-horse-battery');
      expect(existsSync(join(keyDir, 'pglite'))).toBe(false);
      expect(await stopTideway(first)).toBe(0);

      const again = await startTideway(env);
      expect(again.stderr.text).not.toContain('Created the first admin');
      expect(await stopTideway(again)).toBe(0);
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
      await fresh.drop();
    }
  },
  60_000,
);

test('a bad environment stops the start with one message naming every bad variable', async () => {
  const proc = Bun.spawn(['bun', 'src/main.ts'], {
    cwd: ROOT,
    env: childEnv({ PORT: 'abc', DATABASE_URL: 'nope', DATA_DIR: dataDir }),
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const stderr = new Output(proc.stderr);
  expect(await proc.exited).toBe(2);
  await stderr.closed;
  expect(stderr.text).toContain('Invalid configuration:');
  expect(stderr.text).toContain('PORT: must be a whole number');
  expect(stderr.text).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
});
