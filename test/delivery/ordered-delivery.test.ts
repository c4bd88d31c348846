import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DatabaseSession } from '../../src/db/session.ts';
import { setIntegrationStatus } from '../../src/integrations/integrations.service.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, signedIn, tokenWith } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';
import { webhookLoopForRounds } from '../helpers/webhook-rounds.ts';

/*
 * Ordered delivery per domain entity, one deterministic round of the
 * webhook engine (runOnce) at a time, against a real receiver, with a
 * clock the test moves.
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
  app = createTestApp(database(), { env: { ALLOW_PRIVATE_TARGETS: 'true' } });
  token = await tokenWith(database().db, 'publish_events', 'view_tools');
});
beforeEach(() => {
  clock = Date.now() + 1_000;
});
afterEach(async () => {
  receiver.received.length = 0;
  receiver.respond = () => new Response('ok');
  await database().db.deleteFrom('integrations').execute();
  await database().db.deleteFrom('events').execute();
});
afterAll(() => receiver.stop());

async function api(method: string, path: string, body?: unknown) {
  return app.request(path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function publish(...events: ReturnType<typeof envelope>[]) {
  const response = await api('POST', '/api/v1/events', events);
  expect(response.status).toBe(202);
  clock = Math.max(clock, Date.now() + 1_000);
}

async function createIntegration(id: string, extra: Record<string, unknown> = {}) {
  const response = await api('POST', '/api/v1/org/integrations/eventstream', {
    id,
    integration_type: 'permanent',
    ordering: 'by_domain_entity',
    // Before the events the tests publish (an hour back at most).
    starts_at: new Date(Date.now() - 3_600_000).toISOString(),
    callback_parameters: { callback_url: receiver.url(`/${id}`) },
    ...extra,
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { ordering: string };
}

const orderEvent = (name: string, order: string, publishedAt = new Date()) =>
  envelope(name, { id: order }, { published_at: publishedAt.toISOString() });

/** What the receiver got, as `name order`, in arrival order. */
const received = () =>
  receiver.received.map((request) => {
    const event = JSON.parse(request.body) as { name: string; payload: { id: string } };
    return `${event.name} ${event.payload.id}`;
  });

describe('the option', () => {
  test('create, read and edit it in the API; S3 integrations refuse it on the field', async () => {
    expect((await createIntegration('erp')).ordering).toBe('by_domain_entity');
    const read = await api('GET', '/api/v1/org/integrations/eventstream/erp');
    expect(((await read.json()) as { ordering: string }).ordering).toBe('by_domain_entity');
    const edited = await api('PATCH', '/api/v1/org/integrations/eventstream/erp', { ordering: 'unordered' });
    expect(edited.status).toBe(200);
    expect(((await edited.json()) as { ordering: string }).ordering).toBe('unordered');

    const s3 = await api('POST', '/api/v1/org/integrations/eventstream', {
      id: 'lake',
      integration_type: 'permanent',
      ordering: 'by_domain_entity',
      s3_parameters: {
        aws_access_key_id: 'AK',
        aws_secret_access_key: 'SK',
        aws_region: 'eu-central-1',
        bucket: 'lake',
      },
    });
    expect(s3.status).toBe(422);
    const problem = (await s3.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors).toContainEqual({
      field: 'ordering',
      message: expect.stringContaining('webhook integrations only'),
    });

    const unknown = await api('PATCH', '/api/v1/org/integrations/eventstream/erp', { ordering: 'fifo' });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(await unknown.json())).toContain('must be unordered or by_domain_entity');
  });

  test('integrations made before it are unordered', async () => {
    const response = await api('POST', '/api/v1/org/integrations/eventstream', {
      id: 'plain',
      integration_type: 'permanent',
      callback_parameters: { callback_url: receiver.url('/plain') },
    });
    expect(((await response.json()) as { ordering: string }).ordering).toBe('unordered');
  });
});

describe('delivery in order per domain entity', () => {
  test('one entity’s events go one at a time in publication order; a retrying head holds back only its own entity', async () => {
    await createIntegration('erp');
    let failures = 0;
    receiver.respond = (request) =>
      request.body.includes('"o-1"') && request.body.includes('order.created') && failures++ === 0
        ? new Response('busy', { status: 503 })
        : new Response('ok');
    const t = Date.now() - 60_000;
    await publish(
      orderEvent('order.created', 'o-1', new Date(t)),
      orderEvent('order.created', 'o-2', new Date(t + 1)),
      orderEvent('order.opened', 'o-1', new Date(t + 2)),
      orderEvent('order.cancelled', 'o-1', new Date(t + 3)),
      orderEvent('order.cancelled', 'o-2', new Date(t + 4)),
      envelope('return.processed', {}, { published_at: new Date(t + 5).toISOString() }),
    );

    // The first of each line, and the event without an entity (not held back).
    await loop().runOnce();
    expect(received().sort()).toEqual([
      'order.created o-1',
      'order.created o-2',
      expect.stringMatching(/^return\.processed /),
    ]);
    await loop().runOnce();
    expect(received().slice(3)).toEqual(['order.cancelled o-2']);
    // o-1's head waits for its retry, and so do the rest of o-1's events.
    expect(await loop().runOnce()).toBe(0);

    // What the pages say meanwhile.
    const user = await signedIn(database().db, ['view_tools']);
    const page = async (path: string) => (await app.request(path, { headers: { cookie: user.cookie } })).text();
    expect(await page('/tools/event-stream/erp/events')).toContain(
      '1 entity waits behind an event being retried (2 deliveries held back).',
    );
    const cancelled = await database()
      .db.selectFrom('deliveries')
      .select(sql<string>`event_id::text`.as('id'))
      .where('event_name', '=', 'order.cancelled')
      .where('domain_entity_id', '=', 'o-1')
      .executeTakeFirstOrThrow();
    const detail = await page(`/tools/event-stream/erp/events/${cancelled.id}`);
    expect(detail).toContain('Waits for');
    expect(detail).toMatch(
      /order\.created<\/a> of the same entity, published [^:]+:\d\d:\d\d[^:]*: retrying \(1 attempt\), next /,
    );
    expect(detail).not.toContain('next attempt');

    clock += 11_000;
    await loop().runOnce();
    await loop().runOnce();
    await loop().runOnce();
    expect(received().slice(4)).toEqual(['order.created o-1', 'order.opened o-1', 'order.cancelled o-1']);
  });

  test('ties in published_at go in ingest order, not id order', async () => {
    await createIntegration('erp');
    const at = new Date(Date.now() - 1_000);
    const events = ['order.created', 'order.opened', 'order.cancelled'].map((name) => orderEvent(name, 'o-7', at));
    // Ids that sort the other way round.
    events[0]!.id = `ffffffff-${randomUUID().slice(9)}` as ReturnType<typeof randomUUID>;
    events[2]!.id = `00000000-${randomUUID().slice(9)}` as ReturnType<typeof randomUUID>;
    await publish(...events);
    for (let round = 0; round < 3; round++) await loop().runOnce();
    expect(received()).toEqual(['order.created o-7', 'order.opened o-7', 'order.cancelled o-7']);
  });

  test('an event published before one already stored goes first (the claim takes only the first in line)', async () => {
    await createIntegration('erp');
    const t = Date.now() - 10_000;
    // It arrives late: stored after the later one, which was first in line until then.
    await publish(orderEvent('order.opened', 'o-1', new Date(t + 1)));
    await publish(orderEvent('order.created', 'o-1', new Date(t)));
    await loop().runOnce();
    expect(received()).toEqual(['order.created o-1']);
    await loop().runOnce();
    expect(received()).toEqual(['order.created o-1', 'order.opened o-1']);
  });

  test('a head that fails for good lets its entity go on; the failure stays', async () => {
    await createIntegration('erp');
    receiver.respond = (request) =>
      request.body.includes('order.created') ? new Response('no', { status: 500 }) : new Response('ok');
    await publish(orderEvent('order.created', 'o-1', new Date(Date.now() - 2)), orderEvent('order.cancelled', 'o-1'));
    await loop({ ...ENV, WEBHOOK_RETRY_SCHEDULE: '10' }).runOnce();
    clock += 11_000;
    await loop({ ...ENV, WEBHOOK_RETRY_SCHEDULE: '10' }).runOnce();
    await loop({ ...ENV, WEBHOOK_RETRY_SCHEDULE: '10' }).runOnce();
    expect(received()).toEqual(['order.created o-1', 'order.created o-1', 'order.cancelled o-1']);
    const statuses = await database()
      .db.selectFrom('deliveries')
      .select(['event_name', 'status'])
      .orderBy('published_at')
      .execute();
    expect(statuses).toEqual([
      { event_name: 'order.created', status: 'failure' },
      { event_name: 'order.cancelled', status: 'success' },
    ]);
  });

  test('a replay (a past start) is ordered too', async () => {
    const t = Date.now() - 60_000;
    await publish(
      orderEvent('order.created', 'o-1', new Date(t)),
      orderEvent('order.opened', 'o-1', new Date(t + 1)),
      orderEvent('order.cancelled', 'o-1', new Date(t + 2)),
      orderEvent('order.created', 'o-2', new Date(t + 3)),
    );
    await createIntegration('replayed', { starts_at: new Date(t - 1_000).toISOString() });
    await loop().runOnce();
    expect(received().sort()).toEqual(['order.created o-1', 'order.created o-2']);
    await loop().runOnce();
    await loop().runOnce();
    expect(received().slice(2)).toEqual(['order.opened o-1', 'order.cancelled o-1']);
  });

  test('switched on while deliveries wait: it applies to those not sent yet; switched off, they all go', async () => {
    await createIntegration('erp', { ordering: 'unordered' });
    await setIntegrationStatus(database().db, 'erp', 'stopped', 'test', 'test');
    const t = Date.now() - 60_000;
    await publish(
      orderEvent('order.created', 'o-1', new Date(t)),
      orderEvent('order.opened', 'o-1', new Date(t + 1)),
      orderEvent('order.cancelled', 'o-1', new Date(t + 2)),
      orderEvent('order.created', 'o-2', new Date(t + 3)),
      orderEvent('order.opened', 'o-2', new Date(t + 4)),
    );
    expect(
      (await api('PATCH', '/api/v1/org/integrations/eventstream/erp', { ordering: 'by_domain_entity' })).status,
    ).toBe(200);
    await setIntegrationStatus(database().db, 'erp', 'running', 'test', 'test');
    await loop().runOnce();
    expect(received().sort()).toEqual(['order.created o-1', 'order.created o-2']);

    expect((await api('PATCH', '/api/v1/org/integrations/eventstream/erp', { ordering: 'unordered' })).status).toBe(
      200,
    );
    await loop().runOnce();
    expect(received().slice(2).sort()).toEqual(['order.cancelled o-1', 'order.opened o-1', 'order.opened o-2']);
  });
});

test('a line whose first delivery was pruned is released by the sweep, not left waiting', async () => {
  await createIntegration('erp');
  await publish(orderEvent('order.created', 'o-1', new Date(Date.now() - 2)), orderEvent('order.cancelled', 'o-1'));
  // Retention removes the first of the line (its event is older than RETENTION_DAYS).
  await database().db.deleteFrom('deliveries').where('event_name', '=', 'order.created').execute();
  expect(await loop().runOnce()).toBe(0);
  await loop().housekeeping();
  await loop().runOnce();
  expect(received()).toEqual(['order.cancelled o-1']);
});
