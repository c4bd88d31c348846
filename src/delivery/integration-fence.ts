import { sql, type Kysely } from 'kysely';
import type { DatabaseSession } from '../db/session.ts';
import type { Database, Db } from '../db/database.ts';
import { lostRace } from '../db/unavailable.ts';
import type { Logger } from '../lib/log.ts';

/*
 * The integration fence: once a stop, an edit or a delete has answered, no
 * worker process starts an attempt with the old state.
 *
 * A worker may start attempts for an integration only while it holds that
 * integration's fence — a shared session advisory lock on its own
 * connection — and only with the row it read after taking it. A change
 * takes the same lock exclusively inside its transaction, so it waits for
 * every worker to let go, and no worker can take it again (and re-read)
 * until the change has committed:
 *
 *   change: NOTIFY hold:X ─ lock X (exclusive) ─ update ─ NOTIFY changed:X ─ commit ─ answer
 *   worker:        └─ stops starting X, unlocks      take X again, re-read the row ─┘
 *
 * Requests already on the wire finish. A worker that does not let go in
 * time (hung, cut off) is asked again, then its session is terminated;
 * a worker trusts its locks only while its session answered a ping within
 * SESSION_VALID_MS, and the change waits that long after terminating one.
 *
 * On the embedded database (one process, one connection) the locks never
 * conflict, and NOTIFY reaches the in-process worker before the notifying
 * statement returns, so hold and changed alone order the two.
 */

export const CONTROL_CHANNEL = 'tideway_control';
/** The advisory-lock class of integration fences (the key is hashtext(id)). */
const FENCE_CLASS = 74_113;
/** A worker trusts its session locks only this long after the session last answered. */
export const SESSION_VALID_MS = 3_000;
/** How long a change waits for workers to let go before asking again, then insisting. */
const LET_GO_MS = 1_500;
/** A worker told to hold resumes on its own after this long if no "changed" comes (the change failed mid-way). */
const HOLD_FALLBACK_MS = 5_000;
const LOCK_NOT_AVAILABLE = '55P03';

async function notifyControl(db: Db, kind: 'hold' | 'changed', integrationId: string) {
  await sql`select pg_notify(${CONTROL_CHANNEL}, ${`${kind}:${integrationId}`})`.execute(db);
}

/**
 * Runs `change` in a transaction that holds integration `integrationId`'s
 * fence: when it resolves, every worker has stopped using the old state
 * and will re-read the committed one before its next attempt.
 *
 * @example await fencedChange(db, 'erp', (trx) => updateIntegrationRow(trx, 'erp', { callback_url }), log)
 */
export async function fencedChange<T>(
  db: Kysely<Database>,
  integrationId: string,
  change: (trx: Db) => Promise<T>,
  log?: Logger,
): Promise<T> {
  // A change can deadlock with the recording of attempts still on the wire
  // (a delete locks the integration, then its deliveries; a settle locks
  // deliveries, then the integration's counters). PostgreSQL ends one of
  // the two; the change is simply made again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await fencedOnce(db, integrationId, change, log);
    } catch (error) {
      if (attempt >= CHANGE_ATTEMPTS || !lostRace(error)) throw error;
      await Bun.sleep(25 * attempt);
    }
  }
}

const CHANGE_ATTEMPTS = 4;

async function fencedOnce<T>(
  db: Kysely<Database>,
  integrationId: string,
  change: (trx: Db) => Promise<T>,
  log?: Logger,
): Promise<T> {
  await notifyControl(db, 'hold', integrationId);
  try {
    return await db.transaction().execute(async (trx) => {
      await takeFenceExclusive(db, trx, integrationId, log);
      const result = await change(trx);
      await notifyControl(trx, 'changed', integrationId); // delivered at commit
      return result;
    });
  } catch (error) {
    // Nothing changed: let the workers go back to the row as it was.
    await notifyControl(db, 'changed', integrationId).catch(() => {});
    throw error;
  }
}

async function takeFenceExclusive(db: Kysely<Database>, trx: Db, integrationId: string, log?: Logger) {
  for (let round = 0; ; round++) {
    const patient = round < 2;
    await sql`savepoint fence`.execute(trx);
    try {
      await sql.raw(`set local lock_timeout = ${patient ? LET_GO_MS : 0}`).execute(trx);
      await sql`select pg_advisory_xact_lock(${sql.lit(FENCE_CLASS)}, hashtext(${integrationId}))`.execute(trx);
      await sql`release savepoint fence`.execute(trx);
      await sql.raw('set local lock_timeout = 0').execute(trx);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE || !patient) throw error;
      await sql`rollback to savepoint fence`.execute(trx);
    }
    if (round === 0) {
      // The first request may have crossed a worker taking the fence: ask again.
      await notifyControl(db, 'hold', integrationId);
    } else {
      const ended = await terminateFenceHolders(trx, integrationId);
      log?.warn('workers did not let go of an integration in time; their database sessions were ended', {
        integration: integrationId,
        backends: ended,
      });
      // An ended worker trusts its locks until its next failed ping, at most this long.
      await Bun.sleep(SESSION_VALID_MS);
    }
  }
}

async function terminateFenceHolders(trx: Db, integrationId: string): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_locks
    where locktype = 'advisory' and classid = ${FENCE_CLASS} and objsubid = 2 and granted and pid <> pg_backend_pid()
      and objid::bigint = (hashtext(${integrationId})::bigint & 4294967295)`.execute(trx);
  for (const { pid } of rows) await sql`select pg_terminate_backend(${pid})`.execute(trx);
  return rows.map((row) => row.pid);
}

/** What the worker does when told. Each is called synchronously, before anything else happens. */
export interface FenceHandlers {
  /** Stop starting attempts for this integration now (a change is coming). */
  hold(integrationId: string): void;
  /** The change is committed (or abandoned): take the fence again and re-read the row. */
  changed(integrationId: string): void;
  /** The session is gone, and every fence with it: stop starting anything. */
  lost(): void;
}

/** The worker's side: which fences this process holds, on its database session. */
export class WorkerFences {
  readonly #held = new Set<string>();
  /** Being taken right now (the query is out). */
  readonly #taking = new Set<string>();
  /** Told to hold while being taken: let go as soon as it is taken. */
  readonly #heldBack = new Set<string>();
  /** Told to hold, waiting for "changed": not to be taken meanwhile. */
  readonly #pending = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly session: DatabaseSession,
    private readonly handlers: FenceHandlers,
  ) {}

  async open(): Promise<() => Promise<void>> {
    this.session.onLost(() => {
      this.#held.clear();
      this.handlers.lost();
    });
    return this.session.listen(CONTROL_CHANNEL, (payload) => this.#notified(payload));
  }

  /** Whether attempts for `integrationId` may start now. */
  holds(integrationId: string): boolean {
    return this.#held.has(integrationId) && this.session.verifiedWithin(SESSION_VALID_MS);
  }

  /** Takes the fences of `ids` that are free (one round trip); returns those held now. */
  async take(ids: string[]): Promise<Set<string>> {
    const wanted = ids.filter((id) => !this.#held.has(id) && !this.#pending.has(id) && !this.#taking.has(id));
    if (wanted.length > 0) {
      for (const id of wanted) this.#taking.add(id);
      try {
        const rows = await this.session.query<{ id: string; ok: boolean }>(
          `select id, pg_try_advisory_lock_shared(${FENCE_CLASS}, hashtext(id)) as ok from unnest($1::text[]) as t(id)`,
          [wanted],
        );
        for (const row of rows) {
          if (!row.ok) continue;
          if (this.#heldBack.has(row.id)) void this.#unlock(row.id);
          else this.#held.add(row.id);
        }
      } finally {
        for (const id of wanted) {
          this.#taking.delete(id);
          this.#heldBack.delete(id);
        }
      }
    }
    return new Set(ids.filter((id) => this.holds(id)));
  }

  /**
   * Resolves once no change this process was told of is still waiting for
   * its "changed" (or after `timeoutMs`): a change's answer can come back
   * before its notification does.
   */
  async settled(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.#pending.size > 0 && Date.now() < until) await Bun.sleep(5);
  }

  /** Lets go of a fence this process no longer needs. */
  async release(integrationId: string): Promise<void> {
    if (this.#held.delete(integrationId)) await this.#unlock(integrationId);
  }

  #notified(payload: string) {
    const colon = payload.indexOf(':');
    const kind = payload.slice(0, colon);
    const id = payload.slice(colon + 1);
    if (kind === 'hold') {
      // Synchronously: from here on, holds(id) is false.
      const wasHeld = this.#held.delete(id);
      if (this.#taking.has(id)) this.#heldBack.add(id);
      this.handlers.hold(id);
      if (wasHeld) void this.#unlock(id);
      clearTimeout(this.#pending.get(id));
      this.#pending.set(
        id,
        setTimeout(() => this.#resume(id), HOLD_FALLBACK_MS),
      );
    } else if (kind === 'changed') {
      this.#resume(id);
    }
  }

  #resume(id: string) {
    clearTimeout(this.#pending.get(id));
    this.#pending.delete(id);
    this.handlers.changed(id);
  }

  async #unlock(id: string) {
    await this.session.query(`select pg_advisory_unlock_shared(${FENCE_CLASS}, hashtext($1))`, [id]).catch(() => {});
  }

  close() {
    for (const timer of this.#pending.values()) clearTimeout(timer);
  }
}
