import { beforeAll, describe, expect, test } from 'bun:test';
import { listenForWake } from '../../src/db/wake.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { envelope, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
let token: string;

beforeAll(async () => {
  app = createTestApp(database());
  token = await tokenWith(database().db, 'publish_events');
});

async function publish(events: unknown[]) {
  const response = await app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(events),
  });
  expect(response.status).toBe(202);
}

/** integration id → the event names it has deliveries for, sorted. */
async function deliveredNames(eventIds: string[]) {
  const rows = await database()
    .db.selectFrom('deliveries')
    .select(['integration_id', 'event_name', 'status', 'domain_entity_id'])
    .where('event_id', 'in', eventIds)
    .execute();
  const byIntegration: Record<string, string[]> = {};
  for (const row of rows) {
    byIntegration[row.integration_id] ??= [];
    byIntegration[row.integration_id]!.push(row.event_name);
  }
  for (const names of Object.values(byIntegration)) names.sort();
  return { byIntegration, rows };
}

describe('fan-out at ingest', () => {
  test('each event gets one pending delivery per integration that wants it', async () => {
    const hour = 3_600_000;
    await webhookIntegration(database(), { id: 'all-events' });
    await webhookIntegration(database(), { id: 'orders-only', filter: { entities: ['order'] } });
    await webhookIntegration(database(), { id: 'assigned-only', filter: { events: ['fulfillment_request.assigned'] } });
    await webhookIntegration(database(), {
      id: 'returns-and-invoices',
      filter: { entities: ['return'], events: ['invoice.created'] },
    });
    await webhookIntegration(database(), { id: 'paused-one', filter: { entities: ['order'] } });
    await database().db.updateTable('integrations').set({ status: 'stopped' }).where('id', '=', 'paused-one').execute();
    await webhookIntegration(database(), { id: 'deleted-one' });
    await database()
      .db.updateTable('integrations')
      .set({ deleted_at: new Date() })
      .where('id', '=', 'deleted-one')
      .execute();
    await webhookIntegration(database(), {
      id: 'ended-one',
      integrationType: 'temporary',
      startsAt: new Date(Date.now() - 2 * hour),
      endsAt: new Date(Date.now() - hour),
    });
    await webhookIntegration(database(), { id: 'future-one', startsAt: new Date(Date.now() + hour) });

    const events = [
      envelope('order.created', { id: 'o-1' }),
      envelope('fulfillment_request.assigned', { id: 'fr-1', order_id: 'o-1' }),
      envelope('fulfillment_request.items_completed', { id: 'fr-1', order_id: 'o-1' }),
      envelope('return.processed', { id: 'r-1', order_id: 'o-1' }),
      envelope('invoice.created', { id: 'i-1', order_id: 'o-1' }),
    ];
    await publish(events);

    const { byIntegration, rows } = await deliveredNames(events.map((event) => event.id));
    expect(byIntegration).toEqual({
      'all-events': [
        'fulfillment_request.assigned',
        'fulfillment_request.items_completed',
        'invoice.created',
        'order.created',
        'return.processed',
      ],
      'orders-only': ['order.created'],
      'assigned-only': ['fulfillment_request.assigned'],
      'returns-and-invoices': ['invoice.created', 'return.processed'],
      'paused-one': ['order.created'],
    });
    expect(rows.every((row) => row.status === 'pending' && row.domain_entity_id === 'o-1')).toBe(true);
  });

  test('a resent event queues nothing twice', async () => {
    const event = envelope('order.opened', { id: 'o-2' });
    await publish([event]);
    await publish([event]);
    const { rows } = await deliveredNames([event.id]);
    expect(rows.filter((row) => row.integration_id === 'all-events')).toHaveLength(1);
  });
});

describe('replay from a past starts_at', () => {
  test('a new integration gets every stored matching event published since its start, and nothing older', async () => {
    const now = Date.now();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    const old = envelope('refund_request.issued', { order_id: 'o-old' }, { published_at: at(120) });
    const recent = envelope('refund_request.issued', { order_id: 'o-new' }, { published_at: at(60) });
    const latest = envelope('refund_request.issued', { order_id: 'o-newest' }, { published_at: at(1) });
    const unwanted = envelope('order.created', {}, { published_at: at(30) });
    await publish([old, recent, latest, unwanted]);

    const { replayed } = await webhookIntegration(database(), {
      id: 'refund-replay',
      startsAt: new Date(now - 90 * 60_000),
      filter: { entities: ['refund_request'] },
    });
    expect(replayed).toBe(2);
    const rows = await database()
      .db.selectFrom('deliveries')
      .select(['event_id', 'status', 'domain_entity_id'])
      .where('integration_id', '=', 'refund-replay')
      .orderBy('published_at')
      .execute();
    expect(rows).toEqual([
      { event_id: recent.id, status: 'pending', domain_entity_id: 'o-new' },
      { event_id: latest.id, status: 'pending', domain_entity_id: 'o-newest' },
    ]);
    const log = await database()
      .db.selectFrom('integration_logs')
      .selectAll()
      .where('integration_id', '=', 'refund-replay')
      .execute();
    expect(log).toMatchObject([{ action: 'started', reason: 'Integration created', actor: 'test@example.com' }]);
  });
});

describe('waking the delivery loops', () => {
  test('a commit that queues deliveries notifies the integrations; one that queues none stays silent', async () => {
    const wakes: (string[] | 'all')[] = [];
    const stop = await listenForWake(database(), (ids) => wakes.push(ids));
    try {
      await webhookIntegration(database(), {
        id: 'wake-me',
        filter: { events: ['inventory_transaction.asn_created'] },
      });
      await Bun.sleep(100);
      wakes.length = 0;

      await publish([envelope('inventory_transaction.asn_created')]);
      const deadline = Date.now() + 3_000;
      while (wakes.length === 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(wakes).toHaveLength(1);
      expect(wakes[0]).toContain('wake-me');
      expect(wakes[0]).toContain('all-events');

      wakes.length = 0;
      await database().db.updateTable('integrations').set({ deleted_at: new Date() }).execute();
      await publish([envelope('inventory_transaction.asn_created')]);
      await Bun.sleep(300);
      expect(wakes).toEqual([]);
    } finally {
      await stop();
    }
  });
});
