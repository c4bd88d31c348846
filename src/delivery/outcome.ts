import type { AttemptTrigger, DeliveryStatus } from '../db/database.ts';
import type { ClaimedDelivery, Settlement } from './deliveries.repo.ts';
import { nextRetryDelayMs } from './retry.ts';
import { attemptRecord, type AttemptResult } from './webhook.ts';

/*
 * What one webhook attempt's answer means (SPEC §4), as explicit outcome
 * classes rather than status arithmetic scattered through the loop.
 */

export type AttemptClass = 'success' | 'retry' | 'rejected' | 'interrupt';

/** Statuses that mean "this integration is misconfigured": stop it, keep the delivery. */
const INTERRUPTING = new Set([401, 403, 404, 410]);
/** Statuses worth retrying: the receiver may recover. */
const RETRYABLE = new Set([408, 429]);

export function classifyStatus(status: number): AttemptClass {
  if (status >= 200 && status < 300) return 'success';
  if (RETRYABLE.has(status) || status >= 500) return 'retry';
  if (INTERRUPTING.has(status)) return 'interrupt';
  return 'rejected';
}

/**
 * Errors before or instead of an answer: all retried, except a refused address.
 * `invalid_response` is an answer that is not HTTP (a garbled status line,
 * broken framing): the receiver is reachable but something in front of it, or
 * it, is broken, which may well be fixed by the next attempt.
 */
export type ErrorClass =
  | 'timeout'
  | 'connection_refused'
  | 'connection_error'
  | 'invalid_response'
  | 'dns'
  | 'tls'
  | 'blocked_address';

export function classifyError(errorClass: ErrorClass): AttemptClass {
  return errorClass === 'blocked_address' ? 'interrupt' : 'retry';
}

/** The delivery as an attempt finds it; a manual attempt (Resend) also needs its status and due time. */
export type AttemptedDelivery = Pick<ClaimedDelivery, 'integration_id' | 'event_id' | 'attempts'> & {
  next_attempt_trigger?: AttemptTrigger;
  status?: DeliveryStatus;
  next_attempt_at?: Date;
};

/**
 * What one attempt leaves of its delivery (SPEC §4). Pure; used by the
 * webhook loop and by Resend.
 *
 * A scheduled attempt: success and rejected settle it; an interrupt leaves
 * it pending, uncounted, for when the integration is started again; a retry
 * is due after the schedule's next delay, or is a failure once the schedule
 * is used up.
 *
 * A manual attempt (`trigger: 'manual'`, Resend) never touches the schedule:
 * success or a refusal settles the delivery; anything else leaves a pending
 * one due when it was, and a finished one as it was.
 *
 * @example settlementFor(delivery, result, { scheduleSeconds: [5, 300] }).status // 'pending'
 */
export function settlementFor(
  delivery: AttemptedDelivery,
  result: AttemptResult,
  options: {
    scheduleSeconds: readonly number[];
    overloadFloorMs?: number;
    random?: () => number;
    trigger?: 'scheduled' | 'manual';
  },
): Settlement {
  const base = {
    integrationId: delivery.integration_id,
    eventId: delivery.event_id,
    trigger: delivery.next_attempt_trigger ?? 'scheduled',
    ...attemptRecord(result),
  };
  const at = result.attemptedAt;
  if (options.trigger === 'manual') {
    const settles = result.attemptClass === 'success' || result.attemptClass === 'rejected';
    const status: DeliveryStatus = settles ? (result.attemptClass as DeliveryStatus) : (delivery.status ?? 'pending');
    const nextAttemptAt = status === 'pending' ? (delivery.next_attempt_at ?? at) : at;
    return { ...base, trigger: 'manual', status, nextAttemptAt, counted: 0, outcome: result.attemptClass };
  }
  switch (result.attemptClass) {
    case 'success':
      return { ...base, status: 'success', nextAttemptAt: at, counted: 1, outcome: 'success' };
    case 'rejected':
      return { ...base, status: 'rejected', nextAttemptAt: at, counted: 1, outcome: 'rejected' };
    case 'interrupt':
      return { ...base, status: 'pending', nextAttemptAt: at, counted: 0, outcome: 'interrupt' };
    case 'retry': {
      const delay = nextRetryDelayMs({
        attempts: delivery.attempts + 1,
        scheduleSeconds: options.scheduleSeconds,
        overloadFloorMs: options.overloadFloorMs,
        retryAfterMs: result.retryAfterMs,
        overloaded: result.errorClass === 'timeout' || result.statusCode === 429,
        random: options.random,
      });
      return delay === undefined
        ? { ...base, status: 'failure', nextAttemptAt: at, counted: 1, outcome: 'failure' }
        : { ...base, status: 'pending', nextAttemptAt: new Date(at.getTime() + delay), counted: 1, outcome: 'retry' };
    }
  }
}
