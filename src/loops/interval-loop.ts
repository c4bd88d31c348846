import type { Logger } from '../lib/log.ts';
import { createLoop, type Loop } from './loop.ts';

/**
 * A loop that runs `job` now and then every `intervalMs` after each run
 * ends (runs never overlap). A failing run is logged once per outage and
 * retried with backoff. `job` gets `beat` to call between steps of a long
 * run, so its heartbeat stays fresh.
 *
 * @example registry.register(createIntervalLoop('retention', 600_000, (beat) => retention.runOnce(beat), log))
 */
export function createIntervalLoop(
  name: string,
  intervalMs: number,
  job: (beat: () => void) => Promise<unknown>,
  log: Logger,
): Loop {
  return createLoop({
    name,
    log,
    pollIntervalMs: intervalMs,
    core: (shell) => ({
      async round() {
        await job(shell.beat);
        return false;
      },
    }),
  });
}
