import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { isTransientDatabaseError, lostRace } from '../db/unavailable.ts';
import type { Logger } from '../lib/log.ts';
import { outageReporter } from '../lib/outage.ts';
import { settleDeliveries, type Settlement } from './deliveries.repo.ts';

/*
 * Attempts that were sent and are not yet written down. They are settled in
 * batches (one statement each, one at a time), and a batch that fails is
 * kept and tried again — the receiver has the event; losing the record
 * would only send it again. How many wait here is what the loop's
 * backpressure watches: above its bound, nothing new is claimed or sent.
 */

const BATCH = 500;
/** Settle this soon after the first attempt of a batch comes in. */
const GATHER_MS = 20;
const RETRY_MS = [100, 250, 500, 1_000, 2_000, 5_000];

export interface AttemptRecorderOptions {
  db: Kysely<Database>;
  owner: string;
  log: Logger;
  /** Called with each batch once it is written (room for more sends). */
  onRecorded: (batch: Settlement[]) => void;
}

export class AttemptRecorder {
  #waiting: Settlement[] = [];
  #writing: Settlement[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #run: Promise<void> | undefined;
  #failures = 0;
  #peak = 0;
  readonly #outage: ReturnType<typeof outageReporter>;

  constructor(private readonly options: AttemptRecorderOptions) {
    this.#outage = outageReporter(options.log, 'recording attempts failed; keeping them and retrying');
  }

  /** Attempts sent and not yet recorded (waiting, or in the statement under way). */
  get unrecorded(): number {
    return this.#waiting.length + this.#writing.length;
  }

  /** The most that were ever unrecorded at once. */
  get peak(): number {
    return this.#peak;
  }

  /** Every unrecorded attempt's delivery, for the lease keeper. */
  *deliveries(): Iterable<{ integrationId: string; eventId: string }> {
    yield* this.#writing;
    yield* this.#waiting;
  }

  add(settlement: Settlement): void {
    this.#waiting.push(settlement);
    this.#peak = Math.max(this.#peak, this.unrecorded);
    if (this.#run) return;
    if (this.#waiting.length >= BATCH) this.#start();
    else this.#timer ??= setTimeout(() => this.#start(), GATHER_MS);
  }

  /** Writes everything now; resolves once nothing is waiting, or at `deadline` (epoch ms). */
  async flush(deadline = Infinity): Promise<void> {
    while (this.unrecorded > 0 && Date.now() < deadline) {
      this.#start();
      await Promise.race([this.#run, Bun.sleep(Math.max(0, deadline - Date.now()))]);
    }
  }

  #start() {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#run ??= this.#writeAll().finally(() => {
      this.#run = undefined;
      if (this.#waiting.length > 0) this.#timer ??= setTimeout(() => this.#start(), this.#retryDelay());
    });
  }

  #retryDelay() {
    return this.#failures === 0 ? GATHER_MS : RETRY_MS[Math.min(this.#failures - 1, RETRY_MS.length - 1)]!;
  }

  async #writeAll() {
    while (this.#waiting.length > 0) {
      this.#writing = this.#waiting.splice(0, BATCH);
      const batch = this.#writing;
      try {
        await this.#write(batch);
        this.#failures = 0;
        this.#outage.recovered();
      } catch (error) {
        this.#waiting.unshift(...batch);
        // Another worker's settle won a deadlock: expected now and then, written again at once.
        if (lostRace(error)) continue;
        this.#failures++;
        this.#outage.failed(error, { attempts: batch.length });
        return;
      } finally {
        this.#writing = [];
      }
      this.options.onRecorded(batch);
    }
  }

  /**
   * One statement for the batch. Should the database refuse the batch
   * itself (not be away, nor lose a deadlock — say, with an integration
   * being deleted), each attempt is written alone, so that one bad record
   * cannot hold up the rest; one the database refuses on its own is logged
   * and dropped (its lease runs out and it is sent again).
   */
  async #write(batch: Settlement[]) {
    try {
      await settleDeliveries(this.options.db, this.options.owner, batch);
    } catch (error) {
      if (isTransientDatabaseError(error)) throw error;
      if (batch.length === 1) return this.#dropped(batch[0]!, error);
      for (const settlement of batch) {
        await settleDeliveries(this.options.db, this.options.owner, [settlement]).catch((single: unknown) => {
          if (isTransientDatabaseError(single)) throw single;
          this.#dropped(settlement, single);
        });
      }
    }
  }

  #dropped(settlement: Settlement, error: unknown) {
    this.options.log.error('an attempt could not be recorded; its delivery will be sent again', {
      integration: settlement.integrationId,
      event: settlement.eventId,
      error,
    });
  }
}
