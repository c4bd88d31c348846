import { STATUS_CODES } from 'node:http';
import packageJson from '../../package.json' with { type: 'json' };
import { classifyError, classifyStatus, type AttemptClass, type ErrorClass } from './outcome.ts';
import { checkOutboundUrl, type OutboundPolicy, type PinnedRequest, pinnedTo } from './outbound.ts';
import { parseRetryAfter } from './retry.ts';
import { standardWebhookHeaders } from './signature.ts';

/** Only the start of a receiver's answer is kept with the attempt. */
export const RESPONSE_EXCERPT_BYTES = 20 * 1024;
export const USER_AGENT = `Tideway/${packageJson.version}`;

export interface WebhookRequest {
  url: string;
  apiKey?: string | null;
  /** The current secret first; during a rotation also the previous one. */
  signingSecrets: string[];
  /** The event id: the webhook-id header. */
  id: string;
  /** The compact envelope: the exact bytes that are signed. */
  body: string;
  timeoutMs: number;
  policy: OutboundPolicy;
}

export interface AttemptResult {
  attemptClass: AttemptClass;
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorClass: ErrorClass | null;
  errorMessage: string | null;
  responseBody: string | null;
  retryAfterMs?: number;
}

/** "HTTP 401 Unauthorized" */
export function describeStatus(status: number): string {
  return `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
}

/** What an attempt came to, before its time and duration are added. */
type Outcome = Omit<AttemptResult, 'attemptedAt' | 'durationMs'>;

/**
 * POSTs one envelope to a webhook and says what came of it. Never throws:
 * every failure is an AttemptResult with its error class. Redirects are not
 * followed (a 3xx is the receiver's answer). The timeout bounds the whole
 * attempt — resolving, connecting, the headers and the excerpt — so a
 * receiver that stalls anywhere costs at most `timeoutMs`.
 *
 * @example const result = await sendWebhook({ url, signingSecrets, id, body, timeoutMs: 10_000, policy })
 */
export async function sendWebhook(request: WebhookRequest, now: () => Date = () => new Date()): Promise<AttemptResult> {
  const attemptedAt = now();
  const started = performance.now();
  const outcome = await attempt(request, attemptedAt);
  return { ...outcome, attemptedAt, durationMs: Math.round(performance.now() - started) };
}

async function attempt(request: WebhookRequest, attemptedAt: Date): Promise<Outcome> {
  // One deadline for every step, from a timer of our own. Bun's fetch has
  // been reported to leave a request pending past its AbortSignal.timeout
  // against a saturated origin (oven-sh/bun#2489, #18536), and that
  // signal's abort event not to fire (#29546); an attempt that never ends
  // would hold one of its integration's slots for good. So fetch is raced
  // against the deadline as well as given it.
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`No answer within ${request.timeoutMs} ms`, 'TimeoutError')),
    request.timeoutMs,
  );
  const deadline = controller.signal;
  try {
    const address = await beforeDeadline(checkOutboundUrl(request.url, request.policy), deadline);
    if (address === TIMED_OUT)
      return failed('dns', `Could not resolve ${new URL(request.url).hostname} within ${request.timeoutMs} ms`);
    if (!address.ok) return failed(address.errorClass, address.reason);

    let response: Response | typeof TIMED_OUT;
    try {
      // To the address that was checked, not to the name (resolved again, it could be another).
      const pinned = pinnedTo(request.url, address.address);
      response = await beforeDeadline(fetch(pinned.url, fetchInit(request, pinned, attemptedAt, deadline)), deadline);
    } catch (error) {
      const { errorClass, message } = classifyFetchError(error, deadline.aborted, request.timeoutMs);
      return failed(errorClass, message);
    }
    if (response === TIMED_OUT) return failed('timeout', `No answer within ${request.timeoutMs} ms`);
    const excerpt = await readExcerpt(response, deadline);
    if (!excerpt.ok) return unfinishedBody(response.status, excerpt, deadline.aborted, request.timeoutMs);
    return {
      attemptClass: classifyStatus(response.status),
      statusCode: response.status,
      errorClass: null,
      errorMessage: null,
      responseBody: excerpt.text,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), attemptedAt.getTime()),
    };
  } finally {
    clearTimeout(timer);
  }
}

function failed(errorClass: ErrorClass, message: string, responseBody: string | null = null): Outcome {
  return { attemptClass: classifyError(errorClass), statusCode: null, errorClass, errorMessage: message, responseBody };
}

function fetchInit(
  request: WebhookRequest,
  pinned: PinnedRequest,
  attemptedAt: Date,
  signal: AbortSignal,
): BunFetchRequestInit {
  const timestamp = Math.floor(attemptedAt.getTime() / 1000);
  const headers: Record<string, string> = {
    host: pinned.host,
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    // The excerpt is kept as text, and a compressed answer could inflate far past it.
    'accept-encoding': 'identity',
    ...standardWebhookHeaders(request.signingSecrets, request.id, timestamp, request.body),
  };
  if (request.apiKey) headers.authorization = `Bearer ${request.apiKey}`;
  // Bun inflates all it has received before the first read returns: a 250 KB
  // gzip of 256 MB of zeros cost ~100 MB of RSS for a 20 KB excerpt. Raw
  // bytes keep memory at the excerpt, whatever a receiver sends.
  return {
    method: 'POST',
    headers,
    body: request.body,
    redirect: 'manual',
    signal,
    decompress: false,
    ...(pinned.servername ? { tls: { servername: pinned.servername } } : {}),
  };
}

/**
 * The status arrived but the body (up to the excerpt) did not: the receiver
 * never finished answering, so the attempt is the error — a timeout or a
 * broken connection, retried — whatever the status said. statusCode stays
 * null because everything that shows an attempt reads a status as "the
 * receiver answered"; the message keeps the status, the excerpt what arrived.
 */
function unfinishedBody(
  status: number,
  excerpt: { text: string; error: unknown },
  timedOut: boolean,
  timeoutMs: number,
): Outcome {
  const { errorClass, message } = classifyFetchError(excerpt.error, timedOut, timeoutMs);
  const what =
    errorClass === 'timeout' ? `the body was not complete within ${timeoutMs} ms` : `the body broke off: ${message}`;
  return failed(errorClass, `Answered ${describeStatus(status)}, but ${what}`, excerpt.text || null);
}

const TIMED_OUT = Symbol('timed out');

/** `work`'s result, or TIMED_OUT as soon as `deadline` fires, whichever comes first. */
async function beforeDeadline<T>(work: Promise<T>, deadline: AbortSignal): Promise<T | typeof TIMED_OUT> {
  if (deadline.aborted) return TIMED_OUT;
  let onAbort = () => {};
  const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
    onAbort = () => resolve(TIMED_OUT);
    deadline.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    deadline.removeEventListener('abort', onAbort);
  }
}

type Excerpt = { ok: true; text: string } | { ok: false; text: string; error: unknown };

/**
 * The first RESPONSE_EXCERPT_BYTES of the body, without reading the rest.
 * Bun 1.4 does fail a pending read when the fetch signal fires, but that is
 * the runtime's choice for a body already handed over; each read also races
 * the deadline here, so a receiver that sends its headers and then stalls or
 * trickles ends at the deadline whatever the runtime does.
 */
async function readExcerpt(response: Response, deadline: AbortSignal): Promise<Excerpt> {
  if (!response.body) return { ok: true, text: '' };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const text = () => Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const chunk = await beforeDeadline(reader.read(), deadline);
      if (chunk === TIMED_OUT) return { ok: false, text: text(), error: deadline.reason };
      if (chunk.done) break;
      chunks.push(chunk.value);
      size += chunk.value.byteLength;
    }
    return { ok: true, text: text() };
  } catch (error) {
    return { ok: false, text: text(), error };
  } finally {
    // Not awaited: hanging up must not wait on a receiver that stopped talking.
    reader.cancel().catch(() => {});
  }
}

/** Bun's codes for an answer it cannot parse as HTTP: the status line, the headers or the framing. */
const INVALID_RESPONSE_CODES = new Set([
  'Malformed_HTTP_Response',
  'InvalidHTTPResponse',
  'InvalidContentLength',
  'UnsupportedTransferEncoding',
  'ResponseHeadersTooLarge',
  'UnrequestedUpgrade',
]);

function classifyFetchError(
  error: unknown,
  timedOut: boolean,
  timeoutMs: number,
): { errorClass: ErrorClass; message: string } {
  const failure = error as { name?: string; code?: string; message?: string };
  const message = failure.message ?? String(error);
  if (timedOut || failure.name === 'TimeoutError')
    return { errorClass: 'timeout', message: `No answer within ${timeoutMs} ms` };
  const code = failure.code ?? '';
  if (code === 'ECONNREFUSED' || code === 'ConnectionRefused') return { errorClass: 'connection_refused', message };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /dns|getaddrinfo/i.test(message))
    return { errorClass: 'dns', message };
  if (/CERT|TLS|SSL|certificate/i.test(code + message)) return { errorClass: 'tls', message };
  if (INVALID_RESPONSE_CODES.has(code))
    return { errorClass: 'invalid_response', message: `The answer is not valid HTTP (${code})` };
  return { errorClass: 'connection_error', message };
}

/** The parts of a settlement that record the attempt itself. */
export function attemptRecord(result: AttemptResult) {
  return {
    attemptedAt: result.attemptedAt,
    durationMs: result.durationMs,
    statusCode: result.statusCode,
    errorClass: result.errorClass,
    errorMessage: result.errorMessage,
    responseBody: result.responseBody,
  };
}
