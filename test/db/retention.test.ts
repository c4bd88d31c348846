import { expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { createRetention } from '../../src/events/retention.ts';
import { createLogger } from '../../src/lib/log.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { webhookIntegration } from '../helpers/fixtures.ts';

const database = useTestDatabase();
const DAY = 86_400_000;

async function seed(count: number, ageDays: number, integrations: string[]) {
  const publishedAt = new Date(Date.now() - ageDays * DAY);
  const ids = Array.from({ length: count }, () => randomUUID());
  await database()
    .db.insertInto('events')
    .values(
      ids.map((id) => ({
        id,
        tenant: 'default',
        name: 'order.created',
        entity: 'order',
        published_at: publishedAt,
        payload: '{}',
        size_bytes: 2,
      })),
    )
    .execute();
  for (const integrationId of integrations) {
    await database()
      .db.insertInto('deliveries')
      .values(
        ids.map((id, i) => ({
          integration_id: integrationId,
          event_id: id,
          event_name: 'order.created',
          published_at: publishedAt,
          status: i % 2 ? 'success' : 'pending',
        })),
      )
      .execute();
    await database()
      .db.insertInto('delivery_attempts')
      .values(
        ids.map((id) => ({
          integration_id: integrationId,
          event_id: id,
          attempted_at: publishedAt,
          duration_ms: 3,
          outcome: 'retry',
          status_code: 503,
        })),
      )
      .execute();
  }
  return ids;
}

async function count(table: 'events' | 'deliveries' | 'delivery_attempts') {
  const row = await database()
    .db.selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

test('deletes events, deliveries and attempts older than RETENTION_DAYS in bounded rounds, keeping the rest', async () => {
  await webhookIntegration(database(), { id: 'keeper-a', startsAt: new Date(Date.now() - 30 * DAY) });
  await webhookIntegration(database(), { id: 'keeper-b', startsAt: new Date(Date.now() - 30 * DAY) });
  const old = await seed(57, 15, ['keeper-a', 'keeper-b']);
  const recent = await seed(13, 13, ['keeper-a', 'keeper-b']);

  const logged: Record<string, unknown>[] = [];
  const retention = createRetention({
    db: database().db,
    retentionDays: 14,
    batchSize: 10,
    log: createLogger('info', (line) => logged.push(JSON.parse(line))),
  });
  const outcome = await retention.runOnce();

  expect(outcome).toEqual({ deliveries: 114, pendingDeliveries: 58, events: 57, batches: 0 });
  expect(await count('events')).toBe(13);
  expect(await count('deliveries')).toBe(26);
  expect(await count('delivery_attempts')).toBe(26);
  const left = await database().db.selectFrom('events').select('id').execute();
  expect(left.map((row) => row.id).sort()).toEqual(recent.sort());
  expect(old.some((id) => left.some((row) => row.id === id))).toBe(false);
  expect(logged.find((line) => line.msg === 'retention pruned deliveries that were never delivered')).toMatchObject({
    pending: 58,
  });

  // Nothing left to do: a second run deletes nothing.
  expect(await retention.runOnce()).toEqual({ deliveries: 0, pendingDeliveries: 0, events: 0, batches: 0 });
});

test('honours an injected clock', async () => {
  const retention = createRetention({
    db: database().db,
    retentionDays: 14,
    log: createLogger('error', () => {}),
    now: () => new Date(Date.now() + 2 * DAY),
  });
  const outcome = await retention.runOnce();
  expect(outcome.events).toBe(13);
  expect(await count('events')).toBe(0);
  expect(await count('delivery_attempts')).toBe(0);
});

test('sweeps sessions that can no longer be used and expired access tokens, keeping live ones', async () => {
  const { createSession, SESSION_IDLE_MS } = await import('../../src/auth/sessions.repo.ts');
  const { signedIn } = await import('../helpers/fixtures.ts');
  const { userId } = await signedIn(database().db, ['view_tools']);
  const now = new Date();
  const idle = await createSession(database().db, {
    userId,
    address: '127.0.0.1',
    userAgent: 'old',
    now: new Date(now.getTime() - SESSION_IDLE_MS - 60_000),
  });
  const live = await createSession(database().db, { userId, address: '127.0.0.1', userAgent: 'live', now });
  await database()
    .db.insertInto('access_tokens')
    .values([
      { token_hash: 'expired', user_id: userId, expires_at: new Date(now.getTime() - 1_000) },
      { token_hash: 'live', user_id: userId, expires_at: new Date(now.getTime() + 3_600_000) },
    ])
    .execute();
  await createRetention({
    db: database().db,
    retentionDays: 14,
    log: createLogger('error', () => {}),
    now: () => now,
  }).runOnce();
  const sessions = await database()
    .db.selectFrom('sessions')
    .select('user_agent')
    .where('user_id', '=', userId)
    .execute();
  expect(sessions.map((session) => session.user_agent).sort()).toEqual(['live', 'test']); // signedIn()'s own session is live too
  expect(idle.token).not.toBe(live.token);
  const tokens = await database()
    .db.selectFrom('access_tokens')
    .select('token_hash')
    .where('user_id', '=', userId)
    .execute();
  expect(tokens.map((token) => token.token_hash)).toEqual(['live']);
});

test('notifications past the cutoff go with their sends, unless one is still pending', async () => {
  const old = new Date(Date.now() - 20 * DAY);
  const channel = await database()
    .db.insertInto('notification_channels')
    .values({ kind: 'email', email_to: ['ops@example.com'] })
    .returning('id')
    .executeTakeFirstOrThrow();
  const notices: string[] = [];
  for (const [age, status] of [
    [old, 'sent'],
    [old, 'pending'],
    [new Date(), 'sent'],
  ] as const) {
    const { id } = await database()
      .db.insertInto('notifications')
      .values({
        type: 'integration.stopped',
        integration_id: 'x',
        reason: 'r',
        details: '{}',
        path: '/',
        occurred_at: age,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await database()
      .db.insertInto('notification_sends')
      .values({ channel_id: channel.id, notification_id: id, status })
      .execute();
    notices.push(id);
  }
  await createRetention({ db: database().db, retentionDays: 14, log: createLogger('error', () => {}) }).runOnce();
  const left = await database().db.selectFrom('notifications').select('id').execute();
  expect(left.map((row) => row.id).sort()).toEqual([notices[1]!, notices[2]!].sort());
  expect(await database().db.selectFrom('notification_sends').select('status').execute()).toHaveLength(2);
});
