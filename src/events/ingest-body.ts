import type { FieldError } from '../lib/problem.ts';
import { ProblemError } from '../lib/problem.ts';
import { nestedDeeperThan } from '../lib/json-depth.ts';

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
 * an empty body or malformed JSON (400, naming each bad line for NDJSON),
 * and bytes that are not UTF-8 (400, naming the first bad byte's offset and,
 * for NDJSON, its line).
 */
export async function readEnvelopes(
  request: Request,
  maxBytes: number,
  maxDepth = DEFAULT_MAX_DEPTH,
): Promise<RawEnvelope[]> {
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
  if (ndjson) return readNdjson(request.body, maxBytes, maxDepth);
  // With a Content-Length within the limit the body cannot be longer, and the
  // runtime's own reader is several times faster than reading chunk by chunk.
  // Bytes rather than request.text(), which would replace invalid UTF-8 with U+FFFD.
  const bytes = Number.isFinite(declared) ? await request.bytes() : await readLimitedBytes(request.body, maxBytes);
  return parseJson(decodeUtf8(bytes), maxDepth);
}

/** MAX_JSON_DEPTH's default: an envelope is 1, its payload 2; real events stay far below. */
export const DEFAULT_MAX_DEPTH = 64;

function tooDeep(values: { index?: number; line?: number; depth: number }[], maxDepth: number) {
  return new ProblemError({
    status: 422,
    type: 'validation',
    title: 'Events nested too deeply',
    detail: 'Some events nest deeper than the limit; nothing was stored.',
    errors: values.slice(0, MAX_REPORTED_ERRORS).map(({ depth, ...where }) => ({
      ...where,
      message: `The event is nested ${depth} levels deep; the limit is ${maxDepth} (MAX_JSON_DEPTH).`,
    })),
  });
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

async function readLimitedBytes(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of limitedChunks(body, maxBytes)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function parseJson(text: string, maxDepth: number): RawEnvelope[] {
  if (text.trim() === '')
    throw malformed([{ message: 'The body is empty: send an event envelope or an array of them.' }]);
  // Before parsing: the parser itself gives out in the tens of thousands of levels.
  const deep = nestedDeeperThan(text, maxDepth).values;
  if (deep.length > 0) throw tooDeep(deep, maxDepth);
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

async function readNdjson(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  maxDepth: number,
): Promise<RawEnvelope[]> {
  // Every line break before the current chunk has been taken, so a chunk starts in line lineNumber + 1.
  const decode = utf8Stream(() => lineNumber + 1);
  const envelopes: RawEnvelope[] = [];
  const errors: FieldError[] = [];
  const deep: { index: number; line: number; depth: number }[] = [];
  let pending = '';
  let lineNumber = 0;

  const take = (line: string) => {
    lineNumber++;
    if (line.trim() === '') return;
    const depth = nestedDeeperThan(line, maxDepth, false).values[0]?.depth;
    if (depth !== undefined) {
      deep.push({ index: envelopes.length + errors.length + deep.length, line: lineNumber, depth });
      return;
    }
    try {
      envelopes.push({
        value: JSON.parse(line),
        index: envelopes.length + errors.length + deep.length,
        line: lineNumber,
      });
    } catch (error) {
      if (errors.length < MAX_REPORTED_ERRORS) {
        errors.push({ line: lineNumber, message: `Line ${lineNumber} is not valid JSON: ${(error as Error).message}` });
      }
    }
  };

  for await (const chunk of limitedChunks(body, maxBytes)) {
    pending += decode(chunk);
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      take(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  pending += decode();
  if (pending !== '') take(pending);

  if (errors.length > 0) throw malformed(errors);
  if (deep.length > 0) throw tooDeep(deep, maxDepth);
  if (envelopes.length === 0)
    throw malformed([{ message: 'The body holds no event: send one JSON envelope per line.' }]);
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

/*
 * UTF-8 is checked, never repaired: a decoder that replaces bad bytes with
 * U+FFFD would store text the producer never sent. A leading byte order mark
 * is dropped, as request.text() did before.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const offset = Math.max(0, firstInvalidUtf8(bytes));
    throw notUtf8(offset, bytes[offset]);
  }
}

/**
 * Decodes an NDJSON body chunk by chunk (a character may be split between two
 * chunks). At the first byte that is not UTF-8 it refuses the body, naming
 * the byte's offset in the whole body and its line; `lineAtChunkStart` is the
 * line the next chunk begins in.
 */
function utf8Stream(lineAtChunkStart: () => number) {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // Bytes of the body before the current chunk, and the start of a character
  // the previous chunk ended in: the decoder holds it, the error report needs it.
  let consumed = 0;
  let carry: Uint8Array = new Uint8Array(0);
  return (chunk?: Uint8Array): string => {
    let text: string;
    try {
      text = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      const bytes = chunk ? Buffer.concat([carry, chunk]) : carry;
      const at = Math.max(0, firstInvalidUtf8(bytes));
      // Line breaks are ASCII, never inside a character, so none is in `carry`.
      throw notUtf8(
        consumed - carry.length + at,
        bytes[at],
        lineAtChunkStart() + countLineBreaks(bytes.subarray(0, at)),
      );
    }
    if (chunk) {
      carry = splitCharacter(carry, chunk);
      consumed += chunk.byteLength;
    }
    return text;
  };
}

function countLineBreaks(bytes: Uint8Array): number {
  let breaks = 0;
  for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) breaks++;
  return breaks;
}

/** The unfinished character that `chunk` (after `carry`) ends in, or no bytes. */
function splitCharacter(carry: Uint8Array, chunk: Uint8Array): Uint8Array {
  const tail = chunk.byteLength >= 3 ? chunk.subarray(-3) : Buffer.concat([carry, chunk]).subarray(-3);
  for (let i = tail.length - 1; i >= 0; i--) {
    const byte = tail[i]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: the character began earlier
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > tail.length - i ? tail.slice(i) : new Uint8Array(0);
  }
  return new Uint8Array(0);
}

/**
 * Offset of the first byte of the first ill-formed sequence (Unicode 3.9,
 * table 3-7: no overlongs, surrogates or code points past U+10FFFF), or -1.
 * Only run once a fatal decoder has refused the bytes, so it need not be fast.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    const length =
      lead < 0x80
        ? 1
        : lead >= 0xc2 && lead <= 0xdf
          ? 2
          : lead >= 0xe0 && lead <= 0xef
            ? 3
            : lead >= 0xf0 && lead <= 0xf4
              ? 4
              : 0;
    if (length === 0) return i;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return -1;
}

function notUtf8(offset: number, byte: number | undefined, line?: number) {
  const where = `at byte offset ${offset}${line === undefined ? '' : ` (line ${line})`}, byte 0x${(byte ?? 0).toString(16).padStart(2, '0')}`;
  const error: FieldError = { ...(line === undefined ? {} : { line }), offset, message: `Not valid UTF-8 ${where}.` };
  return new ProblemError({
    status: 400,
    type: 'invalid-utf8',
    title: 'Request body is not UTF-8',
    detail: `The body is not valid UTF-8 ${where}: send text as UTF-8. Nothing was stored.`,
    errors: [error],
  });
}
