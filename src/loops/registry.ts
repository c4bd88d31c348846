import type { Logger } from '../lib/log.ts';

/**
 * A background loop of the worker role (delivery, batching, retention…).
 * `stop` must stop taking new work and resolve once in-flight work is
 * finished or handed back; it is given the time left before exit.
 */
export interface BackgroundLoop {
  readonly name: string;
  start(): void;
  stop(deadlineMs: number): Promise<void>;
  /** Seconds since the loop last showed progress (a round, or a slice of an idle wait). */
  heartbeatAgeSeconds(): number;
}

/** Starts and stops the process's background loops together, and reports their heartbeats. */
export class LoopRegistry {
  readonly #loops: BackgroundLoop[] = [];
  #running = false;
  #stopping = false;

  constructor(private readonly log: Logger) {}

  register<T extends BackgroundLoop>(loop: T): T {
    this.#loops.push(loop);
    if (this.#running) loop.start();
    return loop;
  }

  get names(): string[] {
    return this.#loops.map((loop) => loop.name);
  }

  /** Each running loop's heartbeat age; empty until started (a web-only process runs none). */
  heartbeats(): { loop: string; ageSeconds: number }[] {
    return this.#running
      ? this.#loops.map((loop) => ({ loop: loop.name, ageSeconds: loop.heartbeatAgeSeconds() }))
      : [];
  }

  startAll(): void {
    this.#running = true;
    for (const loop of this.#loops) {
      loop.start();
      this.log.info('loop started', { loop: loop.name });
    }
  }

  /** True once the process has begun to shut down (web-only processes too). */
  stopping(): boolean {
    return this.#stopping;
  }

  /** Stops every loop at once; a loop that overruns the deadline is logged and left behind. */
  async stopAll(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    this.#running = false;
    await Promise.all(
      this.#loops.map(async (loop) => {
        const stopped = await Promise.race([
          loop.stop(deadlineMs).then(() => true),
          Bun.sleep(deadlineMs + 250).then(() => false),
        ]);
        if (!stopped) this.log.warn('loop did not stop before the deadline', { loop: loop.name });
      }),
    );
  }
}
