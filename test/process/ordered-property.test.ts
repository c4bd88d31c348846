import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { NewEvent } from '../../src/events/events.schema.ts';
import { createIngestWriter, type IngestWriter } from '../../src/events/ingest-writer.ts';
import { setIntegrationStatus } from '../../src/integrations/integrations.service.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { TEST_SECRET_KEY, webhookIntegration } from '../helpers/fixtures.ts';
import { startTideway, stopTideway, type RunningTideway } from '../helpers/process.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * Ordered delivery as a property: over random interleavings of
 * publication, receiver failures (503s and timeouts), pauses, and two
 * worker processes claiming side by side on one PostgreSQL, the receiver
 * never gets an entity's events out of publication order, and every event
 * is delivered (or, its retries used up, failed for good and visible).
 *
 * Each run has an ordered integration of its own, so the two workers keep
 * running across runs.
 */

const ENTITIES = 3;
const TIMEOUT_MS = 300;

type Command =
  | { kind: 'publish'; entity: number; count: number }
  | { kind: 'publishLoose' }
  | { kind: 'fail'; entity: number; how: '503' | 'timeout'; times: number }
  | { kind: 'pause'; ms: number }
  | { kind: 'wait'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('publish' as const),
      entity: fc.nat(ENTITIES - 1),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('publishLoose' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fail' as const),
      entity: fc.nat(ENTITIES - 1),
      how: fc.constantFrom('503' as const, 'timeout' as const),
      times: fc.integer({ min: 1, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 20, max: 200 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
);

/** What one run's receiver is told to do, and what it got: per entity, the publication index of each arrival. */
interface Run {
  failures: Map<string, { how: '503' | 'timeout'; left: number }[]>;
  arrivals: Map<string, number[]>;
}
const runs = new Map<string, Run>();

let database: TestDatabase;
let writer: IngestWriter;
const workers: RunningTideway[] = [];
const receiver = new Receiver();
const keyDir = mkdtempSync(join(tmpdir(), 'tideway-ordered-'));

receiver.respond = async (request) => {
  const run = runs.get(request.path.slice(1));
  const { payload } = JSON.parse(request.body) as { payload: { order?: string; index?: number } };
  if (!run || payload.order === undefined) return new Response('ok');
  run.arrivals.set(payload.order, [...(run.arrivals.get(payload.order) ?? []), payload.index!]);
  const failure = run.failures.get(payload.order)?.find((planned) => planned.left > 0);
  if (!failure) return new Response('ok');
  failure.left--;
  if (failure.how === '503') return new Response('busy', { status: 503 });
  await Bun.sleep(TIMEOUT_MS * 2);
  return new Response('too late');
};

beforeAll(async () => {
  if (!usingPostgres) return;
  database = await createTestDatabase();
  writer = createIngestWriter(database.db, 'default');
  const env = {
    DATABASE_URL: database.url!,
    DATA_DIR: keyDir,
    SECRET_KEY: TEST_SECRET_KEY,
    ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
    WEBHOOK_RETRY_SCHEDULE: '0,0,1',
    WEBHOOK_OVERLOAD_BACKOFF_MS: '100',
  };
  workers.push(...(await Promise.all([0, 1].map(() => startTideway(env, 45_000, ['--role', 'worker'])))));
}, 90_000);
afterAll(async () => {
  await Promise.all(workers.map((worker) => stopTideway(worker)));
  receiver.stop();
  await database?.close();
  rmSync(keyDir, { recursive: true, force: true });
});

let lastPublishedAt = 0;
/** Now, strictly after the previous event: publication order is the order of these calls. */
function publicationTime(): Date {
  lastPublishedAt = Math.max(Date.now(), lastPublishedAt + 1);
  return new Date(lastPublishedAt);
}

function orderEvent(order: string, index: number): NewEvent {
  return {
    id: randomUUID(),
    name: index === 0 ? 'order.created' : 'order.opened',
    entity: 'order',
    entityId: order,
    domainEntityType: 'order',
    domainEntityId: order,
    publishedAt: publicationTime(),
    payloadJson: JSON.stringify({ id: order, order, index }),
    sizeBytes: 120,
  };
}

async function settledCount(integrationId: string): Promise<{ pending: number; total: number; failed: number }> {
  const { rows } = await sql<{ pending: string; total: string; failed: string }>`
    select count(*) filter (where status = 'pending') as pending, count(*) as total,
      count(*) filter (where status = 'failure') as failed
    from deliveries where integration_id = ${integrationId}`.execute(database.db);
  return { pending: Number(rows[0]!.pending), total: Number(rows[0]!.total), failed: Number(rows[0]!.failed) };
}

let runNumber = 0;

async function play(commands: Command[]): Promise<void> {
  const id = `ordered-${++runNumber}`;
  const run: Run = { failures: new Map(), arrivals: new Map() };
  runs.set(id, run);
  await webhookIntegration(database, {
    id,
    ordering: 'by_domain_entity',
    target: { kind: 'webhook', callbackUrl: receiver.url(`/${id}`) },
  });
  const published = new Map<string, number>();
  for (const step of commands) {
    if (step.kind === 'publish') {
      const order = `${id}-o${step.entity}`;
      const first = published.get(order) ?? 0;
      const events = Array.from({ length: step.count }, (_, i) => orderEvent(order, first + i));
      published.set(order, first + step.count);
      await writer.write(events);
    } else if (step.kind === 'publishLoose') {
      // No domain entity: never held back, never checked for order.
      await writer.write([
        { ...orderEvent('loose', 0), domainEntityType: null, domainEntityId: null, payloadJson: '{}' },
      ]);
    } else if (step.kind === 'fail') {
      const order = `${id}-o${step.entity}`;
      run.failures.set(order, [...(run.failures.get(order) ?? []), { how: step.how, left: step.times }]);
    } else if (step.kind === 'pause') {
      await setIntegrationStatus(database.db, id, 'stopped', 'paused by the test', 'test');
      await Bun.sleep(step.ms);
      await setIntegrationStatus(database.db, id, 'running', 'started by the test', 'test');
    } else {
      await Bun.sleep(step.ms);
    }
  }

  const deadline = Date.now() + 30_000;
  let counts = await settledCount(id);
  while (counts.pending > 0 && Date.now() < deadline) {
    await Bun.sleep(50);
    counts = await settledCount(id);
  }
  const publishedTotal = [...published.values()].reduce((sum, count) => sum + count, 0);
  const loose = commands.filter((step) => step.kind === 'publishLoose').length;
  // Nothing lost: every event has its delivery, and every delivery is settled.
  expect(counts).toMatchObject({ pending: 0, total: publishedTotal + loose });
  for (const [order, count] of published) {
    const arrivals = run.arrivals.get(order) ?? [];
    // In publication order: an arrival is never for an event before one that arrived earlier
    // (a retry repeats the same index; a timed-out request may be followed by its own retry).
    for (let i = 1; i < arrivals.length; i++)
      expect(arrivals[i]!, `${order}: ${arrivals.join(',')}`).toBeGreaterThanOrEqual(arrivals[i - 1]!);
    // Every event arrived (one that failed for good too: it was tried, and stays visible as a failure).
    expect(new Set(arrivals).size, `${order}: ${arrivals.join(',')}`).toBe(count);
  }
  runs.delete(id);
}

describe.skipIf(!usingPostgres)('ordered delivery, two worker processes', () => {
  test('no entity’s events arrive out of publication order, and nothing is lost', async () => {
    await fc.assert(fc.asyncProperty(fc.array(command, { minLength: 3, maxLength: 14 }), play), {
      numRuns: 25,
      interruptAfterTimeLimit: 150_000,
    });
  }, 200_000);
});
