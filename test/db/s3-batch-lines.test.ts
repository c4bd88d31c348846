import { expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { batchLinePages } from '../../src/delivery/s3-batch-lines.ts';
import { envelopeJson, envelopeSizeBytes } from '../../src/events/envelope.ts';
import type { NewEvent } from '../../src/events/events.schema.ts';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { testSecrets } from '../helpers/fixtures.ts';

/*
 * A batch's object is built from the database's binary COPY output, not
 * from rows: it must still be, byte for byte, envelopeJson of each member
 * (what a webhook receives), in member order.
 */

const database = useTestDatabase();

function event(payloadJson: string): NewEvent {
  const id = randomUUID();
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

/** Seals a batch of `memberIds` by hand and returns its object's text as batchLinePages builds it. */
async function objectText(memberIds: string[]): Promise<string> {
  const { db } = database();
  await createIntegration(
    db,
    testSecrets,
    {
      id: `lake-${randomUUID().slice(0, 8)}`,
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
  ).catch(() => {});
  const integration = await db.selectFrom('integrations').select('id').executeTakeFirstOrThrow();
  const id = randomUUID();
  const stored = await db
    .selectFrom('events')
    .select((eb) => eb.fn.sum<string>('size_bytes').as('bytes'))
    .where('id', 'in', memberIds)
    .executeTakeFirstOrThrow();
  await sql`insert into s3_batches (id, integration_id, object_key, event_count, byte_count, member_ids)
    values (${id}, ${integration.id}, ${`k-${id}`}, ${memberIds.length}, ${Number(stored.bytes ?? 0)}, ${`{${memberIds.join(',')}}`}::uuid[])`.execute(
    db,
  );
  const pages: Buffer[] = [];
  for await (const page of batchLinePages(database().copyOut, {
    id,
    event_count: memberIds.length,
    byte_count: Number(stored.bytes ?? 0) + memberIds.length,
  }))
    pages.push(Buffer.from(page));
  return Buffer.concat(pages).toString('utf8');
}

async function expectedText(memberIds: string[]): Promise<string> {
  const rows = await database()
    .db.selectFrom('events')
    .select(['id', 'tenant', 'name', 'published_at', 'payload'])
    .where('id', 'in', memberIds)
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return memberIds
    .filter((id) => byId.has(id))
    .map((id) => {
      const row = byId.get(id)!;
      return `${envelopeJson({ id: row.id, tenant: row.tenant, name: row.name, publishedAt: row.published_at, payloadJson: row.payload })}\n`;
    })
    .join('');
}

test('many pages of small events, in member order (not publication order)', async () => {
  const events = Array.from({ length: 2_500 }, (_, i) => event(JSON.stringify({ id: `o-${i}`, n: i })));
  await createIngestWriter(database().db, 'acme').write(events);
  const members = events.map((e) => e.id).reverse();
  const text = await objectText(members);
  expect(text).toBe(await expectedText(members));
  expect(text.split('\n')).toHaveLength(2_501);
});

test('escapes, multi-byte text, a payload larger than a page, microseconds and dates before 2000, a pruned member', async () => {
  const events = [
    event(JSON.stringify({ note: 'Köln "quoted" \\ back\\slash ✓ 😀', tab: '\t', line: 'a\nb', control: '\u0001' })),
    event(JSON.stringify({ blob: 'ü'.repeat(800_000) })),
    event('{}'),
    event('{"id":"o-1"}'),
  ];
  await createIngestWriter(database().db, 'acme').write(events);
  await sql`update events set published_at = '2026-11-30 10:00:00.123999+00' where id = ${events[2]!.id}`.execute(
    database().db,
  );
  await sql`update events set published_at = '1999-12-31 23:59:59.999999+00' where id = ${events[3]!.id}`.execute(
    database().db,
  );
  const members = [events[0]!.id, randomUUID(), events[1]!.id, events[2]!.id, events[3]!.id];
  const text = await objectText(members);
  expect(text).toBe(await expectedText(members));
  expect(text).toContain('"published_at":"2026-11-30T10:00:00.123Z"');
  expect(text).toContain('"published_at":"1999-12-31T23:59:59.999Z"');
  expect(text.split('\n').map((line) => (line ? JSON.parse(line).payload : null))[0].note).toBe(
    'Köln "quoted" \\ back\\slash ✓ 😀',
  );
});
