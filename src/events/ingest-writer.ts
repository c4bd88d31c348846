import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { takeIngestLock } from './fan-out.ts';
import { wakeDeliveryLoops } from '../db/wake.ts';
import { releaseNextInLine } from './entity-lines.ts';
import { insertEventsAndQueueDeliveries } from './events.repo.ts';
import type { NewEvent } from './events.schema.ts';

/*
 * Group commit for ingest. Each commit waits for the WAL to reach the disk,
 * and with one transaction per request that wait, not the work, limits how
 * many small requests a second Tideway can take. So requests that arrive
 * while a write is in progress are written together in the next transaction
 * (up to `maxEvents`): no timer, no added latency when traffic is light, and
 * far fewer commits when it is heavy.
 *
 * Writes run in parallel (up to `concurrency`) only for large amounts of
 * waiting events: small requests gain more from sharing one commit than from
 * committing side by side; large batches gain from parallel transactions.
 *
 * Each request still succeeds or fails as a whole: if a shared transaction
 * fails, its requests are retried one by one, so only the failing one fails.
 */

interface PendingWrite {
  events: NewEvent[];
  resolve: (stored: Set<string>) => void;
  reject: (error: unknown) => void;
}

export interface IngestWriter {
  /** Stores `events` (ids unique within them); resolves with the ids that were new. */
  write(events: NewEvent[]): Promise<Set<string>>;
}

export function createIngestWriter(
  db: Kysely<Database>,
  tenant: string,
  options: { maxEvents?: number; concurrency?: number; parallelFrom?: number } = {},
): IngestWriter {
  const maxEvents = options.maxEvents ?? 2_000;
  const concurrency = options.concurrency ?? 4;
  const parallelFrom = options.parallelFrom ?? 200;
  const queue: PendingWrite[] = [];
  let queuedEvents = 0;
  let writing = 0;

  /** Writes `group` in one transaction; returns, per request, the ids new to the database and first in the group. */
  async function commit(group: PendingWrite[]): Promise<Set<string>[]> {
    const firstOwner = new Map<string, number>();
    group.forEach((write, owner) => {
      for (const event of write.events) if (!firstOwner.has(event.id)) firstOwner.set(event.id, owner);
    });
    const unique = group.flatMap((write, owner) => write.events.filter((event) => firstOwner.get(event.id) === owner));
    const batch = await db.transaction().execute(async (trx) => {
      await takeIngestLock(trx);
      const batch = await insertEventsAndQueueDeliveries(trx, tenant, unique);
      if (batch.queuedDeliveries > 0) await wakeDeliveryLoops(trx, batch.integrationIds);
      return batch;
    });
    const stored = batch.storedIds;
    // After the commit (see entity-lines.ts). The events are stored whatever
    // becomes of this; a line it leaves waiting is released by the sweep.
    if (batch.waitingLines.length > 0) {
      await releaseNextInLine(db, batch.waitingLines)
        .then((released) => (released.length > 0 ? wakeDeliveryLoops(db, released) : undefined))
        .catch(() => {});
    }
    return group.map(
      (write, owner) =>
        new Set(
          write.events
            .filter((event) => stored.has(event.id) && firstOwner.get(event.id) === owner)
            .map((event) => event.id),
        ),
    );
  }

  /**
   * Writes until the queue is empty. The count of running drains goes down
   * in the same turn as the queue is found empty: done in a callback on the
   * returned promise, a later turn, a write made meanwhile (say, by the
   * caller the last commit just resolved) found a drain still counted,
   * started none, and waited forever.
   */
  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const group = [queue.shift()!];
        let size = group[0]!.events.length;
        while (queue.length > 0 && size + queue[0]!.events.length <= maxEvents) {
          size += queue[0]!.events.length;
          group.push(queue.shift()!);
        }
        queuedEvents -= size;
        try {
          const results = await commit(group);
          for (const [i, write] of group.entries()) write.resolve(results[i]!);
        } catch (error) {
          if (group.length === 1) group[0]!.reject(error);
          else
            for (const write of group) await commit([write]).then(([stored]) => write.resolve(stored!), write.reject);
        }
      }
    } finally {
      writing--;
    }
  }

  return {
    write(events) {
      return new Promise((resolve, reject) => {
        queue.push({ events, resolve, reject });
        queuedEvents += events.length;
        if (writing === 0 || (writing < concurrency && queuedEvents >= parallelFrom)) {
          writing++;
          void drain();
        }
      });
    },
  };
}
