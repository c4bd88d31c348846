import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { join } from 'node:path';
import type { Database } from './database.ts';

export type DatabaseKind = 'postgres' | 'pglite';

/** The open database: the Kysely instance and how to close what is under it. */
export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly kind: DatabaseKind;
  /**
   * Calls `onNotify` with the payload of every NOTIFY on `channel` (sent at
   * commit of the notifying transaction). Returns the way to stop listening.
   * A hint only: a listener that is down for a while misses notifications.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

// int8 (counts, identities) comes back as a string from pg by default; PGlite
// must agree, or code would see numbers on one database and strings on the other.
const INT8_OID = 20;

/** Connects to PostgreSQL at `url` through a pool. */
export function openPostgres(url: string, options: { maxConnections?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 20 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const listeners = new Set<PostgresListener>();
  return {
    db,
    kind: 'postgres',
    async listen(channel, onNotify) {
      const listener = new PostgresListener(url, channel, onNotify);
      listeners.add(listener);
      await listener.connect();
      return async () => {
        listeners.delete(listener);
        await listener.close();
      };
    },
    async close() {
      await Promise.all([...listeners].map((listener) => listener.close()));
      await db.destroy();
    },
  };
}

/**
 * LISTEN needs a connection of its own for as long as it listens, outside the
 * pool. When that connection drops it reconnects after a pause; whatever was
 * notified meanwhile is caught by the loops' polling.
 */
class PostgresListener {
  #client: pg.Client | undefined;
  #closed = false;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onNotify: (payload: string) => void,
  ) {}

  async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => {
      if (message.channel === this.channel) this.onNotify(message.payload ?? '');
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    await client.connect();
    await client.query(`listen ${pg.escapeIdentifier(this.channel)}`);
    this.#client = client;
  }

  #lost(client: pg.Client) {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    this.#retry();
  }

  #retry() {
    if (this.#closed) return;
    setTimeout(() => {
      if (!this.#closed) this.connect().catch(() => this.#retry());
    }, 1_000).unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}

/**
 * Opens an embedded PGlite database: in `dataDir`/pglite, or from a dump made
 * by `dumpDataDir()` (tests), or in memory when neither is given.
 */
export async function openPglite(source: { dataDir?: string; dump?: Blob } = {}): Promise<DatabaseHandle & { pglite: PGlite }> {
  const pglite = new PGlite({
    dataDir: source.dataDir ? join(source.dataDir, 'pglite') : undefined,
    loadDataDir: source.dump,
    parsers: { [INT8_OID]: (value: string) => value },
  });
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    kind: 'pglite',
    pglite,
    // PGlite delivers NOTIFY in-process only, which is all it needs: one process owns it.
    listen: (channel, onNotify) => pglite.listen(channel, onNotify),
    close: () => db.destroy(),
  };
}
