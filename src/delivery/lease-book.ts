import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { Logger } from '../lib/log.ts';
import { outageReporter } from '../lib/outage.ts';
import { extendLeases, type ClaimedDelivery, type DeliveryKey } from './deliveries.repo.ts';

/*
 * Every delivery this process has leased and not yet settled — waiting for
 * a slot, on the wire, or sent and not yet recorded — and the keeper that
 * extends their leases before they run out. Without it, a database slow to
 * record (a lock, a long checkpoint) lets leases lapse, and another worker
 * sends the same events again.
 */

/** A leased delivery and when (this process's clock) its lease ends. */
export interface Leased extends ClaimedDelivery {
  leaseUntil: number;
}

const keyOf = (item: Leased | DeliveryKey) =>
  'integration_id' in item ? `${item.integration_id}\n${item.event_id}` : `${item.integrationId}\n${item.eventId}`;

export class LeaseBook {
  readonly #held = new Map<string, Leased>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #keeping = false;
  readonly #outage: ReturnType<typeof outageReporter>;

  constructor(
    private readonly options: {
      db: Kysely<Database>;
      owner: string;
      leaseMs: number;
      log: Logger;
      /**
       * Leases that could not be extended: another worker may hold them
       * now, or a statement of ours is settling them. Those not yet sent
       * must not be; the rest are tried again next time.
       */
      onLost: (lost: Set<Leased>) => void;
    },
  ) {
    this.#outage = outageReporter(options.log, 'extending leases failed');
  }

  get size(): number {
    return this.#held.size;
  }

  /** Records a delivery just claimed (at `claimedAt`, before the claim's statement ran). */
  add(delivery: ClaimedDelivery, claimedAt: number): Leased {
    const leased: Leased = { ...delivery, leaseUntil: claimedAt + this.options.leaseMs };
    this.#held.set(keyOf(leased), leased);
    return leased;
  }

  /** Settled or handed back: no longer ours to keep. Returns their keys. */
  forget(items: Iterable<Leased | DeliveryKey>): DeliveryKey[] {
    const keys: DeliveryKey[] = [];
    for (const item of items) {
      const key = keyOf(item);
      const leased = this.#held.get(key);
      if (!leased) continue;
      this.#held.delete(key);
      keys.push({ integrationId: leased.integration_id, eventId: leased.event_id });
    }
    return keys;
  }

  /** Extends, a quarter of a lease apart, every lease that has less than half of its time left. */
  start(): void {
    this.#timer ??= setInterval(() => void this.keep(), Math.max(1_000, this.options.leaseMs / 4));
    this.#timer.unref?.();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async keep(): Promise<void> {
    if (this.#keeping) return;
    this.#keeping = true;
    try {
      const { db, owner, leaseMs } = this.options;
      const startedAt = Date.now();
      const due = [...this.#held.values()].filter((leased) => leased.leaseUntil < startedAt + leaseMs / 2);
      if (due.length === 0) return;
      const kept = new Set(
        (
          await extendLeases(
            db,
            owner,
            due.map((leased) => ({ integrationId: leased.integration_id, eventId: leased.event_id })),
            new Date(startedAt + leaseMs),
          )
        ).map(keyOf),
      );
      this.#outage.recovered();
      const lost = new Set<Leased>();
      for (const leased of due) {
        if (kept.has(keyOf(leased))) leased.leaseUntil = startedAt + leaseMs;
        else if (this.#held.has(keyOf(leased))) lost.add(leased); // settled meanwhile: already forgotten
      }
      if (lost.size > 0) this.options.onLost(lost);
    } catch (error) {
      this.#outage.failed(error);
    } finally {
      this.#keeping = false;
    }
  }
}
