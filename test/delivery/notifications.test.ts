import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config.ts';
import type { DatabaseSession } from '../../src/db/session.ts';
import { setIntegrationStatus } from '../../src/delivery/integration-status.ts';
import { createS3Loop } from '../../src/delivery/s3-loop.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { createLogger } from '../../src/lib/log.ts';
import { createNotificationLoop } from '../../src/notifications/notification-loop.ts';
import { watchIntegrations } from '../../src/notifications/watch.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, testSecrets, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { FakeS3 } from '../helpers/s3.ts';
import { SmtpSink } from '../helpers/smtp.ts';
import { webhookLoopForRounds } from '../helpers/webhook-rounds.ts';

/*
 * Notifications end to end in one process: a consumer's 401 stops its
 * integration, and the stop is told, once, to a signed webhook (checked
 * with the standardwebhooks library), a Slack webhook and by email through
 * a real SMTP server on loopback; the backlog watch; the digest; retries
 * while the mail server is down.
 */

const database = useTestDatabase();
const consumer = new Receiver();
const ops = new Receiver();
const slack = new Receiver();
const smtp = new SmtpSink();
let app: TestApp;
let session: DatabaseSession;
let token: string;
let env: Record<string, string>;
const secrets: Record<string, string> = {};

const quiet = createLogger('error', () => {});
const notifier = (retryScheduleMs: number[] = [100, 100]) =>
  createNotificationLoop({
    db: database().db,
    config: loadConfig(env),
    secrets: testSecrets,
    log: quiet,
    retryScheduleMs,
  });

async function api(method: string, path: string, body?: unknown) {
  return app.request(`/api/v1/org/notification-channels${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

beforeAll(async () => {
  await smtp.start();
  env = {
    ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_RETRY_SCHEDULE: '1,1',
    WEBHOOK_TIMEOUT_MS: '2000',
    SMTP_URL: smtp.url(),
    MAIL_FROM: 'tideway@example.com',
    PUBLIC_URL: 'https://tideway.example.com',
    BACKLOG_ALERT_AFTER_MS: '3000',
  };
  session = await database().session();
  app = createTestApp(database(), { env });
  token = await tokenWith(database().db, 'publish_events', 'view_tools');
  for (const [name, body] of [
    ['json', { kind: 'webhook', url: ops.url('/ops') }],
    ['slack', { kind: 'webhook', url: slack.url('/slack'), format: 'slack' }],
  ] as const) {
    const response = await api('POST', '', body);
    expect(response.status).toBe(201);
    secrets[name] = ((await response.json()) as { signing_secret: string }).signing_secret;
  }
  expect((await api('POST', '', { kind: 'email', to: ['ops@example.com', 'oncall@example.com'] })).status).toBe(201);
});
afterEach(async () => {
  ops.received.length = 0;
  slack.received.length = 0;
  smtp.mails.length = 0;
  await database().db.deleteFrom('notifications').execute();
  await database().db.deleteFrom('integrations').execute();
  await database().db.deleteFrom('events').execute();
});
afterAll(async () => {
  consumer.stop();
  ops.stop();
  slack.stop();
  await smtp.stop();
});

/** The notices the ops receiver got, each verified against its channel's secret. */
function verified(received: Received[], secret: string) {
  return received.map(
    (request) => new Webhook(secret).verify(request.body, request.headers) as Record<string, unknown>,
  );
}

describe('integration.stopped', () => {
  test('a 401 from the consumer is told exactly once by signed webhook, Slack and email, naming the integration and "HTTP 401"', async () => {
    await webhookIntegration(database(), { id: 'erp', target: { kind: 'webhook', callbackUrl: consumer.url() } });
    consumer.respond = () => new Response('no', { status: 401 });
    const publish = await app.request('/api/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(envelope('order.created')),
    });
    expect(publish.status).toBe(202);
    const worker = webhookLoopForRounds(database(), session, env, () => new Date(Date.now() + 1_000));
    await worker.runOnce();
    await worker.runOnce();
    expect((await database().db.selectFrom('integrations').select('status').executeTakeFirstOrThrow()).status).toBe(
      'stopped',
    );

    const loop = notifier();
    expect(await loop.runOnce()).toBe(3);
    expect(await loop.runOnce()).toBe(0);

    const [notice, ...more] = verified(ops.received, secrets.json!);
    expect(more).toEqual([]);
    expect(notice).toEqual({
      type: 'integration.stopped',
      id: expect.any(String),
      occurred_at: expect.any(String),
      integration_id: 'erp',
      reason: 'Callback answered HTTP 401 Unauthorized',
      details: { cause: 'interrupt', status_code: 401, error_class: null },
      url: 'https://tideway.example.com/tools/event-stream/erp/logs',
    });
    expect(ops.received[0]!.headers['webhook-id']).toBe(notice!.id as string);

    const [slackNotice, ...moreSlack] = verified(slack.received, secrets.slack!);
    expect(moreSlack).toEqual([]);
    expect(Object.keys(slackNotice!)).toEqual(['text']);
    expect(slackNotice!.text).toContain('Integration erp stopped: Callback answered HTTP 401 Unauthorized');
    expect(slackNotice!.text).toContain('<https://tideway.example.com/tools/event-stream/erp/logs|Open in Tideway>');

    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails;
    expect(mail!.from).toBe('tideway@example.com');
    expect(mail!.to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(mail!.subject).toBe('[Tideway] Integration erp stopped: Callback answered HTTP 401 Unauthorized');
    expect(mail!.text).toContain('Type: integration.stopped');
    expect(mail!.text).toContain(`Notification id: ${notice!.id}`);
    expect(mail!.text).toContain('Open: https://tideway.example.com/tools/event-stream/erp/logs');

    const sends = await database().db.selectFrom('notification_sends').selectAll().execute();
    expect(sends.map((send) => [send.status, send.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
      ['sent', 1],
    ]);
    expect(await database().db.selectFrom('notification_attempts').select('ok').execute()).toHaveLength(3);
  });

  test('a stop by a user is not told; a temporary integration completing is', async () => {
    await webhookIntegration(database(), {
      id: 'paused-by-hand',
      target: { kind: 'webhook', callbackUrl: consumer.url() },
    });
    await setIntegrationStatus(
      database().db,
      'paused-by-hand',
      'stopped',
      'Stopped through the API',
      'ops@example.com',
    );
    await setIntegrationStatus(database().db, 'paused-by-hand', 'running', 'again', 'ops@example.com');
    await setIntegrationStatus(database().db, 'paused-by-hand', 'stopped', 'completed', 'system', {
      type: 'integration.completed',
    });
    await notifier().runOnce();
    expect(verified(ops.received, secrets.json!).map((notice) => [notice.type, notice.reason])).toEqual([
      ['integration.completed', 'completed'],
    ]);
  });
});

describe('integration.stopped by S3', () => {
  test('a permanent S3 error is told with what S3 answered and a link', async () => {
    const s3 = new FakeS3();
    await s3.start();
    try {
      await s3.createBucket('lake');
      await createIntegration(
        database().db,
        testSecrets,
        {
          id: 'lake',
          integrationType: 'permanent',
          target: {
            kind: 's3',
            accessKeyId: 'NOT-A-KEY',
            secretAccessKey: 'S3RVER',
            region: 'us-east-1',
            bucket: 'lake',
            keyPrefix: 'lake',
            endpoint: s3.endpoint,
          },
        },
        'test',
      );
      await app.request('/api/v1/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify([envelope('order.created'), envelope('order.created')]),
      });
      const batches = createS3Loop({
        db: database().db,
        copyOut: database().copyOut,
        secrets: testSecrets,
        config: loadConfig({ ...env, S3_BATCH_INTERVAL_MS: '60000' }),
        log: quiet,
        now: () => new Date(Date.now() + 61_000),
      });
      await batches.runOnce();
      await notifier().runOnce();
      const [notice, ...more] = verified(ops.received, secrets.json!);
      expect(more).toEqual([]);
      expect(notice).toMatchObject({
        type: 'integration.stopped',
        integration_id: 'lake',
        reason: expect.stringContaining('S3 upload refused (InvalidAccessKeyId)'),
        details: { cause: 's3_permanent_error', error_code: 'InvalidAccessKeyId', bucket: 'lake' },
        url: 'https://tideway.example.com/tools/event-stream/lake/logs',
      });
    } finally {
      await s3.dispose();
    }
  }, 30_000);
});

describe('the backlog watch', () => {
  test('a delivery pending past BACKLOG_ALERT_AFTER_MS is told once as delayed, and once as recovered when it is delivered', async () => {
    await webhookIntegration(database(), { id: 'slow', target: { kind: 'webhook', callbackUrl: consumer.url() } });
    const event = envelope('order.created', {}, { published_at: new Date().toISOString() });
    await app.request('/api/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(event),
    });
    const config = loadConfig(env);
    const soon = Date.now();
    await watchIntegrations(database().db, config, new Date(soon + 1_000));
    await watchIntegrations(database().db, config, new Date(soon + 4_000));
    await watchIntegrations(database().db, config, new Date(soon + 5_000));
    const row = await database().db.selectFrom('integrations').selectAll().executeTakeFirstOrThrow();
    expect(row.backlog_delayed_since).not.toBeNull();

    await database().db.updateTable('deliveries').set({ status: 'success' }).execute();
    await watchIntegrations(database().db, config, new Date(soon + 6_000));
    await watchIntegrations(database().db, config, new Date(soon + 7_000));
    await notifier().runOnce();
    const notices = verified(ops.received, secrets.json!).sort((a, b) =>
      String(a.occurred_at).localeCompare(String(b.occurred_at)),
    );
    expect(notices.map((notice) => notice.type)).toEqual([
      'integration.backlog_delayed',
      'integration.backlog_recovered',
    ]);
    expect(notices[0]!.url).toBe('https://tideway.example.com/tools/event-stream/slow/events?status=pending');
    expect(smtp.mails.map((mail) => mail.subject)).toEqual(
      expect.arrayContaining([expect.stringContaining('Integration slow is delayed')]),
    );
  });
});

describe('deliveries.failed', () => {
  test('a digest of final failures, at most once an hour per integration, counting only those since the last', async () => {
    await webhookIntegration(database(), { id: 'flaky', target: { kind: 'webhook', callbackUrl: consumer.url() } });
    const events = [envelope('order.created'), envelope('order.created'), envelope('order.created')];
    await app.request('/api/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(events),
    });
    const t0 = Date.now();
    const failAt = (ids: string[], at: number) =>
      database()
        .db.updateTable('deliveries')
        .set({ status: 'failure', last_attempted_at: new Date(at) })
        .where('event_id', 'in', ids)
        .execute();
    await failAt([events[0]!.id, events[1]!.id], t0);
    const config = loadConfig(env);
    await watchIntegrations(database().db, config, new Date(t0 + 1_000));
    await failAt([events[2]!.id], t0 + 2_000);
    await watchIntegrations(database().db, config, new Date(t0 + 60_000)); // within the hour: nothing
    await watchIntegrations(database().db, config, new Date(t0 + 3_601_000)); // the second digest: the third only
    await watchIntegrations(database().db, config, new Date(t0 + 7_300_000)); // nothing new: nothing
    await notifier().runOnce();
    const digests = verified(ops.received, secrets.json!)
      .filter((notice) => notice.type === 'deliveries.failed')
      .sort((a, b) => String(a.occurred_at).localeCompare(String(b.occurred_at)));
    expect(digests.map((notice) => (notice.details as { count: number }).count).sort()).toEqual([1, 2]);
    const ids = digests.map((notice) => (notice.details as { first_event_ids: string[] }).first_event_ids.sort());
    expect(ids).toEqual(expect.arrayContaining([[events[0]!.id, events[1]!.id].sort(), [events[2]!.id]]));
    expect(digests[0]!.url).toBe('https://tideway.example.com/tools/event-stream/flaky/events?status=failure');
  });
});

describe('retries', () => {
  test('with the mail server down, the email is retried with backoff and sent when it is back; the webhooks are not sent again', async () => {
    await webhookIntegration(database(), { id: 'mailless', target: { kind: 'webhook', callbackUrl: consumer.url() } });
    await smtp.stop();
    await setIntegrationStatus(
      database().db,
      'mailless',
      'stopped',
      'Callback answered HTTP 401 Unauthorized',
      'system',
      {
        type: 'integration.stopped',
      },
    );
    const loop = notifier([300, 300]);
    expect(await loop.runOnce()).toBe(3);
    const email = () =>
      database()
        .db.selectFrom('notification_sends as s')
        .innerJoin('notification_channels as c', 'c.id', 's.channel_id')
        .select(['s.status', 's.attempts', 's.last_error', 's.next_attempt_at'])
        .where('c.kind', '=', 'email')
        .executeTakeFirstOrThrow();
    expect(await email()).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_error: expect.stringContaining('Mail not sent'),
    });
    expect(await loop.runOnce()).toBe(0); // not due yet: backoff
    await smtp.start();
    await Bun.sleep(400);
    expect(await loop.runOnce()).toBe(1);
    expect(await email()).toMatchObject({ status: 'sent', attempts: 2, last_error: null });
    expect(smtp.mails.map((mail) => mail.subject)).toEqual([
      '[Tideway] Integration mailless stopped: Callback answered HTTP 401 Unauthorized',
    ]);
    expect(ops.received).toHaveLength(1);
    const attempts = await database().db.selectFrom('notification_attempts').select('ok').orderBy('id').execute();
    expect(attempts.map((attempt) => attempt.ok).filter((ok) => !ok)).toEqual([false]);
  });

  test('a send that runs out of retries is failed, kept with its attempts', async () => {
    await webhookIntegration(database(), { id: 'nobody', target: { kind: 'webhook', callbackUrl: consumer.url() } });
    ops.respond = () => new Response('down', { status: 503 });
    try {
      await setIntegrationStatus(database().db, 'nobody', 'stopped', 'completed', 'system', {
        type: 'integration.completed',
      });
      const loop = notifier([50]);
      await loop.runOnce();
      await Bun.sleep(100);
      await loop.runOnce();
      const sends = await database()
        .db.selectFrom('notification_sends as s')
        .innerJoin('notification_channels as c', 'c.id', 's.channel_id')
        .select(['s.status', 's.attempts', 's.last_error'])
        .where('c.url', 'like', '%/ops')
        .execute();
      expect(sends).toEqual([{ status: 'failed', attempts: 2, last_error: 'Answered HTTP 503 Service Unavailable' }]);
    } finally {
      ops.respond = () => new Response('ok');
    }
  });
});
