/*
 * When to try again (SPEC §4): a webhook delivery, and an S3 batch upload.
 * Pure: the schedule, the randomness and the response's hints come in; a
 * delay or "no more" comes out.
 */

/** Longest wait a receiver's Retry-After can ask for. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
/** Least wait after a timeout or a 429: the receiver is struggling. */
export const OVERLOAD_FLOOR_MS = 60_000;
const JITTER = 0.2;

export interface RetryInput {
  /** Attempts made so far, this one included (1 after the first attempt). */
  attempts: number;
  /** Delays between retries in seconds; its length is the number of retries. */
  scheduleSeconds: readonly number[];
  /** The receiver's Retry-After, in milliseconds, when it sent one. */
  retryAfterMs?: number;
  /** A timeout or a 429: wait at least overloadFloorMs. */
  overloaded?: boolean;
  /** How long an overloaded receiver is left alone at least; OVERLOAD_FLOOR_MS (a minute) by default. */
  overloadFloorMs?: number;
  /** A number in [0, 1); Math.random by default. */
  random?: () => number;
}

/**
 * The delay before the next attempt, or undefined when the schedule is used
 * up (the delivery has failed for good).
 *
 * @example nextRetryDelayMs({ attempts: 1, scheduleSeconds: [5, 300], random: () => 0.5 }) // 5000
 */
export function nextRetryDelayMs(input: RetryInput): number | undefined {
  const scheduled = input.scheduleSeconds[input.attempts - 1];
  if (scheduled === undefined) return undefined;
  const random = input.random ?? Math.random;
  let delay = scheduled * 1000 * (1 + (random() * 2 - 1) * JITTER);
  if (input.retryAfterMs !== undefined) delay = Math.min(Math.max(input.retryAfterMs, 0), MAX_RETRY_AFTER_MS);
  if (input.overloaded) delay = Math.max(delay, input.overloadFloorMs ?? OVERLOAD_FLOOR_MS);
  return Math.round(delay);
}

/**
 * Retry-After as milliseconds: delay-seconds or an HTTP date.
 *
 * @example parseRetryAfter('120', Date.now()) // 120000
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** S3 batches after a transient failure: 5 s, 30 s, 2 min, 10 min, then every 30 min; never given up (the events are in them). */
const S3_BACKOFF_SECONDS = [5, 30, 120, 600, 1800];

/**
 * The wait before uploading a batch again, after `attempts` failed uploads before this one.
 *
 * @example s3RetryDelayMs(0) // 5000
 */
export function s3RetryDelayMs(attempts: number): number {
  return S3_BACKOFF_SECONDS[Math.min(attempts, S3_BACKOFF_SECONDS.length - 1)]! * 1000;
}
