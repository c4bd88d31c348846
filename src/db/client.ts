import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { join } from 'node:path';
import type { Logger } from '../lib/log.ts';
import type { Database } from './database.ts';
import { restrictToOwner } from './data-dir-lock.ts';
import { PgliteSession, PostgresSession, type DatabaseSession } from './session.ts';

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
   * The process's own long-lived connection (LISTEN, session advisory
   * locks), opened on first use and shared; see DatabaseSession.
   */
  session(): Promise<DatabaseSession>;
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

/** How long a request waits for a pooled connection before it is told the database is unavailable. */
const CONNECT_TIMEOUT_MS = 2_000;

/**
 * Plans made afresh every time, never a session's cached generic plan.
 * PostgreSQL caches the plan of each foreign-key check per session; one
 * made while deliveries was nearly empty — a fresh deployment, before
 * autovacuum's first ANALYZE — was a sequential scan, and every attempt
 * recorded after it scanned the whole growing table: ~2 ms per attempt
 * after a minute at 1,000 events/s, until recording fell behind
 * (bench/webhook-latency.ts: p99 30 s). Tideway's own statements are
 * planned each time anyway (unnamed statements); this also covers the
 * checks the database runs for them.
 */
export const PLAN_SETTING = 'plan_cache_mode = force_custom_plan';

/** Connects to PostgreSQL at `url` through a pool. */
export function openPostgres(url: string, options: { maxConnections?: number; log?: Logger } = {}): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 20,
    // A server that is down refuses at once; one that is unreachable must not hang requests.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    options: `-c ${PLAN_SETTING.replaceAll(' ', '')}`,
  });
  // Every pooled client, idle or checked out (a query, a transaction, a
  // COPY), emits 'error' when its connection dies: a restart, a failover,
  // pg_terminate_backend. Unheard, that is an uncaught exception that ends
  // the process. The query under way rejects on its own, and pg-pool drops
  // a client that is no longer queryable when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let session: PostgresSession | undefined;
  const openSession = async () => {
    if (!session) {
      session = new PostgresSession(url, options.log);
      await session.start();
    }
    return session;
  };
  return {
    db,
    kind: 'postgres',
    async listen(channel, onNotify) {
      return (await openSession()).listen(channel, onNotify);
    },
    session: openSession,
    async copyOut(select, onChunk) {
      const client = await pool.connect();
      try {
        await client.query(new CopyOutQuery(`copy (${select}) to stdout (format binary)`, onChunk)).done;
      } finally {
        client.release();
      }
    },
    async close() {
      await session?.close();
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
 * Opens an embedded PGlite database: in `dataDir`/pglite, or from a dump made
 * by `dumpDataDir()` (tests), or in memory when neither is given.
 */
export async function openPglite(
  source: { dataDir?: string; dump?: Blob } = {},
): Promise<DatabaseHandle & { pglite: PGlite }> {
  const pglite = new PGlite({
    dataDir: source.dataDir ? join(source.dataDir, 'pglite') : undefined,
    loadDataDir: source.dump,
    parsers: { [INT8_OID]: (value: string) => value },
  });
  await pglite.waitReady;
  if (source.dataDir) restrictToOwner(join(source.dataDir, 'pglite'));
  await pglite.exec(`set ${PLAN_SETTING}`);
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  const session = new PgliteSession(pglite);
  return {
    db,
    kind: 'pglite',
    pglite,
    // PGlite delivers NOTIFY in-process only, which is all it needs: one process owns it.
    listen: (channel, onNotify) => session.listen(channel, onNotify),
    session: async () => session,
    // PGlite writes COPY output to a Blob; its queries wait for any open transaction.
    async copyOut(select, onChunk) {
      const { blob } = await pglite.query(`copy (${select}) to '/dev/blob' (format binary)`);
      onChunk(Buffer.from(await blob!.arrayBuffer()));
    },
    close: () => db.destroy(),
  };
}
