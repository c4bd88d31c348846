import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { openPostgres, type DatabaseHandle } from '../../src/db/client.ts';
import { claimDueDeliveries, settleDeliveries, type Settlement } from '../../src/delivery/deliveries.repo.ts';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import type { NewEvent } from '../../src/events/events.schema.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { webhookIntegration } from '../helpers/fixtures.ts';

/*
 * Recording an attempt runs a foreign-key check against deliveries. Its
 * plan is cached per session: one cached while the table was nearly
 * empty (a fresh deployment, before autovacuum's first ANALYZE) was a
 * sequential scan, and every attempt after it scanned the whole growing
 * table — settles slowed until recording fell behind (p99 30 s at 1,000
 * events/s). Counted here by the table's own statistics, not by timing.
 */

let database: TestDatabase;
let recorder: DatabaseHandle;

beforeAll(async () => {
  if (!usingPostgres) return;
  database = await createTestDatabase();
  // One connection, as the recorder's plan cache lives in its session.
  recorder = openPostgres(database.url!, { maxConnections: 1 });
}, 60_000);
afterAll(async () => {
  await recorder?.close();
  await database?.close();
});

let orders = 0;
/** An order event of its own order, as ingest stores them. */
const event = (): NewEvent => {
  const order = `o-${++orders}`;
  return {
    id: randomUUID(),
    name: 'order.created',
    entity: 'order',
    entityId: order,
    domainEntityType: 'order',
    domainEntityId: order,
    publishedAt: new Date(Date.now() - 1_000),
    payloadJson: `{"id":"${order}"}`,
    sizeBytes: 150,
  };
};

async function settle(count: number) {
  const claimed = await claimDueDeliveries(recorder.db, {
    limits: new Map([['erp', count]]),
    owner: 'me',
    now: new Date(),
    leaseMs: 60_000,
  });
  const settlements = claimed.map(
    (delivery): Settlement => ({
      integrationId: delivery.integration_id,
      eventId: delivery.event_id,
      status: 'success',
      nextAttemptAt: new Date(),
      counted: 1,
      outcome: 'success',
      trigger: 'scheduled',
      attemptedAt: new Date(),
      durationMs: 1,
      statusCode: 200,
      errorClass: null,
      errorMessage: null,
      responseBody: 'ok',
    }),
  );
  expect(await settleDeliveries(recorder.db, 'me', settlements)).toBe(count);
}

/**
 * Pages read from an index whose first column is integration_id but whose
 * key is not (integration_id, event_id): what the cached check reads when it
 * took it — every delivery of the integration, each time.
 */
async function pagesReadByDomainEntityIndex(): Promise<number> {
  await sql`select pg_stat_force_next_flush()`.execute(recorder.db);
  await Bun.sleep(50);
  const { rows } = await sql<{ pages: string }>`
    select idx_blks_hit + idx_blks_read as pages from pg_statio_user_indexes where indexrelname = 'deliveries_by_domain_entity'`.execute(
    database.db,
  );
  return Number(rows[0]!.pages);
}

describe.skipIf(!usingPostgres)('the foreign-key check of a recorded attempt', () => {
  test('does not read every delivery of the integration once the table has grown, whatever it planned when the table was empty', async () => {
    await webhookIntegration(database, {
      id: 'erp',
      startsAt: new Date(Date.now() - 60_000),
      target: { kind: 'webhook', callbackUrl: 'http://127.0.0.1:9/hook' },
    });
    // Autovacuum's scans of the index would count too; and the writes go through
    // the recorder's one session, so that forcing its statistics out flushes them
    // all before the count starts (another session's could arrive later).
    await sql`alter table deliveries set (autovacuum_enabled = false)`.execute(database.db);
    const writer = createIngestWriter(recorder.db, 'default');
    // While the table is nearly empty: enough settles for the session to cache a plan.
    await writer.write(Array.from({ length: 10 }, event));
    for (let i = 0; i < 10; i++) await settle(1);
    for (let i = 0; i < 10; i++) await writer.write(Array.from({ length: 2_000 }, event));

    const before = await pagesReadByDomainEntityIndex();
    await settle(50);
    // Each attempt's check by the primary key reads no page of it (the settle's own index entries cost a few hundred).
    expect((await pagesReadByDomainEntityIndex()) - before).toBeLessThan(1_000);
  }, 60_000);
});
