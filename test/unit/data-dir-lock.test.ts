import { afterEach, expect, test } from 'bun:test';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../../src/db/client.ts';
import { DataDirLockedError, lockDataDir } from '../../src/db/data-dir-lock.ts';
import { ROOT } from '../helpers/process.ts';

const dirs: string[] = [];
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'tideway-lock-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test('a second lock on the same directory is refused, naming the directory and the holder', () => {
  const dir = tempDir();
  const first = lockDataDir(dir);
  let refusal: unknown;
  try {
    lockDataDir(dir);
  } catch (error) {
    refusal = error;
  }
  expect(refusal).toBeInstanceOf(DataDirLockedError);
  expect((refusal as Error).message).toContain(dir);
  expect((refusal as Error).message).toContain(`pid ${process.pid}`);
  first.release();
  lockDataDir(dir).release();
});

test('creates a missing directory', () => {
  const dir = join(tempDir(), 'nested', 'data');
  const lock = lockDataDir(dir);
  expect(lock.directory).toBe(dir);
  lock.release();
});

test('a process killed with SIGKILL leaves no stale lock', async () => {
  const dir = tempDir();
  const holder = Bun.spawn(
    [
      'bun',
      '-e',
      `require('${ROOT}/src/db/data-dir-lock.ts').lockDataDir(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000)`,
    ],
    { stdout: 'pipe' },
  );
  const reader = holder.stdout.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toContain('locked');
  expect(() => lockDataDir(dir)).toThrow(new RegExp(`pid ${holder.pid}`));
  holder.kill('SIGKILL');
  await holder.exited;
  lockDataDir(dir).release();
});

test('the data directory is readable by its owner alone (0700), one made before included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tideway-mode-'));
  chmodSync(dir, 0o755);
  const lock = lockDataDir(dir);
  try {
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
  } finally {
    lock.release();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the embedded database’s files are their owner’s alone, though PGlite writes them 0666', async () => {
  const dir = tempDir();
  const lock = lockDataDir(dir);
  const database = await openPglite({ dataDir: dir });
  try {
    await database.pglite.exec('create table written_after_open (x int); insert into written_after_open values (1)');
    const open = readdirSync(join(dir, 'pglite'), { recursive: true, withFileTypes: true })
      .map((entry) => ({
        path: join(entry.parentPath, entry.name),
        mode: statSync(join(entry.parentPath, entry.name)).mode,
      }))
      .filter(({ mode }) => (mode & 0o077) !== 0);
    expect(open).toEqual([]);
  } finally {
    await database.close();
    lock.release();
  }
});
