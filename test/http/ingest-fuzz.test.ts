import { beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, tokenWith } from '../helpers/fixtures.ts';

/*
 * Generated malformed bodies, a few thousand of them: every answer must be a
 * 4xx problem+json, the events table must not change, and the server must
 * keep serving.
 */

const database = useTestDatabase();
let app: TestApp;
let token: string;

beforeAll(async () => {
  app = createTestApp(database(), { env: { MAX_EVENT_BYTES: '4096', MAX_REQUEST_BYTES: '65536' } });
  token = await tokenWith(database().db, 'publish_events');
});

async function eventCount() {
  const row = await database()
    .db.selectFrom('events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function assertRefused(body: string, contentType: string) {
  const response = await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
    body,
  });
  if (response.status < 400 || response.status >= 500) {
    throw new Error(`answered ${response.status} to ${contentType} body ${body.slice(0, 300)}`);
  }
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const problem = (await response.json()) as { status: number; title: string; detail: string };
  expect(problem.status).toBe(response.status);
  expect(problem.detail.length).toBeGreaterThan(0);
}

/** One way to break an otherwise valid envelope, each certainly invalid. */
const breakage = fc.oneof(
  fc.string({ minLength: 1 }).map((name) => ({ name: `${name}.not_in_catalog` })),
  fc.constantFrom(null, 42, 'text', [1, 2], true).map((payload) => ({ payload })),
  fc
    .string()
    .filter((id) => !/^[0-9a-f-]{36}$/i.test(id))
    .map((id) => ({ id })),
  fc
    .string({ minLength: 1 })
    .filter((tenant) => tenant !== 'default')
    .map((tenant) => ({ tenant })),
  fc
    .string({ minLength: 1 })
    .filter(
      (key) =>
        ![
          'id',
          'tenant',
          'name',
          'published_at',
          'payload',
          'domain_entity_type',
          'domain_entity_id',
          '__proto__',
        ].includes(key),
    )
    .map((key) => ({ [key]: 1 })),
  fc.string().map((published_at) => ({ published_at: `x${published_at}` })),
  fc.constant({ payload: { note: 'z'.repeat(5000) } }),
  fc.constant({ name: undefined }),
);

test('malformed bodies of every kind are refused with problem+json and store nothing', async () => {
  const before = await eventCount();

  await fc.assert(
    fc.asyncProperty(
      fc.string({ maxLength: 200 }),
      fc.constantFrom('application/json', 'application/x-ndjson'),
      (body, type) => assertRefused(body, type),
    ),
    { numRuns: 800 },
  );
  await fc.assert(
    fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), (value) =>
      assertRefused(JSON.stringify(value) ?? 'null', 'application/json'),
    ),
    { numRuns: 800 },
  );
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: 5 }), fc.nat({ max: 5 }), breakage, (validBefore, validAfter, broken) => {
      const bad = { ...envelope('order.created'), ...broken };
      const batch = [
        ...Array.from({ length: validBefore }, () => envelope('order.opened')),
        bad,
        ...Array.from({ length: validAfter }, () => envelope('return.processed')),
      ];
      return assertRefused(JSON.stringify(batch), 'application/json');
    }),
    { numRuns: 800 },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: 4 }),
      fc.string({ minLength: 1, maxLength: 50 }).filter((line) => line.trim() !== '' && !line.includes('\n')),
      (good, garbage) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(garbage);
        } catch {
          parsed = undefined;
        }
        const lines = [
          ...Array.from({ length: good }, () => JSON.stringify(envelope('order.opened'))),
          parsed === undefined ? garbage : JSON.stringify([parsed]),
        ];
        return assertRefused(lines.join('\n'), 'application/x-ndjson');
      },
    ),
    { numRuns: 600 },
  );

  expect(await eventCount()).toBe(before);

  // Still serving.
  const ok = await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(envelope('order.created')),
  });
  expect(ok.status).toBe(202);
  expect(await eventCount()).toBe(before + 1);
}, 120_000);
