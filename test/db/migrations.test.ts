import { describe, expect, test } from 'bun:test';
import { sql } from 'kysely';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FileMigrationProvider, Migrator } from 'kysely/migration';
import { MIGRATIONS_FOLDER, migrateToLatest, pendingMigrations } from '../../src/db/migrate.ts';
import { createTestDatabase, tableNames, useTestDatabase, usingPostgres } from '../helpers/database.ts';
import { testSecrets } from '../helpers/fixtures.ts';
import { updateIntegration } from '../../src/integrations/integrations.service.ts';
import { claimDueDeliveries } from '../../src/delivery/deliveries.repo.ts';
import { setIntegrationStatus } from '../../src/delivery/integration-status.ts';

const testDatabase = useTestDatabase();

/** The catalog of SPEC §1. */
const SPEC_CATALOG = {
  order: ['created', 'opened', 'completed', 'cancelled', 'items_cancelled', 'items_swapped', 'shipped'],
  fulfillment_request: ['assigned', 'items_completed', 'items_failed', 'items_ready_for_handover'],
  return: ['processed'],
  invoice: ['created'],
  payment_account: ['amount_authorized', 'amount_refunded'],
  refund_request: ['issued'],
  inventory_transaction: [
    'items_received',
    'transfer_order_created',
    'items_ready_for_handover',
    'asn_created',
    'adjustment_created',
  ],
  inventory_count: ['items_counted'],
};

describe(`migrations on ${usingPostgres ? 'PostgreSQL' : 'PGlite'}`, () => {
  test('create the whole data model', async () => {
    expect(await tableNames(testDatabase())).toEqual([
      'access_tokens',
      'api_tokens',
      'deliveries',
      'delivery_attempts',
      'delivery_minutes',
      'deployment_settings',
      'event_types',
      'events',
      'integration_logs',
      'integrations',
      'kysely_migration',
      'kysely_migration_lock',
      'login_attempts',
      'notification_attempts',
      'notification_channels',
      'notification_sends',
      'notifications',
      's3_batch_attempts',
      's3_batches',
      'sessions',
      'users',
    ]);
  });

  test('re-running them is a no-op', async () => {
    expect(await pendingMigrations(testDatabase().db)).toEqual([]);
    expect(await migrateToLatest(testDatabase().db)).toEqual([]);
    expect(await migrateToLatest(testDatabase().db)).toEqual([]);
  });

  test('seed the full catalog of SPEC §1 with domain-entity rules', async () => {
    const rows = await testDatabase().db.selectFrom('event_types').selectAll().orderBy('name').execute();
    const expected = Object.entries(SPEC_CATALOG)
      .flatMap(([entity, moments]) => moments.map((moment) => `${entity}.${moment}`))
      .sort();
    expect(rows.map((row) => row.name)).toEqual(expected);

    const byName = new Map(rows.map((row) => [row.name, row]));
    expect(byName.get('order.created')).toMatchObject({ domain_entity_type: 'order', domain_entity_id_field: 'id' });
    for (const name of [
      'fulfillment_request.assigned',
      'return.processed',
      'invoice.created',
      'refund_request.issued',
    ]) {
      expect(byName.get(name)).toMatchObject({ domain_entity_type: 'order', domain_entity_id_field: 'order_id' });
    }
    expect(byName.get('order.shipped')).toMatchObject({ deprecated: true, replaced_by: 'order.completed' });
    expect(rows.filter((row) => row.deprecated).map((row) => row.name)).toEqual(['order.shipped']);
  });

  test('index the two hot paths', async () => {
    const { rows } = await sql<{ indexname: string; indexdef: string }>`
      select indexname, indexdef from pg_indexes where tablename = 'deliveries' order by indexname`.execute(
      testDatabase().db,
    );
    const definitions = Object.fromEntries(rows.map((row) => [row.indexname, row.indexdef]));
    expect(definitions.deliveries_due).toContain("(integration_id, next_attempt_at) WHERE (status = 'pending'::text)");
    expect(definitions.deliveries_by_domain_entity).toContain(
      '(integration_id, domain_entity_id, published_at DESC, event_id DESC)',
    );
    expect(definitions.deliveries_by_time).toContain('(integration_id, published_at DESC, event_id DESC)');
  });
});

describe('constraints refuse bad rows at the database', () => {
  const integration = {
    id: 'erp-netsuite',
    integration_type: 'permanent' as const,
    target_kind: 'webhook' as const,
    callback_url: 'https://erp.example.com/hook',
    signing_secret_enc: 'v1:x',
  };

  async function refused(run: () => Promise<unknown>): Promise<string> {
    try {
      await run();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the database to refuse the row');
  }

  test('integration ids: shape and reserved words', async () => {
    for (const id of ['ab', 'Upper-Case', '-leading', 'new', 'overview', 'x'.repeat(65)]) {
      expect(
        await refused(() =>
          testDatabase()
            .db.insertInto('integrations')
            .values({ ...integration, id })
            .execute(),
        ),
      ).toContain('integrations_id_shape');
    }
  });

  test('a temporary integration needs an end after its start', async () => {
    const values = { ...integration, id: 'temp-one', integration_type: 'temporary' as const };
    expect(await refused(() => testDatabase().db.insertInto('integrations').values(values).execute())).toContain(
      'integrations_temporary_has_end',
    );
    expect(
      await refused(() =>
        testDatabase()
          .db.insertInto('integrations')
          .values({ ...values, starts_at: '2026-11-30T10:00:00Z', ends_at: '2026-11-30T09:00:00Z' })
          .execute(),
      ),
    ).toContain('integrations_window_order');
  });

  test('exactly one target with its required fields', async () => {
    expect(
      await refused(() =>
        testDatabase()
          .db.insertInto('integrations')
          .values({ ...integration, id: 'no-url', callback_url: null })
          .execute(),
      ),
    ).toContain('integrations_webhook_target');
    expect(
      await refused(() =>
        testDatabase()
          .db.insertInto('integrations')
          .values({ ...integration, id: 'both-targets', s3_bucket: 'b', s3_region: 'eu-west-1' })
          .execute(),
      ),
    ).toContain('integrations_webhook_target');
    expect(
      await refused(() =>
        testDatabase()
          .db.insertInto('integrations')
          .values({
            ...integration,
            id: 's3-no-keys',
            target_kind: 's3',
            callback_url: null,
            s3_bucket: 'b',
            s3_region: 'r',
          })
          .execute(),
      ),
    ).toContain('integrations_s3_target');
  });

  test('a delivery cannot be queued twice', async () => {
    const event = {
      id: '0b9f5a4e-8a43-4c55-9a55-3c8a3f7d1e01',
      tenant: 'default',
      name: 'order.created',
      entity: 'order',
      published_at: '2026-11-30T10:00:00Z',
      payload: '{"id":"o-1"}',
      size_bytes: 100,
    };

    await testDatabase().db.insertInto('integrations').values(integration).execute();
    const delivery = {
      integration_id: integration.id,
      event_id: event.id,
      event_name: 'order.created',
      published_at: event.published_at,
    };
    await testDatabase().db.insertInto('deliveries').values(delivery).execute();
    expect(await refused(() => testDatabase().db.insertInto('deliveries').values(delivery).execute())).toContain(
      'deliveries_pkey',
    );
    const queued = await testDatabase()
      .db.insertInto('deliveries')
      .values(delivery)
      .onConflict((oc) => oc.columns(['integration_id', 'event_id']).doNothing())
      .returning('event_id')
      .execute();
    expect(queued).toEqual([]);
  });

  test('deleting an integration removes its deliveries, attempts and logs', async () => {
    const id = 'to-delete';
    await testDatabase()
      .db.insertInto('integrations')
      .values({ ...integration, id })
      .execute();
    const eventId = '0b9f5a4e-8a43-4c55-9a55-3c8a3f7d1e02';
    await testDatabase()
      .db.insertInto('deliveries')
      .values({ integration_id: id, event_id: eventId, event_name: 'order.created', published_at: new Date() })
      .execute();
    await testDatabase()
      .db.insertInto('delivery_attempts')
      .values({
        integration_id: id,
        event_id: eventId,
        attempted_at: new Date(),
        duration_ms: 5,
        outcome: 'rejected',
        status_code: 422,
      })
      .execute();
    await testDatabase()
      .db.insertInto('integration_logs')
      .values({ integration_id: id, action: 'started', reason: 'created', actor: 'system' })
      .execute();

    await testDatabase().db.deleteFrom('integrations').where('id', '=', id).execute();
    for (const table of ['deliveries', 'delivery_attempts', 'integration_logs'] as const) {
      const left = await testDatabase()
        .db.selectFrom(table)
        .select('integration_id')
        .where('integration_id', '=', id)
        .execute();
      expect(left, table).toEqual([]);
    }
  });
});

describe('20261130_03: S3 batch members move onto the batch', () => {
  test('a batch sealed under the old layout keeps its members, in publication order', async () => {
    const behind = await createTestDatabase();
    try {
      const migrator = new Migrator({
        db: behind.db,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
      });
      expect((await migrator.migrateTo('20261130_02_event_catalog')).error).toBeUndefined();
      // The old layout: members marked by deliveries.batch_id.
      await sql`insert into integrations (id, integration_type, target_kind, s3_bucket, s3_region, s3_access_key_id, s3_secret_access_key_enc, signing_secret_enc)
        values ('old-lake', 'permanent', 's3', 'lake', 'us-east-1', 'AK', 'v1:x', 'v1:x')`.execute(behind.db);
      const batchId = '00000000-0000-4000-8000-000000000001';
      await sql`insert into s3_batches (id, integration_id, object_key, event_count, byte_count) values (${batchId}, 'old-lake', 'k', 3, 300)`.execute(
        behind.db,
      );
      const members: [string, string][] = [
        ['00000000-0000-4000-8000-00000000000c', '2026-11-30T10:00:00Z'],
        ['00000000-0000-4000-8000-00000000000a', '2026-11-30T10:00:01Z'],
        ['00000000-0000-4000-8000-00000000000b', '2026-11-30T10:00:01Z'],
      ];
      for (const [id, at] of [...members].reverse()) {
        await sql`insert into deliveries (integration_id, event_id, event_name, published_at, batch_id) values ('old-lake', ${id}, 'order.created', ${at}, ${batchId})`.execute(
          behind.db,
        );
      }
      await sql`insert into deliveries (integration_id, event_id, event_name, published_at) values ('old-lake', '00000000-0000-4000-8000-0000000000ff', 'order.created', now())`.execute(
        behind.db,
      );

      await migrateToLatest(behind.db);
      const { rows } = await sql<{
        member_ids: string[];
      }>`select member_ids::text[] as member_ids from s3_batches where id = ${batchId}`.execute(behind.db);
      expect(rows[0]!.member_ids).toEqual(members.map(([id]) => id));
      const stillMarked = await behind.db
        .selectFrom('deliveries')
        .select('event_id')
        .where('batch_id', 'is not', null)
        .execute();
      expect(stillMarked).toEqual([]); // pending members are found through the batch now
      const { rows: indexes } = await sql<{
        indexname: string;
      }>`select indexname from pg_indexes where tablename = 'deliveries'`.execute(behind.db);
      expect(indexes.map((index) => index.indexname)).not.toContain('deliveries_by_batch');
    } finally {
      await behind.close();
    }
  }, 60_000);
});

describe('20261201_01: access tokens', () => {
  test('users and API tokens written before it can hold access tokens; deleting the holder removes them', async () => {
    const behind = await createTestDatabase();
    try {
      const migrator = new Migrator({
        db: behind.db,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
      });
      expect((await migrator.migrateTo('20261130_03_s3_batch_members')).error).toBeUndefined();
      const {
        rows: [user],
      } = await sql<{
        id: string;
      }>`insert into users (email, password_hash, permissions) values ('old@example.com', 'x', '{view_tools}') returning id`.execute(
        behind.db,
      );
      const {
        rows: [apiToken],
      } = await sql<{
        id: string;
      }>`insert into api_tokens (name, token_hash, token_prefix, permissions) values ('old', 'h', 'tw_abc', '{view_tools}') returning id`.execute(
        behind.db,
      );

      await migrateToLatest(behind.db);
      await sql`insert into access_tokens (token_hash, user_id, expires_at) values ('a', ${user!.id}, now() + interval '1 hour')`.execute(
        behind.db,
      );
      await sql`insert into access_tokens (token_hash, api_token_id, expires_at) values ('b', ${apiToken!.id}, now() + interval '1 hour')`.execute(
        behind.db,
      );
      await expect(
        sql`insert into access_tokens (token_hash, user_id, api_token_id, expires_at) values ('c', ${user!.id}, ${apiToken!.id}, now())`.execute(
          behind.db,
        ),
      ).rejects.toThrow(/access_tokens_one_holder/);
      await sql`delete from users`.execute(behind.db);
      await sql`delete from api_tokens`.execute(behind.db);
      expect(await behind.db.selectFrom('access_tokens').select('token_hash').execute()).toEqual([]);
    } finally {
      await behind.close();
    }
  }, 60_000);
});

describe('20261201_02: S3 attempt outcomes in the webhook vocabulary', () => {
  test("attempts recorded as 'permanent' become 'interrupt'; the old word is refused from then on", async () => {
    const behind = await createTestDatabase();
    try {
      const migrator = new Migrator({
        db: behind.db,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
      });
      expect((await migrator.migrateTo('20261201_01_access_tokens')).error).toBeUndefined();
      await sql`insert into integrations (id, integration_type, target_kind, s3_bucket, s3_region, s3_access_key_id, s3_secret_access_key_enc, signing_secret_enc)
        values ('old-lake', 'permanent', 's3', 'lake', 'us-east-1', 'AK', 'v1:x', 'v1:x')`.execute(behind.db);
      const batchId = '00000000-0000-4000-8000-000000000002';
      await sql`insert into s3_batches (id, integration_id, object_key, event_count, byte_count) values (${batchId}, 'old-lake', 'k', 1, 100)`.execute(
        behind.db,
      );
      for (const outcome of ['success', 'retry', 'permanent']) {
        await sql`insert into s3_batch_attempts (batch_id, attempted_at, duration_ms, outcome) values (${batchId}, now(), 1, ${outcome})`.execute(
          behind.db,
        );
      }

      await migrateToLatest(behind.db);
      const { rows } = await sql<{ outcome: string }>`select outcome from s3_batch_attempts order by id`.execute(
        behind.db,
      );
      expect(rows.map((row) => row.outcome)).toEqual(['success', 'retry', 'interrupt']);
      await expect(
        sql`insert into s3_batch_attempts (batch_id, attempted_at, duration_ms, outcome) values (${batchId}, now(), 1, 'permanent')`.execute(
          behind.db,
        ),
      ).rejects.toThrow(/s3_batch_attempts_outcome_known/);
    } finally {
      await behind.close();
    }
  }, 60_000);
});

describe('20261201_03: ordered delivery', () => {
  test('integrations and events written before it: unordered, no sequence; switched to ordered, their pending deliveries line up', async () => {
    const behind = await createTestDatabase();
    try {
      const migrator = new Migrator({
        db: behind.db,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
      });
      expect((await migrator.migrateTo('20261201_02_s3_outcome_vocabulary')).error).toBeUndefined();
      await sql`insert into integrations (id, integration_type, target_kind, callback_url, signing_secret_enc)
        values ('old-erp', 'permanent', 'webhook', 'https://erp.example.com/hook', 'v1:x')`.execute(behind.db);
      // Two events of one order published at the same instant, the later id first in ingest.
      const at = new Date(Date.now() - 60_000);
      const ids = ['00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-0000000000b1'];
      for (const id of ids) {
        await sql`insert into events (id, tenant, name, entity, domain_entity_type, domain_entity_id, published_at, payload, size_bytes)
          values (${id}, 'default', 'order.created', 'order', 'order', 'o-1', ${at}, '{}', 2)`.execute(behind.db);
        await sql`insert into deliveries (integration_id, event_id, event_name, domain_entity_type, domain_entity_id, published_at)
          values ('old-erp', ${id}, 'order.created', 'order', 'o-1', ${at})`.execute(behind.db);
      }

      await migrateToLatest(behind.db);
      const integration = await behind.db
        .selectFrom('integrations')
        .select('ordering')
        .where('id', '=', 'old-erp')
        .executeTakeFirstOrThrow();
      expect(integration.ordering).toBe('unordered');
      const old = await behind.db.selectFrom('events').select('sequence').execute();
      expect(old.map((row) => row.sequence)).toEqual([null, null]);

      await updateIntegration(behind.db, testSecrets, 'old-erp', { ordering: 'by_domain_entity' });
      const claimed = await claimDueDeliveries(behind.db, {
        limits: new Map([['old-erp', 10]]),
        owner: 'w',
        now: new Date(),
        leaseMs: 60_000,
      });
      // Without a sequence, the tie is broken by the event id.
      expect(claimed.map((delivery) => delivery.event_id)).toEqual([ids[1]!]);
    } finally {
      await behind.close();
    }
  }, 60_000);
});

describe('20261201_04: S3 compression', () => {
  test('an S3 integration made with gzip before it is gzip after; one without is none', async () => {
    const behind = await createTestDatabase();
    try {
      const migrator = new Migrator({
        db: behind.db,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
      });
      expect((await migrator.migrateTo('20261201_03_ordered_delivery')).error).toBeUndefined();
      for (const [id, gzip] of [
        ['old-zipped', true],
        ['old-plain', false],
      ] as const) {
        await sql`insert into integrations (id, integration_type, target_kind, s3_bucket, s3_region, s3_access_key_id, s3_secret_access_key_enc, signing_secret_enc, s3_gzip)
          values (${id}, 'permanent', 's3', 'lake', 'us-east-1', 'AK', 'v1:x', 'v1:x', ${gzip})`.execute(behind.db);
      }
      await migrateToLatest(behind.db);
      const rows = await behind.db.selectFrom('integrations').select(['id', 's3_compression']).orderBy('id').execute();
      expect(rows).toEqual([
        { id: 'old-plain', s3_compression: 'none' },
        { id: 'old-zipped', s3_compression: 'gzip' },
      ]);
    } finally {
      await behind.close();
    }
  }, 60_000);
});

describe('20261201_05: S3 formats and key templates', () => {
  test('integrations made before are NDJSON under NewStore’s key; a batch sealed before is one object, compressed as its key says', async () => {
    const behind = await createTestDatabase();
    try {
      const migrator = new Migrator({
        db: behind.db,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
      });
      expect((await migrator.migrateTo('20261201_04_s3_compression')).error).toBeUndefined();
      await sql`insert into integrations (id, integration_type, target_kind, s3_bucket, s3_region, s3_access_key_id, s3_secret_access_key_enc, signing_secret_enc, s3_compression)
        values ('old-lake', 'permanent', 's3', 'lake', 'us-east-1', 'AK', 'v1:x', 'v1:x', 'zstd')`.execute(behind.db);
      const batches = [
        [
          '00000000-0000-4000-8000-000000000001',
          'p/acme/1-data-00000000-0000-4000-8000-000000000001.export.zst',
          'sealed',
          3,
        ],
        [
          '00000000-0000-4000-8000-000000000002',
          'p/acme/2-data-00000000-0000-4000-8000-000000000002.export.gz',
          'uploaded',
          5,
        ],
        [
          '00000000-0000-4000-8000-000000000003',
          'p/acme/3-data-00000000-0000-4000-8000-000000000003.export',
          'sealed',
          1,
        ],
      ] as const;
      for (const [id, key, status, count] of batches) {
        await sql`insert into s3_batches (id, integration_id, object_key, status, event_count, byte_count)
          values (${id}, 'old-lake', ${key}, ${status}, ${count}, ${count * 100})`.execute(behind.db);
      }
      await migrateToLatest(behind.db);

      const integration = await behind.db
        .selectFrom('integrations')
        .select(['s3_format', 's3_key_template', 's3_compression'])
        .where('id', '=', 'old-lake')
        .executeTakeFirstOrThrow();
      expect(integration).toEqual({ s3_format: 'ndjson', s3_key_template: null, s3_compression: 'zstd' });
      const rows = await behind.db
        .selectFrom('s3_batches')
        .select(['object_key', 'format', 'compression', 'object_keys', 'object_event_counts'])
        .orderBy('id')
        .execute();
      expect(rows).toEqual(
        batches.map(([, key, , count]) => ({
          object_key: key,
          format: 'ndjson',
          compression: key.endsWith('.zst') ? 'zstd' : key.endsWith('.gz') ? 'gzip' : 'none',
          object_keys: [key],
          object_event_counts: [count],
        })),
      );
    } finally {
      await behind.close();
    }
  }, 60_000);
});

describe('20261202_01: notifications', () => {
  test('integrations written before it are watched from a clean state, and their system stops are told', async () => {
    const behind = await createTestDatabase();
    try {
      const migrator = new Migrator({
        db: behind.db,
        provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
      });
      expect((await migrator.migrateTo('20261201_05_s3_formats_and_keys')).error).toBeUndefined();
      expect(await tableNames(behind)).not.toContain('notifications');
      await sql`insert into integrations (id, integration_type, target_kind, callback_url, signing_secret_enc, failing_since)
        values ('old-hook', 'permanent', 'webhook', 'https://erp.example.com/in', 'v1:x', now())`.execute(behind.db);
      await sql`insert into integration_logs (integration_id, action, reason, actor)
        values ('old-hook', 'started', 'Created', 'ops@example.com')`.execute(behind.db);

      await migrateToLatest(behind.db);
      expect(
        await behind.db
          .selectFrom('integrations')
          .select(['id', 'status', 'backlog_delayed_since', 'failure_digest_at'])
          .execute(),
      ).toEqual([{ id: 'old-hook', status: 'running', backlog_delayed_since: null, failure_digest_at: null }]);

      const channel = await behind.db
        .insertInto('notification_channels')
        .values({ kind: 'email', email_to: ['ops@example.com'] })
        .returning('id')
        .executeTakeFirstOrThrow();
      await setIntegrationStatus(behind.db, 'old-hook', 'stopped', 'Callback answered HTTP 410 Gone', 'system', {
        type: 'integration.stopped',
      });
      const sends = await behind.db
        .selectFrom('notification_sends as s')
        .innerJoin('notifications as n', 'n.id', 's.notification_id')
        .select(['s.channel_id', 's.status', 'n.type', 'n.integration_id', 'n.reason'])
        .execute();
      expect(sends).toEqual([
        {
          channel_id: channel.id,
          status: 'pending',
          type: 'integration.stopped',
          integration_id: 'old-hook',
          reason: 'Callback answered HTTP 410 Gone',
        },
      ]);
      // A webhook channel needs its URL and secret; an email channel its recipients.
      await expect(
        behind.db.insertInto('notification_channels').values({ kind: 'webhook' }).execute(),
      ).rejects.toThrow();
      await expect(behind.db.insertInto('notification_channels').values({ kind: 'email' }).execute()).rejects.toThrow();

      // And back: down() leaves the previous schema, which takes the migration again.
      expect((await migrator.migrateTo('20261201_05_s3_formats_and_keys')).error).toBeUndefined();
      expect(await tableNames(behind)).not.toContain('notification_channels');
      expect(await migrateToLatest(behind.db)).toContain('20261202_01_notifications');
    } finally {
      await behind.close();
    }
  }, 60_000);
});
