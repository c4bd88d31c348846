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

/** Errors before or instead of an answer: all retried, except a refused address. */
export type ErrorClass = 'timeout' | 'connection_refused' | 'connection_error' | 'dns' | 'tls' | 'blocked_address';

export function classifyError(errorClass: ErrorClass): AttemptClass {
  return errorClass === 'blocked_address' ? 'interrupt' : 'retry';
}
