import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from '../lib/log.ts';
import { DatabaseSessionDownError } from './unavailable.ts';

/**
 * One long-lived connection of the process's own, outside the pool, for
 * what must outlive a single statement: LISTEN subscriptions and session
 * advisory locks. When it drops, both are gone server-side; listeners of
 * `onLost` hear of it at once, it reconnects with backoff, and LISTEN is
 * re-subscribed (what was notified meanwhile is caught by polling).
 */
export interface DatabaseSession {
  /** Calls `onNotify` with each NOTIFY payload on `channel`. Returns the way to stop. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Runs one statement on this session's connection; rejects at once while it is down. */
  query<R extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /**
   * True while the connection is up and answered a ping within `ms`: only
   * then are this session's advisory locks known to be held.
   */
  verifiedWithin(ms: number): boolean;
  /** Calls `listener` each time the connection is lost (its locks with it). */
  onLost(listener: () => void): void;
  /** Calls `listener` each time the connection is back (nothing is held any more). */
  onRestored(listener: () => void): void;
  close(): Promise<void>;
}

/** How often an idle session proves it is alive. */
export const SESSION_PING_MS = 1_000;
const BACKOFF_MS = [250, 500, 1_000, 2_000, 5_000];

/** The PostgreSQL session: a pg.Client that reconnects. */
export class PostgresSession implements DatabaseSession {
  #client: pg.Client | undefined;
  #closed = false;
  #failures = 0;
  #verifiedAt = 0;
  #connecting: Promise<void> | undefined;
  /** Statements on the one client take turns: pg deprecates queueing them itself. */
  #turn: Promise<unknown> = Promise.resolve();
  readonly #channels = new Map<string, Set<(payload: string) => void>>();
  readonly #lost = new Set<() => void>();
  readonly #restored = new Set<() => void>();
  readonly #ping: ReturnType<typeof setInterval>;

  constructor(
    private readonly url: string,
    private readonly log?: Logger,
  ) {
    this.#ping = setInterval(() => void this.#verify(), SESSION_PING_MS);
    this.#ping.unref();
  }

  /**
   * Connects; resolves once connected or once the first try failed, in
   * which case it goes on trying in the background (never rejects).
   */
  start(): Promise<void> {
    this.#connecting ??= this.#connect()
      .catch((error: unknown) => {
        if (this.#failures === 0) this.log?.warn('database session could not connect; retrying', { error });
        this.#reconnectLater();
      })
      .finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, connectionTimeoutMillis: 5_000 });
    client.on('notification', (message) => {
      for (const onNotify of this.#channels.get(message.channel) ?? []) onNotify(message.payload ?? '');
    });
    // Without an 'error' listener a dropped connection is an uncaught exception.
    client.on('error', () => this.#dropped(client));
    client.on('end', () => this.#dropped(client));
    try {
      await client.connect();
      for (const channel of this.#channels.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    const wasDown = this.#failures > 0;
    this.#turn = Promise.resolve(); // nothing waits behind what was pending on the client before
    this.#client = client;
    this.#failures = 0;
    this.#verifiedAt = Date.now();
    if (wasDown) {
      this.log?.info('database session restored');
      for (const listener of this.#restored) listener();
    }
  }

  #dropped(client: pg.Client) {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#verifiedAt = 0;
    client.end().catch(() => {});
    if (this.#closed) return;
    this.log?.warn('database session lost; reconnecting');
    for (const listener of this.#lost) listener();
    this.#reconnectLater();
  }

  #reconnectLater() {
    if (this.#closed) return;
    const delay = BACKOFF_MS[Math.min(this.#failures, BACKOFF_MS.length - 1)]!;
    this.#failures++;
    setTimeout(() => {
      if (!this.#closed && !this.#client) void this.start();
    }, delay).unref();
  }

  /** Runs `text` on `client` after the statements before it. */
  #run<R extends Record<string, unknown>>(
    client: pg.Client,
    text: string,
    params: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    const result = this.#turn.then(() => client.query<R>(text, params));
    this.#turn = result.catch(() => {});
    return result;
  }

  async #verify() {
    const client = this.#client;
    if (!client) return;
    try {
      await this.#run(client, 'select 1');
      if (this.#client === client) this.#verifiedAt = Date.now();
    } catch {
      this.#dropped(client);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const listeners = this.#channels.get(channel) ?? new Set();
    const first = listeners.size === 0;
    listeners.add(onNotify);
    this.#channels.set(channel, listeners);
    if (first && this.#client) await this.#run(this.#client, `listen ${pg.escapeIdentifier(channel)}`);
    return async () => {
      listeners.delete(onNotify);
      if (listeners.size === 0) {
        this.#channels.delete(channel);
        if (this.#client) await this.#run(this.#client, `unlisten ${pg.escapeIdentifier(channel)}`).catch(() => {});
      }
    };
  }

  async query<R extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
    const client = this.#client;
    if (!client) throw new DatabaseSessionDownError();
    const result = await this.#run<R>(client, text, params);
    if (this.#client === client) this.#verifiedAt = Date.now();
    return result.rows;
  }

  verifiedWithin(ms: number): boolean {
    return this.#client !== undefined && Date.now() - this.#verifiedAt <= ms;
  }

  onLost(listener: () => void): void {
    this.#lost.add(listener);
  }

  onRestored(listener: () => void): void {
    this.#restored.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ping);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}

/**
 * The embedded database's session: PGlite has one connection, shared by
 * everything in the process, and it is never lost. Its NOTIFY reaches
 * in-process listeners before the notifying statement returns.
 */
export class PgliteSession implements DatabaseSession {
  constructor(private readonly pglite: PGlite) {}

  listen(channel: string, onNotify: (payload: string) => void) {
    return this.pglite.listen(channel, onNotify);
  }

  async query<R extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pglite.query<R>(text, params)).rows;
  }

  verifiedWithin(): boolean {
    return true;
  }

  onLost(): void {}
  onRestored(): void {}
  async close(): Promise<void> {}
}
