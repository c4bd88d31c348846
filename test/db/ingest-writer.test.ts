import { expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import type { KyselyPlugin } from 'kysely';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import type { NewEvent } from '../../src/events/events.schema.ts';
import { usingPostgres, useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

function event(id: string = randomUUID()): NewEvent {
  return {
    id,
    name: 'order.created',
    entity: 'order',
    entityId: 'o-1',
    domainEntityType: 'order',
    domainEntityId: 'o-1',
    publishedAt: new Date(),
    payloadJson: '{"id":"o-1"}',
    sizeBytes: 120,
  };
}

async function storedIds() {
  return new Set((await database().db.selectFrom('events').select('id').execute()).map((row) => row.id));
}

test('requests arriving together share transactions; each learns which of its ids were new', async () => {
  const writer = createIngestWriter(database().db, 'default', { concurrency: 1 });
  const shared = randomUUID();
  const requests = Array.from({ length: 20 }, (_, i) => [event(), ...(i % 5 === 0 ? [event(shared)] : [])]);
  const results = await Promise.all(requests.map((events) => writer.write(events)));

  // The shared id is new for exactly one request: the first that carried it.
  expect(results.filter((stored) => stored.has(shared))).toHaveLength(1);
  expect(results[0]!.has(shared)).toBe(true);
  for (const [i, events] of requests.entries()) expect(results[i]!.has(events[0]!.id)).toBe(true);
  const stored = await storedIds();
  for (const events of requests) for (const { id } of events) expect(stored.has(id)).toBe(true);
});

test('one failing request does not fail the others written with it', async () => {
  const writer = createIngestWriter(database().db, 'default', { concurrency: 1 });
  const good = Array.from({ length: 6 }, () => [event()]);
  // An id the database refuses (validation would have stopped it; the writer must not rely on that).
  const bad = [event('not-a-uuid')];
  const outcomes = await Promise.allSettled(
    [...good.slice(0, 3), bad, ...good.slice(3)].map((events) => writer.write(events)),
  );
  expect(outcomes.map((outcome) => outcome.status)).toEqual([
    'fulfilled',
    'fulfilled',
    'fulfilled',
    'rejected',
    'fulfilled',
    'fulfilled',
    'fulfilled',
  ]);
  const stored = await storedIds();
  for (const [first] of good) expect(stored.has(first!.id)).toBe(true);
});

// PGlite has one connection: transactions cannot overlap there, whatever the writer does.
test.skipIf(!usingPostgres)('parallel writers take large batches side by side', async () => {
  // Statements on the wire at once, as Kysely sends them: more than one only if transactions overlap.
  const started = new Set<unknown>();
  let most = 0;
  const overlap: KyselyPlugin = {
    transformQuery(args) {
      started.add(args.queryId);
      most = Math.max(most, started.size);
      return args.node;
    },
    async transformResult(args) {
      started.delete(args.queryId);
      return args.result;
    },
  };
  const writer = createIngestWriter(database().db.withPlugin(overlap), 'default', { concurrency: 3, parallelFrom: 50 });
  const batches = Array.from({ length: 6 }, () => Array.from({ length: 100 }, () => event()));
  const results = await Promise.all(batches.map((events) => writer.write(events)));
  expect(results.map((stored) => stored.size)).toEqual([100, 100, 100, 100, 100, 100]);
  expect(most).toBeGreaterThan(1);
});

test('a write made the moment the previous one resolves is written too (it used to wait forever)', async () => {
  const writer = createIngestWriter(database().db, 'default');
  const first = event();
  const second = event();
  const written = (async () => {
    await writer.write([first]);
    // In the same turn as the first write's resolution, before its writer went idle.
    return writer.write([second]);
  })();
  const outcome = await Promise.race([written, Bun.sleep(5_000).then(() => 'still waiting' as const)]);
  expect(outcome).toEqual(new Set([second.id]));
});
