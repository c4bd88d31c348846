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
  /**
   * Runs `COPY (select) TO … (FORMAT binary)` and hands its output to
   * `onChunk` in order, as it arrives: for exports too large to hold as rows
   * (read them with CopyBinaryReader). COPY takes no parameters, so
   * `select` must carry its values as literals.
   */
  copyOut(select: string, onChunk: (chunk: Buffer) => void): Promise<void>;
  close(): Promise<void>;
}

// int8 (counts, identities) comes back as a string from pg by default; PGlite
// must agree, or code would see numbers on one database and strings on the other.
const INT8_OID = 20;

/** Connects to PostgreSQL at `url` through a pool. */
export function openPostgres(url: string, options: { maxConnections?: number } = {}): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 20 });
  // An idle connection the server ended (a restart, an operator) is dropped
  // by the pool, and the next query opens another; without a listener its
  // error would be thrown as an uncaught exception.
  pool.on('error', () => {});
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
    async copyOut(select, onChunk) {
      const client = await pool.connect();
      try {
        await client.query(new CopyOutQuery(`copy (${select}) to stdout (format binary)`, onChunk)).done;
      } finally {
        client.release();
      }
    },
    async close() {
      await Promise.all([...listeners].map((listener) => listener.close()));
      await db.destroy();
    },
  };
}

/**
 * COPY … TO STDOUT as a pg "submittable": pg's protocol parser hands over
 * each CopyData message (PostgreSQL sends one per row) as a view of its
 * read buffer, and it goes to `onChunk` at once, so the export is never
 * copied or buffered on the way. Should `onChunk` throw, the rest of the
 * output is drained and the error reported, leaving the connection usable.
 */
class CopyOutQuery {
  readonly done: Promise<void>;
  #failure: unknown;
  #settle: (failure: unknown) => void = () => {};

  constructor(
    private readonly text: string,
    private readonly onChunk: (chunk: Buffer) => void,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.#settle = (failure) => (failure === undefined ? resolve() : reject(failure));
    });
  }

  submit(connection: { query(text: string): void }) {
    connection.query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }) {
    if (this.#failure !== undefined) return;
    try {
      this.onChunk(message.chunk);
    } catch (error) {
      this.#failure = error;
    }
  }

  handleCommandComplete() {}

  handleReadyForQuery() {
    this.#settle(this.#failure);
  }

  handleError(error: Error) {
    this.#settle(error);
  }
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
    // PGlite writes COPY output to a Blob; its queries wait for any open transaction.
    async copyOut(select, onChunk) {
      const { blob } = await pglite.query(`copy (${select}) to '/dev/blob' (format binary)`);
      onChunk(Buffer.from(await blob!.arrayBuffer()));
    },
    close: () => db.destroy(),
  };
}
