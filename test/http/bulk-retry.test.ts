import { beforeAll, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { loadConfig } from '../../src/config.ts';
import { createWebhookLoop } from '../../src/delivery/webhook-loop.ts';
import { createLogger } from '../../src/lib/log.ts';
import { signedIn, testSecrets, webhookIntegration } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
let user: Awaited<ReturnType<typeof signedIn>>;

beforeAll(async () => {
  app = createTestApp(database());
  user = await signedIn(database().db, ['view_tools']);
  await webhookIntegration(database(), { id: 'erp' });
  const statuses = ['failure', 'failure', 'failure', 'rejected', 'rejected', 'success', 'pending'] as const;
  for (const [i, status] of statuses.entries()) {
    await database()
      .db.insertInto('deliveries')
      .values({
        integration_id: 'erp',
        event_id: randomUUID(),
        event_name: 'order.created',
        domain_entity_id: i === 0 ? 'ord-special' : `ord-${i}`,
        published_at: new Date(),
        status,
        attempts: 11,
      })
      .execute();
  }
});

test('bulk retry: the confirmation says how many; confirming schedules exactly those again', async () => {
  const list = await (
    await app.request('/tools/event-stream/erp/events?status=failure', { headers: { cookie: user.cookie } })
  ).text();
  expect(list).toContain('href="/tools/event-stream/erp/events/retry?status=failure"');

  const confirm = await (
    await app.request('/tools/event-stream/erp/events/retry?status=failure', { headers: { cookie: user.cookie } })
  ).text();
  expect(confirm).toContain('Retry 3 deliveries?');
  const narrow = await (
    await app.request('/tools/event-stream/erp/events/retry?status=failure&domain_entity_id=ord-special', {
      headers: { cookie: user.cookie },
    })
  ).text();
  expect(narrow).toContain('Retry 1 deliveries?');

  const refused = await app.request('/tools/event-stream/erp/events/retry', {
    method: 'POST',
    headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'status=failure',
  });
  expect(refused.status).toBe(403);

  const done = await app.request('/tools/event-stream/erp/events/retry', {
    method: 'POST',
    headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: `_csrf=${user.csrfToken}&status=failure`,
  });
  expect(done.status).toBe(303);
  expect(done.headers.get('location')).toBe('/tools/event-stream/erp/events?status=pending&retried=3');
  const rows = await database()
    .db.selectFrom('deliveries')
    .select(['status', 'attempts'])
    .where('integration_id', '=', 'erp')
    .execute();
  const count = (status: string) => rows.filter((row) => row.status === status).length;
  expect([count('failure'), count('rejected'), count('pending'), count('success')]).toEqual([0, 2, 4, 1]);
  expect(rows.filter((row) => row.status === 'pending' && row.attempts === 0)).toHaveLength(3);

  // The attempts that follow are recorded as the user's, not the schedule's.
  const loop = createWebhookLoop({
    db: database().db,
    session: await database().session(),
    secrets: testSecrets,
    config: loadConfig({ ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_TIMEOUT_MS: '500' }),
    log: createLogger('error', () => {}),
    now: () => new Date(Date.now() + 1_000),
  });
  await loop.runOnce();
  const attempts = await database()
    .db.selectFrom('delivery_attempts')
    .select('trigger')
    .where('integration_id', '=', 'erp')
    .execute();
  // Four pending deliveries were due: the one that was pending anyway (scheduled) and the three retried.
  expect(attempts).toHaveLength(4);
  expect(attempts.filter((attempt) => attempt.trigger === 'manual')).toHaveLength(3);
});
