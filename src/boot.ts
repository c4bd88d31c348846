import type { Config } from './config.ts';
import { openPglite, openPostgres, type DatabaseHandle } from './db/client.ts';
import { lockDataDir, type DataDirLock } from './db/data-dir-lock.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createSecretBox, type SecretBox } from './lib/crypto.ts';
import type { Logger } from './lib/log.ts';
import { resolveSecretKey, verifySecretKey } from './lib/secret-key.ts';

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
  const lock: DataDirLock | undefined = config.databaseUrl ? undefined : lockDataDir(config.dataDir);
  let database: DatabaseHandle | undefined;
  try {
    const { key, source } = resolveSecretKey(config.secretKey, config.dataDir);
    if (source === 'generated') log.info('generated an encryption key', { file: `${config.dataDir}/secret.key` });
    const secrets = createSecretBox(key);

    database = config.databaseUrl ? openPostgres(config.databaseUrl) : await openPglite({ dataDir: config.dataDir });
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) log.info('applied migrations', { migrations: applied, database: database.kind });
    await verifySecretKey(database.db, secrets);

    const opened = database;
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
