import type { FieldError } from '../lib/problem.ts';
import { ProblemError } from '../lib/problem.ts';

/** One envelope as it came in, before validation, with where it stood. */
export interface RawEnvelope {
  value: unknown;
  /** Position among the request's events (0-based), absent for a lone envelope. */
  index?: number;
  /** NDJSON line number (1-based). */
  line?: number;
}

const JSON_TYPES = new Set(['application/json']);
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl']);
const MAX_REPORTED_ERRORS = 100;

/**
 * Reads the body of `POST /api/v1/events`: one JSON envelope, a JSON array of
 * them, or NDJSON read line by line as it streams in. Refuses a wrong content
 * type (415), a body over `maxBytes` (413, without reading past the limit),
 * an empty body or malformed JSON (400, naming each bad line for NDJSON).
 */
export async function readEnvelopes(request: Request, maxBytes: number): Promise<RawEnvelope[]> {
  const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const ndjson = NDJSON_TYPES.has(mediaType);
  if (!ndjson && !JSON_TYPES.has(mediaType)) {
    throw new ProblemError({
      status: 415,
      type: 'unsupported-media-type',
      title: 'Unsupported media type',
      detail: `Send events as application/json (an envelope or an array of envelopes) or application/x-ndjson; got ${mediaType ? `"${mediaType}"` : 'no Content-Type'}.`,
    });
  }
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (ndjson) return readNdjson(request.body, maxBytes);
  // With a Content-Length within the limit the body cannot be longer, and the
  // runtime's own reader is several times faster than decoding chunk by chunk.
  return parseJson(Number.isFinite(declared) ? await request.text() : await readLimitedText(request.body, maxBytes));
}

function tooLarge(maxBytes: number) {
  return new ProblemError({
    status: 413,
    type: 'payload-too-large',
    title: 'Request too large',
    detail: `The request body exceeds ${maxBytes} bytes (MAX_REQUEST_BYTES). Split it into smaller batches.`,
  });
}

/** Yields the body's chunks, refusing it as soon as it passes `maxBytes`. */
async function* limitedChunks(body: ReadableStream<Uint8Array> | null, maxBytes: number) {
  if (!body) return;
  let total = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > maxBytes) throw tooLarge(maxBytes);
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function readLimitedText(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of limitedChunks(body, maxBytes)) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): RawEnvelope[] {
  if (text.trim() === '') throw malformed([{ message: 'The body is empty: send an event envelope or an array of them.' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw malformed([{ message: `The body is not valid JSON: ${(error as Error).message}` }]);
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) throw malformed([{ message: 'The array holds no event.' }]);
    return parsed.map((value, index) => ({ value, index }));
  }
  return [{ value: parsed }];
}

async function readNdjson(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<RawEnvelope[]> {
  const decoder = new TextDecoder();
  const envelopes: RawEnvelope[] = [];
  const errors: FieldError[] = [];
  let pending = '';
  let lineNumber = 0;

  const take = (line: string) => {
    lineNumber++;
    if (line.trim() === '') return;
    try {
      envelopes.push({ value: JSON.parse(line), index: envelopes.length + errors.length, line: lineNumber });
    } catch (error) {
      if (errors.length < MAX_REPORTED_ERRORS) {
        errors.push({ line: lineNumber, message: `Line ${lineNumber} is not valid JSON: ${(error as Error).message}` });
      }
    }
  };

  for await (const chunk of limitedChunks(body, maxBytes)) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      take(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending !== '') take(pending);

  if (errors.length > 0) throw malformed(errors);
  if (envelopes.length === 0) throw malformed([{ message: 'The body holds no event: send one JSON envelope per line.' }]);
  return envelopes;
}

function malformed(errors: FieldError[]) {
  return new ProblemError({
    status: 400,
    type: 'malformed-body',
    title: 'Malformed request body',
    detail: errors.length === 1 ? errors[0]!.message : `${errors.length} lines are not valid JSON; nothing was stored.`,
    errors,
  });
}
