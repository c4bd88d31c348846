import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { Webhook } from 'standardwebhooks';
import type { DatabaseSession } from '../../src/db/session.ts';
import { setIntegrationStatus } from '../../src/integrations/integrations.service.ts';
import { rotateSigningSecret, signingSecretOf } from '../../src/integrations/integrations.service.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, testSecrets, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';
import { webhookLoopForRounds } from '../helpers/webhook-rounds.ts';

/*
 * The webhook engine against real HTTP receivers on loopback, one
 * deterministic round (runOnce) at a time, with a clock the test moves.
 */

const database = useTestDatabase();
const receiver = new Receiver();
let app: TestApp;
let token: string;
let clock = Date.now();
const now = () => new Date(clock);
const ENV = { ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '10,20', WEBHOOK_TIMEOUT_MS: '300' };

let session: DatabaseSession;
const loop = (env: Record<string, string> = ENV) => webhookLoopForRounds(database(), session, env, now);

beforeAll(async () => {
  session = await database().session();
  app = createTestApp(database());
  token = await tokenWith(database().db, 'publish_events');
});
beforeEach(() => {
  // Deliveries become due at the database's now(): start each test's clock after that.
  clock = Date.now() + 1_000;
});
afterEach(async () => {
  receiver.received.length = 0;
  receiver.respond = () => new Response('ok');
  await database().db.deleteFrom('integrations').execute();
  await database().db.deleteFrom('events').execute();
});
afterAll(() => receiver.stop());

async function publish(...events: ReturnType<typeof envelope>[]) {
  const response = await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(events),
  });
  expect(response.status).toBe(202);
  // New deliveries are due from the database's now(); keep the test's clock past it.
  clock = Math.max(clock, Date.now() + 1_000);
}

async function delivery(integrationId: string, eventId: string) {
  return database()
    .db.selectFrom('deliveries')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('event_id', '=', eventId)
    .executeTakeFirstOrThrow();
}

async function attempts(integrationId: string) {
  return database()
    .db.selectFrom('delivery_attempts')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .orderBy('id')
    .execute();
}

test('with more running integrations than the default limits have room for, every one is claimed for (the 17th and later used to wait for good)', async () => {
  const ids = Array.from({ length: 20 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
  for (const id of ids)
    await webhookIntegration(database(), { id, target: { kind: 'webhook', callbackUrl: receiver.url(`/${id}`) } });
  await publish(envelope('order.created', { id: 'o-1' }, { published_at: new Date(Date.now() + 5_000).toISOString() }));
  const worker = loop({ ...ENV });
  await worker.runOnce();
  await worker.runOnce();
  expect(receiver.received.map((request) => request.path.slice(1)).sort()).toEqual(ids);
});

describe('a delivery', () => {
  test('200: success — the exact envelope, signed, with the API key; the receiver verifies it as a consumer would', async () => {
    await webhookIntegration(database(), {
      id: 'erp',
      target: { kind: 'webhook', callbackUrl: receiver.url(), apiKey: 'erp-key-1' },
    });
    // Published inside the integration's window, which starts now.
    const publishedAt = new Date(Date.now() + 5_000).toISOString();
    const event = envelope('order.created', { id: 'o-1', total: 12.5 }, { published_at: publishedAt });
    await publish(event);
    expect(await loop().runOnce()).toBe(1);

    const [request] = receiver.received;
    expect(request!.body).toBe(
      `{"id":"${event.id}","tenant":"default","name":"order.created","published_at":"${publishedAt}","payload":${JSON.stringify(event.payload)}}`,
    );
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers.authorization).toBe('Bearer erp-key-1');
    expect(request!.headers['user-agent']).toMatch(/^Tideway\/\d+\.\d+\.\d+$/);
    expect(request!.headers['webhook-id']).toBe(event.id);
    const integration = await database()
      .db.selectFrom('integrations')
      .selectAll()
      .where('id', '=', 'erp')
      .executeTakeFirstOrThrow();
    const verified = new Webhook(signingSecretOf(integration, testSecrets)).verify(request!.body, {
      'webhook-id': request!.headers['webhook-id']!,
      'webhook-timestamp': request!.headers['webhook-timestamp']!,
      'webhook-signature': request!.headers['webhook-signature']!,
    });
    expect(verified).toMatchObject({ id: event.id, name: 'order.created' });

    expect(await delivery('erp', event.id)).toMatchObject({
      status: 'success',
      attempts: 1,
      last_status_code: 200,
      lease_owner: null,
    });
    expect(await attempts('erp')).toMatchObject([
      { outcome: 'success', status_code: 200, response_body: 'ok', trigger: 'scheduled' },
    ]);
    expect(integration).toMatchObject({ delivered_count: '1', failing_since: null });
    expect(integration.last_delivery_at).not.toBeNull();
  });

  test('after a rotation, both the new and the old secret sign for 24 hours', async () => {
    await webhookIntegration(database(), { id: 'rotated', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    const before = await database()
      .db.selectFrom('integrations')
      .selectAll()
      .where('id', '=', 'rotated')
      .executeTakeFirstOrThrow();
    const oldSecret = signingSecretOf(before, testSecrets);
    const newSecret = (await rotateSigningSecret(database().db, testSecrets, 'rotated'))!;
    await publish(envelope('order.opened'));
    await loop().runOnce();
    const [request] = receiver.received;
    expect(request!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [oldSecret, newSecret])
      expect(() => new Webhook(secret).verify(request!.body, request!.headers)).not.toThrow();

    // After the overlap, only the new secret signs.
    await database()
      .db.updateTable('integrations')
      .set({ previous_signing_secret_expires_at: new Date(clock - 1) })
      .where('id', '=', 'rotated')
      .execute();
    receiver.received.length = 0;
    await publish(envelope('order.opened'));
    await loop().runOnce();
    expect(receiver.received[0]!.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(() => new Webhook(oldSecret).verify(receiver.received[0]!.body, receiver.received[0]!.headers)).toThrow();
  });

  test('500 then 200: retried on schedule, then success, with the attempt history', async () => {
    await webhookIntegration(database(), { id: 'flaky', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    const event = envelope('order.opened');
    await publish(event);
    receiver.respond = () => new Response('database is down', { status: 500 });
    const worker = loop();
    await worker.runOnce();
    const first = await delivery('flaky', event.id);
    expect(first).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500 });
    expect(first.next_attempt_at.getTime() - clock).toBe(10_000);
    expect(
      (
        await database()
          .db.selectFrom('integrations')
          .select('failing_since')
          .where('id', '=', 'flaky')
          .executeTakeFirstOrThrow()
      ).failing_since,
    ).not.toBeNull();

    expect(await worker.runOnce()).toBe(0); // not due yet
    clock += 11_000;
    receiver.respond = () => new Response('thanks', { status: 201 });
    expect(await worker.runOnce()).toBe(1);
    expect(await delivery('flaky', event.id)).toMatchObject({ status: 'success', attempts: 2 });
    expect(
      (await attempts('flaky')).map((attempt) => [attempt.outcome, attempt.status_code, attempt.response_body]),
    ).toEqual([
      ['retry', 500, 'database is down'],
      ['success', 201, 'thanks'],
    ]);
    expect(
      (
        await database()
          .db.selectFrom('integrations')
          .select('failing_since')
          .where('id', '=', 'flaky')
          .executeTakeFirstOrThrow()
      ).failing_since,
    ).toBeNull();
  });

  test('after the last retry: failure', async () => {
    await webhookIntegration(database(), { id: 'dead', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    const event = envelope('order.opened');
    await publish(event);
    receiver.respond = () => new Response('no', { status: 503 });
    const worker = loop();
    for (let i = 0; i < 3; i++) {
      await worker.runOnce();
      clock += 60_000;
    }
    expect(await delivery('dead', event.id)).toMatchObject({ status: 'failure', attempts: 3 });
    expect((await attempts('dead')).map((attempt) => attempt.outcome)).toEqual(['retry', 'retry', 'failure']);
    expect(receiver.received).toHaveLength(3);
  });

  test('a timeout is retried no sooner than a minute later', async () => {
    await webhookIntegration(database(), { id: 'slow', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    const event = envelope('order.opened');
    await publish(event);
    receiver.respond = async () => {
      await Bun.sleep(1_000);
      return new Response('late');
    };
    await loop().runOnce();
    const row = await delivery('slow', event.id);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
    expect(row.next_attempt_at.getTime() - clock).toBe(60_000);
    expect((await attempts('slow'))[0]).toMatchObject({
      outcome: 'retry',
      error_class: 'timeout',
      error_message: 'No answer within 300 ms',
    });
  });

  test('429 with Retry-After waits as asked', async () => {
    await webhookIntegration(database(), { id: 'busy', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    const event = envelope('order.opened');
    await publish(event);
    receiver.respond = () => new Response('slow down', { status: 429, headers: { 'retry-after': '120' } });
    await loop().runOnce();
    expect((await delivery('busy', event.id)).next_attempt_at.getTime() - clock).toBe(120_000);
  });

  test('422: a rejected event with the response; the stream goes on', async () => {
    await webhookIntegration(database(), { id: 'picky', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    const refused = envelope('order.opened', { id: 'bad' });
    const fine = envelope('order.opened', { id: 'good' });
    await publish(refused, fine);
    receiver.respond = (request) =>
      request.body.includes('"bad"')
        ? Response.json({ error: 'unknown customer' }, { status: 422 })
        : new Response('ok');
    await loop().runOnce();
    expect(await delivery('picky', refused.id)).toMatchObject({ status: 'rejected', last_status_code: 422 });
    expect(await delivery('picky', fine.id)).toMatchObject({ status: 'success' });
    expect((await attempts('picky')).find((attempt) => attempt.event_id === refused.id)).toMatchObject({
      outcome: 'rejected',
      response_body: '{"error":"unknown customer"}',
    });
    expect(
      (
        await database()
          .db.selectFrom('integrations')
          .select('status')
          .where('id', '=', 'picky')
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('running');
  });

  test('a redirect is not followed', async () => {
    await webhookIntegration(database(), {
      id: 'moved',
      target: { kind: 'webhook', callbackUrl: receiver.url('/old') },
    });
    const event = envelope('order.opened');
    await publish(event);
    receiver.respond = (request) =>
      request.path === '/old' ? Response.redirect(receiver.url('/new'), 302) : new Response('ok');
    await loop().runOnce();
    expect(receiver.received.map((request) => request.path)).toEqual(['/old']);
    expect(await delivery('moved', event.id)).toMatchObject({ status: 'rejected', last_status_code: 302 });
  });
});

describe('stopping an integration', () => {
  test.each([401, 403, 404, 410])(
    '%i stops the integration with the status in the reason; the delivery resumes after a start',
    async (status) => {
      await webhookIntegration(database(), {
        id: `gone-${status}`,
        target: { kind: 'webhook', callbackUrl: receiver.url() },
      });
      const event = envelope('order.opened');
      await publish(event);
      // More than fit in its slots: the ones not yet sent must not be sent to a receiver that refuses.
      const others = Array.from({ length: 40 }, () => envelope('order.opened'));
      await publish(...others);
      receiver.respond = () => new Response('nope', { status });
      const worker = loop();
      await worker.runOnce();
      const integration = await database()
        .db.selectFrom('integrations')
        .select('status')
        .where('id', '=', `gone-${status}`)
        .executeTakeFirstOrThrow();
      expect(integration.status).toBe('stopped');
      const [, log] = await database()
        .db.selectFrom('integration_logs')
        .selectAll()
        .where('integration_id', '=', `gone-${status}`)
        .orderBy('id')
        .execute();
      expect(log).toMatchObject({ action: 'stopped', actor: 'system' });
      expect(log!.reason).toStartWith(`Callback answered HTTP ${status} `);
      expect(await delivery(`gone-${status}`, event.id)).toMatchObject({ status: 'pending', attempts: 0 });
      // At most the integration's slots were in flight when the refusals came back.
      expect(receiver.received.length).toBeLessThanOrEqual(16);

      // Stopped: nothing is sent.
      receiver.respond = () => new Response('ok');
      receiver.received.length = 0;
      expect(await worker.runOnce()).toBe(0);
      await setIntegrationStatus(
        database().db,
        `gone-${status}`,
        'running',
        'fixed the credentials',
        'ops@example.com',
      );
      while ((await worker.runOnce()) > 0);
      expect(await delivery(`gone-${status}`, event.id)).toMatchObject({ status: 'success', attempts: 1 });
      const left = await database()
        .db.selectFrom('deliveries')
        .select('status')
        .where('integration_id', '=', `gone-${status}`)
        .where('status', '<>', 'success')
        .execute();
      expect(left).toEqual([]);
    },
  );

  test('without ALLOW_PRIVATE_TARGETS a loopback callback is refused, saying which setting allows it', async () => {
    await webhookIntegration(database(), { id: 'inward', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    await publish(envelope('order.opened'));
    await loop({ WEBHOOK_TIMEOUT_MS: '300' }).runOnce();
    expect(receiver.received).toEqual([]);
    const [attempt] = await attempts('inward');
    expect(attempt).toMatchObject({ outcome: 'interrupt', error_class: 'blocked_address' });
    const log = await database()
      .db.selectFrom('integration_logs')
      .select('reason')
      .where('integration_id', '=', 'inward')
      .where('action', '=', 'stopped')
      .executeTakeFirstOrThrow();
    expect(log.reason).toContain('ALLOW_PRIVATE_TARGETS=true');
  });

  test('a paused integration holds its deliveries; started again, it delivers the backlog', async () => {
    await webhookIntegration(database(), { id: 'held', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    await setIntegrationStatus(database().db, 'held', 'stopped', 'maintenance', 'ops@example.com');
    await publish(envelope('order.opened'), envelope('order.created'), envelope('order.completed'));
    const worker = loop();
    expect(await worker.runOnce()).toBe(0);
    await setIntegrationStatus(database().db, 'held', 'running', 'maintenance over', 'ops@example.com');
    expect(await worker.runOnce()).toBe(3);
    expect(receiver.received).toHaveLength(3);
  });

  test('replay: an integration created with a past start receives the stored events through the same path', async () => {
    const past = envelope(
      'invoice.created',
      { order_id: 'o-9' },
      { published_at: new Date(Date.now() - 3_600_000).toISOString() },
    );
    await publish(past);
    await webhookIntegration(database(), {
      id: 'late-joiner',
      startsAt: new Date(Date.now() - 2 * 3_600_000),
      filter: { entities: ['invoice'] },
      target: { kind: 'webhook', callbackUrl: receiver.url() },
    });
    expect(await loop().runOnce()).toBe(1);
    expect(receiver.received.map((request) => request.headers['webhook-id'])).toEqual([past.id]);
  });

  test('behind a slow receiver, claimed deliveries that waited too long are handed back, not sent on an ageing lease', async () => {
    await webhookIntegration(database(), { id: 'sluggish', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    const events = Array.from({ length: 4 }, () => envelope('order.opened'));
    await publish(...events);
    receiver.respond = async () => {
      await Bun.sleep(200);
      return new Response('ok');
    };
    // One at a time, 300 ms timeout: a lease of 5.6 s leaves 300 ms to wait before starting.
    const worker = loop({ ...ENV, DELIVERY_CONCURRENCY_PER_INTEGRATION: '1' });
    expect(await worker.runOnce()).toBe(4);
    expect(receiver.received.length).toBeLessThan(4);
    const held = await database()
      .db.selectFrom('deliveries')
      .select(['status', 'lease_owner'])
      .where('integration_id', '=', 'sluggish')
      .where('status', '=', 'pending')
      .execute();
    expect(held.length).toBe(4 - receiver.received.length);
    // Handed back: due at once for any worker, with a fresh lease.
    expect(held.every((row) => row.lease_owner === null)).toBe(true);

    while ((await worker.runOnce()) > 0);
    const ids = receiver.received.map((request) => request.headers['webhook-id']);
    expect(ids.sort()).toEqual(events.map((event) => event.id).sort());
  });

  test('failing continuously for the configured period stops it', async () => {
    await webhookIntegration(database(), { id: 'hopeless', target: { kind: 'webhook', callbackUrl: receiver.url() } });
    await database()
      .db.updateTable('integrations')
      .set({ failing_since: new Date(clock - 25 * 3_600_000) })
      .where('id', '=', 'hopeless')
      .execute();
    await loop().housekeeping();
    const log = await database()
      .db.selectFrom('integration_logs')
      .select(['reason', 'actor'])
      .where('integration_id', '=', 'hopeless')
      .where('action', '=', 'stopped')
      .executeTakeFirstOrThrow();
    expect(log.reason).toStartWith('Deliveries failed continuously for 24 h');
    expect(log.actor).toBe('system');
  });

  test('a temporary integration stops itself, "completed", once everything before its end is delivered', async () => {
    const start = new Date(clock - 60_000);
    await webhookIntegration(database(), {
      id: 'campaign',
      integrationType: 'temporary',
      startsAt: start,
      endsAt: new Date(clock + 1_000),
      target: { kind: 'webhook', callbackUrl: receiver.url() },
    });
    await publish(envelope('order.created', {}, { published_at: new Date(clock - 1_000).toISOString() }));
    const worker = loop();
    clock += 2_000;
    await worker.housekeeping();
    expect(
      (
        await database()
          .db.selectFrom('integrations')
          .select('status')
          .where('id', '=', 'campaign')
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('running');
    await worker.runOnce();
    await worker.housekeeping();
    const log = await database()
      .db.selectFrom('integration_logs')
      .select(['reason'])
      .where('integration_id', '=', 'campaign')
      .where('action', '=', 'stopped')
      .executeTakeFirstOrThrow();
    expect(log.reason).toBe('completed');
  });
});
