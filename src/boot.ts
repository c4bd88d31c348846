import type { Config } from './config.ts';
import { openPglite, openPostgres, type DatabaseHandle } from './db/client.ts';
import { lockDataDir, type DataDirLock } from './db/data-dir-lock.ts';
import { isDatabaseUnavailable } from './db/unavailable.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createSecretBox, type SecretBox } from './lib/crypto.ts';
import type { Logger } from './lib/log.ts';
import { resolveSecretKey, verifySecretKey } from './db/secret-key.ts';

/** An open deployment: its migrated database and its secret box. */
export interface Deployment {
  readonly database: DatabaseHandle;
  readonly secrets: SecretBox;
  close(): Promise<void>;
}

/**
 * What the server and the CLI both do first: lock the embedded data
 * directory (when there is no DATABASE_URL), open the database, bring its
 * schema up to date, and check the encryption key against it.
 */
export async function openDeployment(config: Config, log: Logger): Promise<Deployment> {
  // Every file this process writes (the embedded database, the key) is its
  // owner's alone, as PostgreSQL's own server arranges for its files.
  process.umask(0o077);
  const lock: DataDirLock | undefined = config.databaseUrl ? undefined : lockDataDir(config.dataDir);
  let database: DatabaseHandle | undefined;
  try {
    const { key, source } = resolveSecretKey(config.secretKey, config.dataDir);
    if (source === 'generated') log.info('generated an encryption key', { file: `${config.dataDir}/secret.key` });
    const secrets = createSecretBox(key);

    database = config.databaseUrl
      ? openPostgres(config.databaseUrl, { log })
      : await openPglite({ dataDir: config.dataDir });
    const opened = database;
    const applied = await untilDatabaseAnswers(() => migrateToLatest(opened.db), log);
    if (applied.length > 0) log.info('applied migrations', { migrations: applied, database: database.kind });
    await verifySecretKey(database.db, secrets);

    return {
      database: opened,
      secrets,
      async close() {
        await opened.close();
        lock?.release();
      },
    };
  } catch (error) {
    await database?.close().catch(() => {});
    lock?.release();
    throw error;
  }
}

const START_RETRY_MS = [500, 1_000, 2_000, 5_000];

/**
 * Runs `work` until it gets past an unreachable database: a process started
 * while PostgreSQL restarts waits for it (saying so once, then every
 * minute) instead of exiting. Any other failure — a wrong password, a
 * missing database — is thrown at once.
 */
async function untilDatabaseAnswers<T>(work: () => Promise<T>, log: Logger): Promise<T> {
  const since = Date.now();
  let lastSaid = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      if (Date.now() - lastSaid >= 60_000) {
        log.warn('waiting for the database', { error, waited_ms: Date.now() - since });
        lastSaid = Date.now();
      }
      await Bun.sleep(START_RETRY_MS[Math.min(attempt, START_RETRY_MS.length - 1)]!);
    }
  }
}
