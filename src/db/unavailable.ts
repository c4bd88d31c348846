/*
 * "The database is away" — restarting, failing over, refusing connections —
 * as opposed to "this statement is wrong". The first is answered 503 with
 * Retry-After and retried by the loops; the second is a bug or bad input.
 */

/** SQLSTATE classes and codes that mean the server cannot serve us right now. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '53400']);
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ConnectionRefused',
  'ConnectionClosed',
]);
/** What pg says when a connection dies under a query, or a pool cannot get one. */
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /connection (is )?closed/i,
  /database session is not connected/i,
];

/**
 * Whether `error` (or its cause) says the database is unreachable or not
 * accepting work, rather than that the statement failed.
 *
 * @example isDatabaseUnavailable(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })) // true
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const failure = current as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    const code = typeof failure.code === 'string' ? failure.code : '';
    if (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || UNAVAILABLE_CODES.has(code)) return true;
    if (
      typeof failure.message === 'string' &&
      UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(failure.message as string))
    )
      return true;
    // An AggregateError (several addresses refused) carries its reasons in `errors`.
    if (Array.isArray(failure.errors) && failure.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    current = failure.cause;
  }
  return false;
}

/** Thrown by a session whose connection is down: recognised by isDatabaseUnavailable. */
export class DatabaseSessionDownError extends Error {
  readonly code = '08006';
  constructor() {
    super('The database session is not connected');
    this.name = 'DatabaseSessionDownError';
  }
}

/** Deadlock detected, serialization failure. */
const RACE_STATES = new Set(['40P01', '40001']);

/**
 * Whether the statement lost a deadlock or a serialization race: the same
 * work, run again, may well succeed.
 *
 * @example lostRace({ code: '40P01' }) // true
 */
export function lostRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RACE_STATES.has(code);
}

/** The database was away, or the statement lost a race: worth running again. */
export function isTransientDatabaseError(error: unknown): boolean {
  return lostRace(error) || isDatabaseUnavailable(error);
}
