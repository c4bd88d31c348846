import type { Logger } from '../lib/log.ts';
import type { BackgroundLoop } from './registry.ts';

/**
 * A loop that runs `runOnce` now and then every `intervalMs` after each run
 * ends (runs never overlap). A failing run is logged and retried at the next
 * interval. `stop` waits for a run in progress.
 *
 * @example registry.register(createIntervalLoop('retention', 600_000, () => retention.runOnce(), log))
 */
export function createIntervalLoop(name: string, intervalMs: number, runOnce: () => Promise<unknown>, log: Logger): BackgroundLoop {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;

  const tick = () => {
    running = runOnce()
      .then(() => undefined)
      .catch((error: unknown) => log.error('loop run failed', { loop: name, error }))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };

  return {
    name,
    start() {
      if (!stopped) return;
      stopped = false;
      tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
