import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { openPostgres, type DatabaseHandle } from '../../src/db/client.ts';
import { insertEventsAndQueueDeliveries } from '../../src/events/events.repo.ts';
import { takeIngestLock } from '../../src/events/fan-out.ts';
import { sealBatches } from '../../src/delivery/s3-batches.repo.ts';
import {
  createIntegration,
  deleteIntegration,
  setIntegrationStatus,
} from '../../src/integrations/integrations.service.ts';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { testSecrets, webhookIntegration, newEvent } from '../helpers/fixtures.ts';

/*
 * Every ingest transaction that queues a delivery holds FOR KEY SHARE on
 * the integration's row (the deliveries → integrations foreign key) until
 * it commits. Under steady ingest, transactions overlap, and the row is
 * never free of that lock. Whatever locks the row must use a mode that
 * does not conflict with it:
 *
 * - a stop (401 from the consumer, or the API) used SELECT … FOR UPDATE and
 *   waited for good; each further 401 started another waiting stop, until
 *   they held every pooled connection and attempts could not be recorded
 *   (the "recorded only 60–80 %" report);
 * - sealing an S3 batch used FOR UPDATE SKIP LOCKED and so skipped every time.
 */

let database: TestDatabase;
let ingestPool: DatabaseHandle;
let ingesting = false;
let overlapping: Promise<void> | undefined;

const event = () => newEvent('order.created', new Date());

/** One ingest transaction with the real insert and fan-out, held open `holdMs` as a slow commit would. */
const ingestOnce = (holdMs: number) =>
  ingestPool.db.transaction().execute(async (trx) => {
    await takeIngestLock(trx);
    await insertEventsAndQueueDeliveries(trx, 'default', [event()]);
    await Bun.sleep(holdMs);
  });

/** Ingest transactions that always overlap: a new one starts 50 ms before the previous one commits. */
function overlapIngest() {
  ingesting = true;
  overlapping = (async () => {
    const open: Promise<unknown>[] = [];
    while (ingesting) {
      open.push(ingestOnce(100));
      await Bun.sleep(50);
    }
    await Promise.all(open);
  })();
}

async function stopIngest() {
  ingesting = false;
  await overlapping;
}

/** `work`'s result, or 'still waiting' after `ms`. */
async function within<T>(ms: number, work: Promise<T>): Promise<T | 'still waiting'> {
  return Promise.race([work, Bun.sleep(ms).then(() => 'still waiting' as const)]);
}

beforeAll(async () => {
  if (!usingPostgres) return;
  database = await createTestDatabase();
  ingestPool = openPostgres(database.url!, { maxConnections: 4 });
}, 60_000);
afterAll(async () => {
  await stopIngest();
  await ingestPool?.close();
  await database?.close();
});

describe.skipIf(!usingPostgres)('locking an integration row under overlapping ingest', () => {
  test('a stop completes at once, as do the stops after it', async () => {
    await webhookIntegration(database, {
      id: 'erp',
      target: { kind: 'webhook', callbackUrl: 'http://127.0.0.1:9/hook' },
    });
    await ingestOnce(0);
    overlapIngest();
    await Bun.sleep(300);
    const stopped = await within(
      3_000,
      setIntegrationStatus(database.db, 'erp', 'stopped', 'Callback answered HTTP 401 Unauthorized', 'system'),
    );
    expect(stopped).toMatchObject({ status: 'stopped' });
    const again = await within(
      3_000,
      Promise.all(
        Array.from({ length: 5 }, () => setIntegrationStatus(database.db, 'erp', 'running', 'Started again', 'test')),
      ),
    );
    expect(again).not.toBe('still waiting');
    await stopIngest();
  }, 30_000);

  test('an S3 integration still seals its batches', async () => {
    await createIntegration(
      database.db,
      testSecrets,
      {
        id: 'lake',
        integrationType: 'permanent',
        startsAt: new Date(Date.now() - 60_000),
        target: { kind: 's3', accessKeyId: 'k', secretAccessKey: 's', region: 'eu-west-1', bucket: 'lake' },
      },
      'test',
    );
    for (let i = 0; i < 3; i++) await ingestOnce(0);
    const lake = (await database.db
      .selectFrom('integrations')
      .selectAll()
      .where('id', '=', 'lake')
      .executeTakeFirstOrThrow())!;
    overlapIngest();
    await Bun.sleep(300);
    const sealed = await within(
      3_000,
      sealBatches(database.db, lake, {
        tenant: 'default',
        maxBytes: 1_000_000,
        intervalMs: 10,
        maxOpen: 3,
        now: new Date(Date.now() + 60_000),
      }),
    );
    await stopIngest();
    expect(sealed).not.toBe('still waiting');
    expect((sealed as { event_count: number }[]).length).toBe(1);
  }, 30_000);
});

describe.skipIf(!usingPostgres)('a delete that deadlocks with a settle', () => {
  test('is tried again rather than answered 500', async () => {
    await webhookIntegration(database, {
      id: 'doomed',
      target: { kind: 'webhook', callbackUrl: 'http://127.0.0.1:9/hook' },
    });
    await ingestOnce(0);
    const [delivery] = await database.db
      .selectFrom('deliveries')
      .select('event_id')
      .where('integration_id', '=', 'doomed')
      .execute();
    // A settle's order: a delivery row first, then the integration's counters.
    const settle = ingestPool.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('deliveries')
        .set({ attempts: 1 })
        .where('integration_id', '=', 'doomed')
        .where('event_id', '=', delivery!.event_id)
        .execute();
      await Bun.sleep(300); // the delete is under way now: it holds the integration's row and waits for this delivery
      await trx.updateTable('integrations').set({ delivered_count: '1' }).where('id', '=', 'doomed').execute();
    });
    await Bun.sleep(100);
    const deleted = await within(10_000, deleteIntegration(database.db, 'doomed'));
    await settle.catch(() => {}); // one of the two loses the deadlock; either way the delete must succeed
    expect(deleted).toBe(true);
    expect(await database.db.selectFrom('integrations').select('id').where('id', '=', 'doomed').execute()).toEqual([]);
  }, 30_000);
});
