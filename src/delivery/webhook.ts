import { STATUS_CODES } from 'node:http';
import packageJson from '../../package.json' with { type: 'json' };
import { classifyError, classifyStatus, type AttemptClass, type ErrorClass } from './outcome.ts';
import { checkOutboundUrl, type OutboundPolicy } from './outbound.ts';
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

/**
 * POSTs one envelope to a webhook and says what came of it. Never throws:
 * every failure is an AttemptResult with its error class. Redirects are not
 * followed (a 3xx is the receiver's answer).
 */
export async function sendWebhook(request: WebhookRequest, now: () => Date = () => new Date()): Promise<AttemptResult> {
  const attemptedAt = now();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failed = (errorClass: ErrorClass, message: string): AttemptResult => ({
    attemptClass: classifyError(errorClass),
    attemptedAt,
    durationMs: elapsed(),
    statusCode: null,
    errorClass,
    errorMessage: message,
    responseBody: null,
  });

  const address = await checkOutboundUrl(request.url, request.policy);
  if (!address.ok) return failed(address.errorClass, address.reason);

  const timestamp = Math.floor(attemptedAt.getTime() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    ...standardWebhookHeaders(request.signingSecrets, request.id, timestamp, request.body),
  };
  if (request.apiKey) headers.authorization = `Bearer ${request.apiKey}`;

  const signal = AbortSignal.timeout(request.timeoutMs);
  try {
    const response = await fetch(request.url, { method: 'POST', headers, body: request.body, redirect: 'manual', signal });
    const responseBody = await readExcerpt(response);
    return {
      attemptClass: classifyStatus(response.status),
      attemptedAt,
      durationMs: elapsed(),
      statusCode: response.status,
      errorClass: null,
      errorMessage: null,
      responseBody,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), attemptedAt.getTime()),
    };
  } catch (error) {
    const { errorClass, message } = classifyFetchError(error, signal.aborted, request.timeoutMs);
    return failed(errorClass, message);
  }
}

/** The first RESPONSE_EXCERPT_BYTES of the body, without reading the rest. */
async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
}

function classifyFetchError(error: unknown, timedOut: boolean, timeoutMs: number): { errorClass: ErrorClass; message: string } {
  const failure = error as { name?: string; code?: string; message?: string };
  const message = failure.message ?? String(error);
  if (timedOut || failure.name === 'TimeoutError') return { errorClass: 'timeout', message: `No answer within ${timeoutMs} ms` };
  const code = failure.code ?? '';
  if (code === 'ECONNREFUSED' || code === 'ConnectionRefused') return { errorClass: 'connection_refused', message };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /dns|getaddrinfo/i.test(message)) return { errorClass: 'dns', message };
  if (/CERT|TLS|SSL|certificate/i.test(code + message)) return { errorClass: 'tls', message };
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
