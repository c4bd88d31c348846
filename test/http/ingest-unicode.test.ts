import { beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { envelopeJson } from '../../src/events/envelope.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { tokenWith } from '../helpers/fixtures.ts';

/*
 * Text that is not Unicode — bytes that are not UTF-8, JSON escapes of lone
 * surrogates — is refused whole, never stored altered (U+FFFD in its place).
 * Valid text, however it is written, is stored byte for byte.
 */

const database = useTestDatabase();
let app: TestApp;
let publisher: string;

beforeAll(async () => {
  // MAX_JSON_DEPTH raised: the 20,000-deep test below checks the surrogate walk, not the depth limit.
  app = createTestApp(database(), {
    env: { TENANT: 'acme', MAX_EVENT_BYTES: '4096', MAX_REQUEST_BYTES: '65536', MAX_JSON_DEPTH: '30000' },
  });
  publisher = await tokenWith(database().db, 'publish_events');
});

type Part = string | number[];

/** The bytes of `parts`: strings as UTF-8, number arrays as raw bytes. */
function bytes(...parts: Part[]): Uint8Array {
  return new Uint8Array(parts.flatMap((part) => (typeof part === 'string' ? [...Buffer.from(part, 'utf8')] : part)));
}

/** Posts `body` as given; with a Content-Length unless `streamed`, or in the given chunks. */
function post(body: Uint8Array | Uint8Array[], contentType = 'application/json', options: { streamed?: boolean } = {}) {
  const headers: Record<string, string> = { 'content-type': contentType, authorization: `Bearer ${publisher}` };
  const chunks = Array.isArray(body) ? body : [body];
  if (!Array.isArray(body) && !options.streamed) headers['content-length'] = String(body.byteLength);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  return app.request('/api/v1/events', {
    method: 'POST',
    headers,
    body: Array.isArray(body) || options.streamed ? stream : body,
    duplex: 'half',
  } as RequestInit);
}

const ndjson = 'application/x-ndjson';

/** An envelope's JSON text with `payload` spliced in as written (escapes and all). */
function envelopeText(payload: string, extra = '') {
  return `{"id":"${randomUUID()}","name":"order.created"${extra},"payload":${payload}}`;
}

async function eventCount() {
  const row = await database()
    .db.selectFrom('events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  errors: { index?: number; line?: number; offset?: number; field?: string; message: string }[];
}

/** Expects a refusal with `status`, checks that nothing was stored, returns the problem. */
async function expectRefused(response: Response | Promise<Response>, status: number): Promise<ProblemBody> {
  const before = await eventCount();
  const answer = await response;
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  const problem = (await answer.json()) as ProblemBody;
  expect(problem.status).toBe(status);
  expect(await eventCount()).toBe(before);
  // The refusal is Unicode text itself, even where it quotes the bad input.
  for (const error of problem.errors) expect(`${error.field ?? ''}${error.message}`.isWellFormed()).toBe(true);
  return problem;
}

describe('bodies that are not UTF-8: 400 naming the first bad byte', () => {
  const valid = envelopeText('{"id":"o-1"}');

  test('one envelope, declared length or streamed: the byte offset', async () => {
    const body = bytes('{"name":"order.created","payload":{"id":"o-1","note":"caf', [0xff], '"}}');
    const offset = '{"name":"order.created","payload":{"id":"o-1","note":"caf'.length;
    for (const streamed of [false, true]) {
      const problem = await expectRefused(post(body, 'application/json', { streamed }), 400);
      expect(problem.type).toBe('https://tideway.dev/problems/invalid-utf8');
      expect(problem.detail).toBe(
        `The body is not valid UTF-8 at byte offset ${offset}, byte 0xff: send text as UTF-8. Nothing was stored.`,
      );
      expect(problem.errors).toEqual([{ offset, message: `Not valid UTF-8 at byte offset ${offset}, byte 0xff.` }]);
    }
  });

  test('an array: overlong, encoded surrogate, cut-off and out-of-range sequences each point at their first byte', async () => {
    const cases: [string, number[], string][] = [
      ['overlong "/"', [0xc0, 0xaf], '0xc0'],
      ['UTF-8 of the surrogate U+D800', [0xed, 0xa0, 0x80], '0xed'],
      ['日 without its last byte', [0xe6, 0x97], '0xe6'],
      ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80], '0xf4'],
      ['a lone continuation byte', [0x80], '0x80'],
    ];
    for (const [, bad, shown] of cases) {
      const head = `[${valid},{"name":"order.created","payload":{"id":"o-2","note":"é`;
      const problem = await expectRefused(post(bytes(head, bad, '"}}]')), 400);
      const offset = Buffer.byteLength(head);
      expect(problem.errors).toEqual([{ offset, message: `Not valid UTF-8 at byte offset ${offset}, byte ${shown}.` }]);
    }
  });

  test('NDJSON: the offset and the line (here 3), nothing of the valid lines stored', async () => {
    const lines = [valid, valid, '{"name":"order.created","payload":{"id":"o-3","note":"x'];
    const head = `${lines.join('\n')}`;
    const problem = await expectRefused(post(bytes(head, [0xfe], '"}}\n', valid, '\n'), ndjson), 400);
    const offset = Buffer.byteLength(head);
    expect(problem.detail).toBe(
      `The body is not valid UTF-8 at byte offset ${offset} (line 3), byte 0xfe: send text as UTF-8. Nothing was stored.`,
    );
    expect(problem.errors).toEqual([
      { line: 3, offset, message: `Not valid UTF-8 at byte offset ${offset} (line 3), byte 0xfe.` },
    ]);
  });

  test('NDJSON in chunks: offsets count the whole body, even when the bad sequence began in the chunk before', async () => {
    // Line 2 ends its chunk with the first byte of 日; the next chunk does not continue it.
    const first = bytes(`${valid}\n`);
    const second = bytes('{"name":"order.created","payload":{"note":"', [0xe6]);
    const third = bytes('"}}\n');
    const problem = await expectRefused(post([first, second, third], ndjson), 400);
    const offset = first.byteLength + second.byteLength - 1;
    expect(problem.errors).toEqual([
      { line: 2, offset, message: `Not valid UTF-8 at byte offset ${offset} (line 2), byte 0xe6.` },
    ]);

    // A chunk that holds several lines: the line counts the breaks before the bad byte.
    const many = bytes(`${valid}\n\n${valid}\n{"name":"x","payload":{"a":"`, [0xff], '"}}\n');
    const inChunk = await expectRefused(post([first, many], ndjson), 400);
    expect(inChunk.errors[0]).toMatchObject({
      line: 5,
      offset: first.byteLength + Buffer.byteLength(`${valid}\n\n${valid}\n{"name":"x","payload":{"a":"`),
    });
  });

  test('NDJSON that ends inside a character: the offset of its first byte', async () => {
    const head = bytes(`${valid}\n{"name":"order.created","payload":{"note":"x"}}`);
    const problem = await expectRefused(post([head, bytes([0xf0, 0x9f])], ndjson), 400);
    expect(problem.errors).toEqual([
      {
        line: 2,
        offset: head.byteLength,
        message: `Not valid UTF-8 at byte offset ${head.byteLength} (line 2), byte 0xf0.`,
      },
    ]);
  });
});

describe('lone surrogate escapes: 422 naming the event and the field', () => {
  test('one envelope: the payload field, at any depth; upper-case escapes too', async () => {
    const problem = await expectRefused(
      post(bytes(envelopeText('{"id":"o-1","note":"\\ud800x","items":[{"name":"ok"},{"name":"\\uDC00"}]}'))),
      422,
    );
    expect(problem.type).toBe('https://tideway.dev/problems/invalid-events');
    expect(problem.detail).toBe('The event is invalid; nothing was stored.');
    expect(problem.errors).toEqual([
      {
        field: 'payload.note',
        message:
          'holds \\ud800, a lone surrogate, so it is not Unicode text: send the character itself or a complete surrogate pair',
      },
      {
        field: 'payload.items.1.name',
        message:
          'holds \\udc00, a lone surrogate, so it is not Unicode text: send the character itself or a complete surrogate pair',
      },
    ]);
  });

  test('a batch: index and field for payload values, payload keys and envelope fields', async () => {
    const body = `[${[
      envelopeText('{"id":"o-1","note":"\\ud83d\\ude00 is a pair"}'),
      envelopeText('{"id":"o-2","meta":{"k\\ud800":1}}'),
      envelopeText('{"id":"o-3"}', ',"domain_entity_id":"c-\\udbff"'),
      `{"name":"order.created\\udfff","payload":{"id":"o-4"}}`,
      envelopeText('{"id":"o-5"}', ',"tenant":"\\ud800"'),
      envelopeText('{"id":"o-6"}', ',"\\ud800":true'),
    ].join(',')}]`;
    const problem = await expectRefused(post(bytes(body)), 422);
    expect(problem.detail).toBe('5 of 6 events are invalid; nothing was stored.');
    const byIndex = (index: number) =>
      problem.errors.filter((error) => error.index === index).map((error) => [error.field, error.message]);
    const hint = 'so it is not Unicode text: send the character itself or a complete surrogate pair';
    expect(byIndex(0)).toEqual([]);
    expect(byIndex(1)).toEqual([['payload.meta', `has a key, "k\\ud800", that holds a lone surrogate, ${hint}`]]);
    expect(byIndex(2)).toEqual([['domain_entity_id', `holds \\udbff, a lone surrogate, ${hint}`]]);
    expect(byIndex(3)).toEqual([
      ['name', '"order.created\\udfff" is not a known event type; did you mean "order.created"?'],
      ['name', `holds \\udfff, a lone surrogate, ${hint}`],
    ]);
    expect(byIndex(4)).toEqual([
      ['tenant', 'must be "acme" (this deployment\'s tenant) or absent'],
      ['tenant', `holds \\ud800, a lone surrogate, ${hint}`],
    ]);
    expect(byIndex(5)).toEqual([
      [
        '\\ud800',
        'is not an envelope field (allowed: id, tenant, name, published_at, payload, domain_entity_type, domain_entity_id)',
      ],
      [undefined, `The envelope has a key, "\\ud800", that holds a lone surrogate, ${hint}`],
    ]);
  });

  test('a payload nested 20,000 deep: the path to the bottom, without a stack overflow', async () => {
    const depth = 20_000;
    const problem = await expectRefused(
      post(bytes(envelopeText(`{"deep":${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}}`))),
      422,
    );
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors[0]!.field).toBe(`payload.deep${'.0'.repeat(depth)}`);
  });

  test('NDJSON: index and line', async () => {
    const body = [envelopeText('{"id":"o-1"}'), '', envelopeText('{"id":"o-2","deep":[[["\\udead"]]]}')].join('\n');
    const problem = await expectRefused(post(bytes(body), ndjson), 422);
    expect(problem.errors).toEqual([
      {
        index: 1,
        line: 3,
        field: 'payload.deep.0.0.0',
        message:
          'holds \\udead, a lone surrogate, so it is not Unicode text: send the character itself or a complete surrogate pair',
      },
    ]);
  });
});

describe('valid text is stored byte for byte', () => {
  const published = '2026-11-30T10:00:00.000Z';

  /** Posts one envelope with `payload` (JSON text), returns the stored row. */
  async function storedPayload(body: Uint8Array | Uint8Array[], id: string, contentType = 'application/json') {
    const response = await post(body, contentType);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ ids: [id] });
    return database()
      .db.selectFrom('events')
      .select(['payload', 'name', 'published_at'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  test('escapes, pairs, raw multi-byte UTF-8 and \\u0000: stored as compact JSON, the same text a webhook gets', async () => {
    const id = randomUUID();
    const payload =
      '{ "id": "o-1", "e": "caf\\u00e9", "pair": "\\ud83d\\ude00", "PAIR": "\\uD83D\\uDE00", "raw": "é 日本 😀", "nul": "a\\u0000b", "日本": 1 }';
    const row = await storedPayload(
      bytes(`{"id":"${id}","name":"order.created","published_at":"${published}","payload":${payload}}`),
      id,
    );
    const expected = '{"id":"o-1","e":"café","pair":"😀","PAIR":"😀","raw":"é 日本 😀","nul":"a\\u0000b","日本":1}';
    expect(row.payload).toBe(expected);
    expect(Buffer.from(row.payload, 'utf8')).toEqual(Buffer.from(expected, 'utf8'));
    expect(
      envelopeJson({ id, tenant: 'acme', name: row.name, publishedAt: row.published_at, payloadJson: row.payload }),
    ).toBe(`{"id":"${id}","tenant":"acme","name":"order.created","published_at":"${published}","payload":${expected}}`);
  });

  test('NDJSON whose characters are split between chunks (2, 3 and 4 bytes, one over three chunks)', async () => {
    const id = randomUUID();
    const text = bytes(`{"id":"${id}","name":"order.created","payload":{"id":"o-2","note":"é日😀"}}\n`);
    const at = Buffer.byteLength(`{"id":"${id}","name":"order.created","payload":{"id":"o-2","note":"`);
    // é = c3 a9 | 日 = e6 97 a5 | 😀 = f0 9f 98 80: cut inside each, and 😀 twice.
    const cuts = [at + 1, at + 3, at + 6, at + 7, at + 9];
    const chunks = [0, ...cuts].map((start, i) => text.subarray(start, cuts[i] ?? text.byteLength));
    const row = await storedPayload(chunks, id, ndjson);
    expect(row.payload).toBe('{"id":"o-2","note":"é日😀"}');
  });

  test('a UTF-8 byte order mark at the start is dropped, declared, streamed or NDJSON', async () => {
    for (const [contentType, streamed] of [
      ['application/json', false],
      ['application/json', true],
      [ndjson, false],
    ] as const) {
      const id = randomUUID();
      const response = await post(
        bytes([0xef, 0xbb, 0xbf], `{"id":"${id}","name":"order.created","payload":{"id":"o-3","note":"é"}}`),
        contentType,
        { streamed },
      );
      expect(response.status).toBe(202);
      const row = await database()
        .db.selectFrom('events')
        .select('payload')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(row.payload).toBe('{"id":"o-3","note":"é"}');
    }
  });
});

describe('NUL in an id that is stored as text: 422 naming the field', () => {
  test('payload.id, the domain entity rule field and domain_entity_id are each refused, nothing stored', async () => {
    const problem = await expectRefused(
      post(
        bytes(
          `[${envelopeText('{"id":"o-1\\u0000x"}')},${envelopeText('{"id":"fr-1","order_id":"o\\u0000"}').replace('order.created', 'fulfillment_request.assigned')},${envelopeText('{"id":"o-3"}', ',"domain_entity_id":"d\\u0000"')}]`,
        ),
      ),
      422,
    );
    expect(problem.errors.map((error) => [error.index, error.field, error.message])).toEqual([
      [0, 'payload.id', 'must not contain the NUL character (\\u0000)'],
      [1, 'payload.order_id', 'must not contain the NUL character (\\u0000)'],
      [2, 'domain_entity_id', 'must not contain the NUL character (\\u0000)'],
    ]);
  });

  test('a NUL elsewhere in the payload is kept, escaped, as before', async () => {
    const response = await post(bytes(envelopeText('{"id":"o-4","note":"a\\u0000b"}')));
    expect(response.status).toBe(202);
  });
});
