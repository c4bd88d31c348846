import { expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { sealBatches } from '../../src/delivery/s3-batches.repo.ts';
import { envelopeSizeBytes } from '../../src/events/envelope.ts';
import type { NewEvent } from '../../src/events/events.schema.ts';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { testSecrets } from '../helpers/fixtures.ts';

/*
 * Sealing reads the pending deliveries a page at a time through a cursor:
 * with pages far smaller than a batch and many deliveries queued in the
 * same instant, every delivery still lands in exactly one batch, oldest
 * first, and sealing again takes only what no batch holds.
 */

const database = useTestDatabase();

function event(): NewEvent {
  const id = randomUUID();
  const payloadJson = '{"id":"o-1"}';
  return {
    id,
    name: 'order.created',
    entity: 'order',
    entityId: 'o-1',
    domainEntityType: 'order',
    domainEntityId: 'o-1',
    publishedAt: new Date(),
    payloadJson,
    sizeBytes: envelopeSizeBytes({ id, tenant: 'acme', name: 'order.created', payloadJson }),
  };
}

test('pages smaller than a batch, ties in the pending order: each delivery sealed once, oldest first', async () => {
  const { db } = database();
  await createIntegration(
    db,
    testSecrets,
    {
      id: 'lake',
      integrationType: 'permanent',
      target: {
        kind: 's3',
        accessKeyId: 'AKIA',
        secretAccessKey: 'secret',
        region: 'us-east-1',
        bucket: 'lake',
        keyPrefix: 'p',
      },
    },
    'test',
  );
  const integration = await db
    .selectFrom('integrations')
    .selectAll()
    .where('id', '=', 'lake')
    .executeTakeFirstOrThrow();
  const writer = createIngestWriter(db, 'acme');
  // Three writes: within each, the deliveries are queued in one transaction, at one instant.
  const writes = [
    Array.from({ length: 10 }, event),
    Array.from({ length: 10 }, event),
    Array.from({ length: 10 }, event),
  ];
  for (const events of writes) {
    await writer.write(events);
    await Bun.sleep(5);
  }
  const lineBytes = writes[0]![0]!.sizeBytes + 1;
  const seal = (now: Date) =>
    sealBatches(db, integration, {
      tenant: 'acme',
      maxBytes: 7 * lineBytes,
      intervalMs: 60_000,
      maxOpen: 10,
      now,
      pageSize: 4,
    });

  // Not due yet: only the full batches.
  const full = await seal(new Date());
  expect(full.map((batch) => batch.event_count)).toEqual([7, 7, 7, 7]);
  // Due: the remainder, and nothing twice.
  const rest = await seal(new Date(Date.now() + 3_600_000));
  expect(rest.map((batch) => batch.event_count)).toEqual([2]);
  expect(await seal(new Date(Date.now() + 3_600_000))).toEqual([]);

  const batches = await db
    .selectFrom('s3_batches')
    .select(['id', 'member_ids', 'byte_count'])
    .orderBy('sealed_at')
    .execute();
  const members = batches.flatMap((batch) => batch.member_ids);
  expect(members.toSorted()).toEqual(
    writes
      .flat()
      .map((e) => e.id)
      .toSorted(),
  );
  expect(batches.map((batch) => Number(batch.byte_count))).toEqual([7, 7, 7, 7, 2].map((count) => count * lineBytes));
  // Oldest first: the first batch is all from the first write, the second starts with its last three.
  const first = new Set(writes[0]!.map((e) => e.id));
  const firstBatch = batches.find((batch) => batch.id === full[0]!.id)!;
  expect(firstBatch.member_ids.every((id) => first.has(id))).toBe(true);
  const secondBatch = batches.find((batch) => batch.id === full[1]!.id)!;
  expect(secondBatch.member_ids.filter((id) => first.has(id))).toHaveLength(3);
});
