import type { Kysely } from 'kysely';
import type { Database, IntegrationRow } from '../db/database.ts';
import type { DatabaseSession } from '../db/session.ts';
import {
  integrationsById,
  releaseDeliveries,
  runningWebhookIntegrationIds,
  type DeliveryKey,
} from './deliveries.repo.ts';
import { WorkerFences } from './integration-fence.ts';
import type { Leased } from './lease-book.ts';

/*
 * The webhook integrations this process delivers for, and whether its copy
 * of each is current. A copy is current while this process holds the
 * integration's fence and read the row after taking it (integration-fence.ts);
 * a change, a lost session or a stop drops it, and the next refresh takes the
 * fence again and re-reads. An integration found stopped, deleted or no
 * longer a webhook is retired: what was claimed for it and not sent is
 * handed back.
 */

/** How stale the list of integrations to claim for may be (claims check it again in SQL). */
const LIST_EVERY_MS = 1_000;
/** An integration with nothing to do for this long lets go of its fence. */
const IDLE_RELEASE_MS = 60_000;

/** An integration this process delivers for. */
export interface Served {
  id: string;
  /** Read after taking the fence; undefined while not known to be current. */
  row: IntegrationRow | undefined;
  /** Claimed, waiting for a slot. */
  ready: Leased[];
  inFlight: number;
  /** An attempt was answered 401/403/404/410: nothing starts until the stop is through. */
  stopping: boolean;
  lastActive: number;
}

export interface ServedIntegrationsDeps {
  db: Kysely<Database>;
  session: DatabaseSession;
  owner: string;
  /** An integration became current: it may send what it has claimed. */
  onCurrent: (integration: Served) => void;
  /** Something changed that the loop should look at soon. */
  onChange: () => void;
  /** These were handed back: no longer the loop's to keep. */
  forget: (unsent: Leased[]) => DeliveryKey[];
}

export class ServedIntegrations {
  readonly #served = new Map<string, Served>();
  #listed: { ids: string[]; at: number } = { ids: [], at: -Infinity };
  readonly #fences: WorkerFences;

  constructor(private readonly deps: ServedIntegrationsDeps) {
    const drop = (integration: Served | undefined) => {
      if (integration) integration.row = undefined;
    };
    this.#fences = new WorkerFences(deps.session, {
      hold: (id) => drop(this.#served.get(id)),
      changed: (id) => {
        drop(this.#served.get(id));
        this.relist();
        deps.onChange();
      },
      lost: () => {
        for (const integration of this.#served.values()) drop(integration);
        deps.onChange();
      },
    });
  }

  open(): Promise<() => Promise<void>> {
    return this.#fences.open();
  }

  close(): void {
    this.#fences.close();
  }

  get(id: string): Served | undefined {
    return this.#served.get(id);
  }

  has(id: string): boolean {
    return this.#served.has(id);
  }

  values(): IterableIterator<Served> {
    return this.#served.values();
  }

  /** Whether attempts may start for it now, with its row. */
  current(integration: Served): boolean {
    return integration.row !== undefined && !integration.stopping && this.#fences.holds(integration.id);
  }

  /** Lists the running webhook integrations again at the next refresh (one was created, started or changed). */
  relist(): void {
    this.#listed.at = -Infinity;
  }

  /** Takes the fence and reads the row of every integration to be served whose copy is not current. */
  async refresh(): Promise<void> {
    const { db } = this.deps;
    if (Date.now() - this.#listed.at > LIST_EVERY_MS)
      this.#listed = { ids: await runningWebhookIntegrationIds(db), at: Date.now() };
    for (const id of this.#listed.ids)
      if (!this.#served.has(id))
        this.#served.set(id, { id, row: undefined, ready: [], inFlight: 0, stopping: false, lastActive: Date.now() });
    const stale = [...this.#served.values()].filter(
      (integration) => !integration.stopping && !this.current(integration),
    );
    if (stale.length > 0) {
      const held = await this.#fences.take(stale.map((integration) => integration.id));
      const rows = new Map((await integrationsById(db, [...held])).map((row) => [row.id, row]));
      for (const integration of stale) {
        if (!held.has(integration.id)) continue; // a change is under way: wait for it
        const row = rows.get(integration.id);
        if (row?.status === 'running' && row.target_kind === 'webhook') {
          integration.row = row;
          this.deps.onCurrent(integration);
        } else {
          await this.retire(integration);
        }
      }
    }
    await this.#releaseIdle();
  }

  /** Stopped, deleted or not a webhook: hands back what it had claimed and lets go of its fence. */
  async retire(integration: Served): Promise<void> {
    const unsent = this.deps.forget(integration.ready.splice(0));
    if (integration.inFlight === 0) this.#served.delete(integration.id);
    await releaseDeliveries(this.deps.db, this.deps.owner, unsent);
    await this.#fences.release(integration.id);
  }

  /** Resolves once the changes this process was told of have all arrived (a deterministic test round waits for them). */
  settled(): Promise<void> {
    return this.#fences.settled(2_000);
  }

  /** Lets go of every fence and forgets every integration (after a deterministic test round). */
  async releaseAll(): Promise<void> {
    for (const id of this.#served.keys()) await this.#fences.release(id);
    this.#served.clear();
  }

  async #releaseIdle() {
    const listed = new Set(this.#listed.ids);
    for (const integration of this.#served.values()) {
      const idle =
        integration.ready.length === 0 &&
        integration.inFlight === 0 &&
        Date.now() - integration.lastActive > IDLE_RELEASE_MS;
      if (idle && !listed.has(integration.id)) {
        this.#served.delete(integration.id);
        await this.#fences.release(integration.id);
      }
    }
  }
}
