import { expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, usingPostgres } from '../helpers/database.ts';
import { envelope, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';

/*
 * SPEC §2: "an event committed concurrently with the creation of an
 * integration is either delivered to it or provably outside its window".
 * Real concurrency needs several connections, so this runs on Postgres.
 * Expected deliveries are computed here in plain code, independently of the
 * SQL that fans out.
 */

const NAMES = [
  'order.created',
  'order.opened',
  'fulfillment_request.assigned',
  'return.processed',
  'invoice.created',
  'inventory_count.items_counted',
];
const FILTERS = [
  {},
  { entities: ['order'] },
  { events: ['fulfillment_request.assigned', 'invoice.created'] },
  { entities: ['return'], events: ['order.opened'] },
];

test.skipIf(!usingPostgres)(
  'concurrent ingest while integrations are created: every matching event after each start has exactly one delivery',
  async () => {
    const database = await createTestDatabase();
    try {
      const app: TestApp = createTestApp(database);
      const token = await tokenWith(database.db, 'publish_events');
      let ingesting = true;
      let posted = 0;

      const client = async () => {
        while (ingesting) {
          const batch = Array.from({ length: 25 }, (_, i) => envelope(NAMES[(posted + i) % NAMES.length]!));
          const response = await app.request('/api/v1/events', {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify(batch),
          });
          expect(response.status).toBe(202);
          posted += batch.length;
        }
      };
      const clients = Array.from({ length: 6 }, client);

      for (let i = 0; i < 12; i++) {
        await Bun.sleep(40 + Math.random() * 60);
        await webhookIntegration(database, { id: `gap-check-${i}`, filter: FILTERS[i % FILTERS.length] });
      }
      ingesting = false;
      await Promise.all(clients);

      const events = await database.db.selectFrom('events').select(['id', 'name', 'entity', 'published_at']).execute();
      const integrations = await database.db.selectFrom('integrations').selectAll().execute();
      const deliveries = await database.db.selectFrom('deliveries').select(['integration_id', 'event_id']).execute();
      expect(events.length).toBe(posted);

      let checked = 0;
      for (const integration of integrations) {
        const wanted = events
          .filter((event) => event.published_at >= integration.starts_at)
          .filter((event) => {
            const { filter_entities: entities, filter_events: names } = integration;
            return (
              (entities.length === 0 && names.length === 0) ||
              entities.includes(event.entity) ||
              names.includes(event.name)
            );
          })
          .map((event) => event.id)
          .sort();
        const got = deliveries
          .filter((delivery) => delivery.integration_id === integration.id)
          .map((delivery) => delivery.event_id)
          .sort();
        expect(got, `deliveries of ${integration.id}`).toEqual(wanted);
        checked += wanted.length;
      }
      // The race was real: events were ingested before and after each creation.
      expect(checked).toBeGreaterThan(500);
    } finally {
      await database.close();
    }
  },
  60_000,
);
