import { afterEach, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSecretKey } from '../../src/db/secret-key.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'tideway-key-'));
  dirs.push(dir);
  return dir;
}

test('without SECRET_KEY a 256-bit key is generated into DATA_DIR/secret.key with mode 0600, then reused', () => {
  const dir = join(tempDir(), 'data');
  const first = resolveSecretKey(undefined, dir);
  expect(first.source).toBe('generated');
  expect(first.key).toMatch(/^[0-9a-f]{64}$/);
  const file = join(dir, 'secret.key');
  expect(readFileSync(file, 'utf8').trim()).toBe(first.key);
  expect(statSync(file).mode & 0o777).toBe(0o600);

  const second = resolveSecretKey(undefined, dir);
  expect(second).toEqual({ key: first.key, source: 'file' });
});

test('SECRET_KEY wins and writes no file', () => {
  const dir = tempDir();
  const key = 'C'.repeat(64);
  expect(resolveSecretKey(key, dir)).toEqual({ key: 'c'.repeat(64), source: 'env' });
  expect(() => statSync(join(dir, 'secret.key'))).toThrow();
});

test('a damaged key file stops the start instead of being replaced', async () => {
  const dir = tempDir();
  await Bun.write(join(dir, 'secret.key'), 'not a key');
  expect(() => resolveSecretKey(undefined, dir)).toThrow(/does not hold a 64-hex-character key/);
});
