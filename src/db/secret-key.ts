import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './database.ts';
import { putDeploymentSettingIfAbsent } from './deployment-settings.repo.ts';
import type { SecretBox } from '../lib/crypto.ts';

/**
 * The deployment's encryption key: SECRET_KEY when configured, else the key
 * in DATA_DIR/secret.key, generated (256 random bits, mode 0600) on first use.
 * Losing the file makes stored secrets unreadable, so it is never replaced.
 */
export function resolveSecretKey(
  configured: string | undefined,
  dataDir: string,
): { key: string; source: 'env' | 'file' | 'generated' } {
  if (configured) return { key: configured.toLowerCase(), source: 'env' };
  const path = join(dataDir, 'secret.key');
  if (existsSync(path)) {
    const key = readFileSync(path, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(key)) throw new Error(`${path} does not hold a 64-hex-character key`);
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { key: key.toLowerCase(), source: 'file' };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('hex');
  // 'wx' fails if another process created the file in the meantime; that
  // process's key must win, so read it back rather than overwrite it.
  try {
    writeFileSync(path, `${key}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return resolveSecretKey(undefined, dataDir);
    throw error;
  }
  return { key, source: 'generated' };
}

const KEY_CHECK_SETTING = 'secret_key_check';
const KEY_CHECK_PLAINTEXT = 'tideway-secret-key-check';

export class SecretKeyMismatchError extends Error {
  constructor() {
    super(
      "The encryption key does not match the one this database's secrets were sealed with. " +
        'Start every Tideway process of this deployment with the same SECRET_KEY (or the same DATA_DIR/secret.key).',
    );
    this.name = 'SecretKeyMismatchError';
  }
}

/**
 * Seals a known value under the key on first start and checks on every later
 * start that the key still opens it: two processes with different keys on one
 * Postgres would otherwise write secrets that the other cannot read.
 */
export async function verifySecretKey(db: Db, box: SecretBox): Promise<void> {
  const stored = await putDeploymentSettingIfAbsent(db, KEY_CHECK_SETTING, box.encrypt(KEY_CHECK_PLAINTEXT));
  let opened: string | undefined;
  try {
    opened = box.decrypt(stored);
  } catch {
    opened = undefined;
  }
  if (opened !== KEY_CHECK_PLAINTEXT) throw new SecretKeyMismatchError();
}
