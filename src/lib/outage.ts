import type { Logger } from './log.ts';

/** While an outage lasts, a reminder line at most this often. */
const REMINDER_MS = 60_000;

export interface OutageReporter {
  /** One more failure: logged when it starts an outage, then once a minute. */
  failed(error: unknown, context?: Record<string, unknown>): void;
  /** Work succeeded: ends the outage, logging how long it lasted. */
  recovered(): void;
  /** Whether failures are being seen now. */
  readonly failing: boolean;
}

/**
 * Logs a run of failures once when it starts, a reminder each minute while
 * it lasts, and once when it ends — not once per failed query, which in a
 * database outage would be thousands of lines a second.
 *
 * @example const outage = outageReporter(log, 'settling deliveries failed'); … outage.failed(error); … outage.recovered();
 */
export function outageReporter(log: Logger, message: string): OutageReporter {
  let since: number | undefined;
  let lastLine = 0;
  let failures = 0;
  return {
    failed(error, context = {}) {
      failures++;
      const now = Date.now();
      if (since === undefined) {
        since = now;
        lastLine = now;
        log.warn(message, { ...context, error });
      } else if (now - lastLine >= REMINDER_MS) {
        lastLine = now;
        log.warn(`${message} (still failing)`, { ...context, failures, since: new Date(since).toISOString(), error });
      }
    },
    recovered() {
      if (since === undefined) return;
      log.info(`${message}: recovered`, { failures, outage_ms: Date.now() - since });
      since = undefined;
      failures = 0;
    },
    get failing() {
      return since !== undefined;
    },
  };
}
