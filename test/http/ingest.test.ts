import { beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, tokenWith } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
let publisher: string;
let viewer: string;

beforeAll(async () => {
  app = createTestApp(database(), { env: { TENANT: 'acme', MAX_EVENT_BYTES: '2048', MAX_REQUEST_BYTES: '65536' } });
  publisher = await tokenWith(database().db, 'publish_events');
  viewer = await tokenWith(database().db, 'view_tools');
});

function post(body: unknown, options: { contentType?: string; token?: string | null; raw?: boolean } = {}) {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  const token = options.token === undefined ? publisher : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  return app.request('/api/v1/events', {
    method: 'POST',
    headers,
    body: options.raw ? (body as string) : JSON.stringify(body),
  });
}

async function eventCount() {
  const row = await database()
    .db.selectFrom('events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Posts, expects a refusal with `status`, and checks that nothing was stored. */
async function expectRefused(response: Response | Promise<Response>, status: number) {
  const before = await eventCount();
  const answer = await response;
  expect(answer.status).toBe(status);
  expect(answer.headers.get('content-type')).toBe('application/problem+json');
  const problem = (await answer.json()) as {
    status: number;
    title: string;
    detail: string;
    errors?: Record<string, unknown>[];
  };
  expect(problem.status).toBe(status);
  expect(await eventCount()).toBe(before);
  return problem;
}

describe('accepting events', () => {
  test('one envelope: 202 with its id; stored with the catalog-derived domain entity', async () => {
    const sent = envelope(
      'fulfillment_request.assigned',
      { id: 'fr-1', order_id: 'o-1001', items: [{ sku: 'A' }] },
      {
        published_at: '2026-11-30T10:00:00.123Z',
      },
    );
    const response = await post(sent);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 1, ids: [sent.id], duplicates: [] });

    const row = await database()
      .db.selectFrom('events')
      .selectAll()
      .where('id', '=', sent.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      tenant: 'acme',
      name: 'fulfillment_request.assigned',
      entity: 'fulfillment_request',
      entity_id: 'fr-1',
      domain_entity_type: 'order',
      domain_entity_id: 'o-1001',
    });
    expect(row.published_at.toISOString()).toBe('2026-11-30T10:00:00.123Z');
    // Stored as the compact JSON the envelope will carry, keys in the producer's order.
    expect(row.payload).toBe(JSON.stringify(sent.payload));
  });

  test('order events are their own domain entity; explicit domain fields win; the id and time are filled in', async () => {
    const before = Date.now();
    const order = { name: 'order.created', payload: { id: 'o-2002', total: 10 } };
    const explicit = envelope(
      'return.processed',
      { id: 'r-1', order_id: 'o-9' },
      { domain_entity_type: 'customer', domain_entity_id: 'c-7' },
    );
    const response = await post([order, explicit]);
    expect(response.status).toBe(202);
    const { ids } = (await response.json()) as { ids: string[] };
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const rows = await database().db.selectFrom('events').selectAll().where('id', 'in', ids).execute();
    const generated = rows.find((row) => row.id === ids[0])!;
    expect(generated).toMatchObject({ domain_entity_type: 'order', domain_entity_id: 'o-2002', entity_id: 'o-2002' });
    expect(generated.published_at.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(rows.find((row) => row.id === explicit.id)).toMatchObject({
      domain_entity_type: 'customer',
      domain_entity_id: 'c-7',
    });
  });

  test('NDJSON, with blank lines and a charset', async () => {
    const events = [
      envelope('order.opened'),
      envelope('invoice.created', { order_id: 'o-5' }),
      envelope('inventory_count.items_counted'),
    ];
    const body = `${events.map((event) => JSON.stringify(event)).join('\n\n')}\n`;
    const response = await post(body, { contentType: 'application/x-ndjson; charset=utf-8', raw: true });
    expect(response.status).toBe(202);
    expect(((await response.json()) as { ids: string[] }).ids).toEqual(events.map((event) => event.id));
  });

  test('the catalog is readable with a publish or view token', async () => {
    for (const token of [publisher, viewer]) {
      const response = await app.request('/api/v1/event-types', { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const { event_types } = (await response.json()) as { event_types: Record<string, unknown>[] };
      expect(event_types).toHaveLength(22);
      expect(event_types.find((type) => type.name === 'return.processed')).toEqual({
        name: 'return.processed',
        entity: 'return',
        description: 'A return was processed.',
        deprecated: false,
        replaced_by: null,
        domain_entity: { type: 'order', id_field: 'payload.order_id' },
      });
      expect(event_types.find((type) => type.name === 'order.shipped')).toMatchObject({
        deprecated: true,
        replaced_by: 'order.completed',
      });
    }
    expect((await app.request('/api/v1/event-types')).status).toBe(401);
  });
});

describe('refusals name what is wrong and store nothing', () => {
  test('malformed JSON: 400', async () => {
    const problem = await expectRefused(post('{"name": "order.created",', { raw: true }), 400);
    expect(problem.detail).toContain('not valid JSON');
  });

  test('malformed NDJSON: 400 naming each bad line', async () => {
    const body = [
      JSON.stringify(envelope('order.created')),
      '{oops',
      JSON.stringify(envelope('order.opened')),
      'nope',
    ].join('\n');
    const problem = await expectRefused(post(body, { contentType: 'application/x-ndjson', raw: true }), 400);
    expect(problem.errors!.map((error) => error.line)).toEqual([2, 4]);
  });

  test('empty bodies: 400', async () => {
    await expectRefused(post('', { raw: true }), 400);
    await expectRefused(post([]), 400);
    await expectRefused(post('\n\n', { contentType: 'application/x-ndjson', raw: true }), 400);
  });

  test('an unknown event name: 422 with the nearest known name', async () => {
    const problem = await expectRefused(post(envelope('order.craeted')), 422);
    expect(problem.errors).toEqual([
      { field: 'name', message: '"order.craeted" is not a known event type; did you mean "order.created"?' },
    ]);
  });

  test('payload missing or not an object; id not a UUID; foreign tenant; unknown field; bad time', async () => {
    const batch = [
      envelope('order.created'),
      { id: randomUUID(), name: 'order.created' },
      { ...envelope('order.created'), payload: [1, 2] },
      { ...envelope('order.created'), id: 'not-a-uuid' },
      { ...envelope('order.created'), tenant: 'globex' },
      { ...envelope('order.created'), colour: 'blue' },
      { ...envelope('order.created'), published_at: 'yesterday' },
      'not an object',
    ];
    const problem = await expectRefused(post(batch), 422);
    const byIndex = (index: number) =>
      problem.errors!.filter((error) => error.index === index).map((error) => [error.field, error.message]);
    expect(byIndex(0)).toEqual([]);
    expect(byIndex(1)).toEqual([['payload', 'is required: the event data as a JSON object']]);
    expect(byIndex(2)).toEqual([['payload', 'must be a JSON object']]);
    expect(byIndex(3)).toEqual([['id', 'must be a UUID, e.g. 3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f']]);
    expect(byIndex(4)).toEqual([['tenant', 'must be "acme" (this deployment\'s tenant) or absent']]);
    expect(byIndex(5)[0]![0]).toBe('colour');
    expect(byIndex(6)[0]![0]).toBe('published_at');
    expect(byIndex(7)).toEqual([[undefined, 'must be an event envelope (a JSON object)']]);
    expect(problem.detail).toBe('7 of 8 events are invalid; nothing was stored.');
  });

  test('an event over MAX_EVENT_BYTES: 413 naming its index', async () => {
    const problem = await expectRefused(
      post([envelope('order.created'), envelope('order.created', { note: 'x'.repeat(3000) })]),
      413,
    );
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors![0]).toMatchObject({ index: 1 });
    expect(String(problem.errors![0]!.message)).toContain('the limit is 2048 (MAX_EVENT_BYTES)');
  });

  test('a request over MAX_REQUEST_BYTES: 413, declared or streamed', async () => {
    const many = Array.from({ length: 200 }, () => envelope('order.created', { note: 'y'.repeat(400) }));
    const problem = await expectRefused(post(many), 413);
    expect(problem.detail).toContain('MAX_REQUEST_BYTES');

    // No Content-Length: the limit holds while streaming.
    const body = new ReadableStream({
      start(controller) {
        for (const event of many) controller.enqueue(new TextEncoder().encode(`${JSON.stringify(event)}\n`));
        controller.close();
      },
    });
    const streamed = app.request('/api/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${publisher}` },
      body,
    });
    await expectRefused(streamed, 413);
  });

  test('a wrong content type: 415', async () => {
    const problem = await expectRefused(
      post(JSON.stringify(envelope('order.created')), { contentType: 'text/plain', raw: true }),
      415,
    );
    expect(problem.detail).toContain('"text/plain"');
  });

  test('no token or an unknown one: 401; a token without publish_events: 403', async () => {
    const missing = await post(envelope('order.created'), { token: null });
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    await expectRefused(Promise.resolve(missing), 401);
    await expectRefused(post(envelope('order.created'), { token: 'tw_unknown' }), 401);
    const forbidden = await expectRefused(post(envelope('order.created'), { token: viewer }), 403);
    expect(forbidden.detail).toContain('lacks the permission publish_events');
  });
});

describe('idempotency on the event id', () => {
  test('a resent event is stored once and reported as a duplicate', async () => {
    const sent = envelope('order.cancelled');
    expect(await (await post(sent)).json()).toMatchObject({ duplicates: [] });
    const again = await post({ ...sent, payload: { changed: true } });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ accepted: 1, ids: [sent.id], duplicates: [sent.id] });
    const rows = await database().db.selectFrom('events').select('payload').where('id', '=', sent.id).execute();
    expect(rows).toEqual([{ payload: JSON.stringify(sent.payload) }]);
  });

  test('the same id twice in one batch: the first is stored, the second is a duplicate', async () => {
    const first = envelope('order.completed');
    const response = await post([first, { ...first, payload: { id: 'other' } }, envelope('order.opened')]);
    const body = (await response.json()) as { ids: string[]; duplicates: string[] };
    expect(body.duplicates).toEqual([first.id]);
    const rows = await database().db.selectFrom('events').select('entity_id').where('id', '=', first.id).execute();
    expect(rows).toEqual([{ entity_id: first.payload.id }]);
  });

  test('the same id from concurrent clients is stored once', async () => {
    const sent = envelope('order.items_swapped');
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(sent)));
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as { duplicates: string[] }[];
    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    expect(bodies.filter((body) => body.duplicates.length === 0)).toHaveLength(1);
    expect(await database().db.selectFrom('events').select('id').where('id', '=', sent.id).execute()).toHaveLength(1);
  });
});

describe('nesting depth (MAX_JSON_DEPTH, default 64)', () => {
  /** A payload whose deepest value sits `levels` below the envelope (envelope 1, payload 2, …). */
  const nested = (levels: number) => JSON.parse(`${'{"a":'.repeat(levels - 1)}1${'}'.repeat(levels - 1)}`);

  test('an event at the limit is accepted; one past it is a 422 naming its index, and nothing of the batch is stored', async () => {
    expect((await post(envelope('order.created', nested(64)))).status).toBe(202);
    const problem = await expectRefused(
      post([envelope('order.created'), envelope('order.created', nested(65)), envelope('order.created')]),
      422,
    );
    expect(problem.errors).toEqual([
      { index: 1, message: 'The event is nested 65 levels deep; the limit is 64 (MAX_JSON_DEPTH).' },
    ]);
  });

  test('10,000 and 30,000 levels deep: a 422, refused before parsing (json-depth.test.ts scans 50,000)', async () => {
    // 30,000 is the deepest that fits this app's 64 KiB MAX_REQUEST_BYTES.
    for (const levels of [10_000, 30_000]) {
      const body = `{"name":"order.created","payload":${'['.repeat(levels)}${']'.repeat(levels)}}`;
      const problem = await expectRefused(post(body, { raw: true }), 422);
      expect(problem.errors).toEqual([
        { message: `The event is nested ${levels + 1} levels deep; the limit is 64 (MAX_JSON_DEPTH).` },
      ]);
    }
  });

  test('NDJSON names the line and the index', async () => {
    const lines = [
      JSON.stringify(envelope('order.created')),
      JSON.stringify(envelope('order.created', nested(70))),
    ].join('\n');
    const problem = await expectRefused(post(lines, { raw: true, contentType: 'application/x-ndjson' }), 422);
    expect(problem.errors).toEqual([
      { index: 1, line: 2, message: 'The event is nested 70 levels deep; the limit is 64 (MAX_JSON_DEPTH).' },
    ]);
  });
});
