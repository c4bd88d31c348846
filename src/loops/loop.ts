import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../lib/log.ts';
import { outageReporter } from '../lib/outage.ts';
import type { BackgroundLoop } from './registry.ts';

/*
 * The shell every background loop runs in — start, stop with a deadline,
 * wake, poll, heartbeat, an owner id, errors logged once per outage — the
 * way pg-boss's Worker wraps any fetch/handle pair. The core says what one
 * round is and how to hand work back; the shell decides when rounds run.
 */

/** What a loop does, given its shell. */
export interface LoopCore {
  /** One round of work. Resolves true when there may be more to do at once (no wait). */
  round(): Promise<boolean>;
  /** Subscribes to wake-ups and the like; runs once, before the first round. */
  open?(): Promise<void>;
  /**
   * Called as stop() begins, while a round may still be running: take no
   * more work, and finish or hand back what is in hand before `deadline`
   * (epoch ms). stop() resolves when this and the last round have ended.
   */
  drain?(deadline: number): Promise<void>;
}

export interface Loop extends BackgroundLoop {
  /** Unique to this loop in this process: what its leases are taken under. */
  readonly owner: string;
  /** Runs the next round now instead of after the poll interval. */
  wake(): void;
  /** Marks progress from inside a long round, so the heartbeat does not go stale. */
  beat(): void;
  /** True between start() and stop(). */
  readonly running: boolean;
}

export interface LoopOptions {
  name: string;
  log: Logger;
  /** Wait between rounds when a round found nothing more to do. */
  pollIntervalMs: number;
  /** Builds the core, which may keep the shell to wake it or read its owner. */
  core: (shell: Loop) => LoopCore;
}

/**
 * Waits after failed rounds, whatever wakes the loop meanwhile: 0.25 s
 * doubling to 2 s. A round costs the database little, and a longer wait
 * would only delay work after the database is back.
 */
const BACKOFF_MS = [250, 500, 1_000, 2_000];
/** Idle waits are cut into slices this long, each a heartbeat. */
const IDLE_BEAT_MS = 5_000;

/**
 * @example const loop = createLoop({ name: 'retention', log, pollIntervalMs: 600_000, core: () => ({ round: async () => { await prune(); return false; } }) });
 */
export function createLoop(options: LoopOptions): Loop {
  const { name, log } = options;
  const outage = outageReporter(log, `${name} round failed`);
  let running = false;
  let done: Promise<void> | undefined;
  let lastBeat = Date.now();
  let woken = false;
  let wakeWaiter: (() => void) | undefined;

  const shell: Loop = {
    name,
    owner: `${hostname()}:${process.pid}:${name}:${randomUUID().slice(0, 8)}`,
    get running() {
      return running;
    },
    wake() {
      woken = true;
      wakeWaiter?.();
    },
    beat() {
      lastBeat = Date.now();
    },
    heartbeatAgeSeconds() {
      return (Date.now() - lastBeat) / 1000;
    },
    start() {
      if (running) return;
      running = true;
      lastBeat = Date.now();
      done = run();
    },
    async stop(deadlineMs) {
      if (!running) return;
      const deadline = Date.now() + deadlineMs;
      running = false;
      shell.wake();
      await Promise.race([Promise.all([done, core.drain?.(deadline)]), Bun.sleep(Math.max(0, deadline - Date.now()))]);
    },
  };
  const core = options.core(shell);

  /** Sleeps `ms`, beating every slice; `wakeable` lets wake() cut it short. */
  async function pause(ms: number, wakeable: boolean) {
    const until = Date.now() + ms;
    while (running && Date.now() < until) {
      if (wakeable && woken) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(IDLE_BEAT_MS, until - Date.now()));
        wakeWaiter = wakeable
          ? () => {
              clearTimeout(timer);
              resolve();
            }
          : undefined;
      });
      wakeWaiter = undefined;
      shell.beat();
    }
  }

  async function run() {
    try {
      await core.open?.();
    } catch (error) {
      outage.failed(error);
    }
    let failures = 0;
    while (running) {
      shell.beat();
      woken = false;
      let more = false;
      try {
        more = await core.round();
        failures = 0;
        outage.recovered();
      } catch (error) {
        outage.failed(error);
        await pause(BACKOFF_MS[Math.min(failures++, BACKOFF_MS.length - 1)]!, false);
        continue;
      }
      shell.beat();
      if (!more && !woken) await pause(options.pollIntervalMs, true);
    }
  }

  return shell;
}
