import { afterAll, beforeAll, expect, test } from 'bun:test';
import type { Server } from 'bun';
import { simulate } from '../../src/simulator/simulate.ts';
import { createTestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { tokenWith, webhookIntegration } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let server: Server<undefined>;
let token: string;

beforeAll(async () => {
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: createTestApp(database()).fetch });
  token = await tokenWith(database().db, 'publish_events');
  await webhookIntegration(database(), { id: 'orders-feed', filter: { entities: ['order'] } });
});
afterAll(() => server.stop(true));

test('the simulator posts its stream at the asked rate over real HTTP, and every event is stored and fanned out', async () => {
  const progress: string[] = [];
  const summary = await simulate(
    { url: `http://127.0.0.1:${server.port}`, token, rate: 400, duration: 1.5, batch: 50, concurrency: 2, seed: 3 },
    (line) => progress.push(line),
  );
  expect(summary.sent).toBe(600);
  expect(summary.accepted).toBe(600);
  expect(summary.failedRequests).toBe(0);
  expect(summary.seconds).toBeGreaterThan(1.4);
  expect(summary.seconds).toBeLessThan(3);
  expect(progress.at(-1)).toStartWith('sent 600 · ');

  const events = await database().db.selectFrom('events').select(['entity']).execute();
  expect(events).toHaveLength(600);
  const orders = events.filter((event) => event.entity === 'order').length;
  const deliveries = await database()
    .db.selectFrom('deliveries')
    .select('event_id')
    .where('integration_id', '=', 'orders-feed')
    .execute();
  expect(deliveries).toHaveLength(orders);
});

test('a wrong token is counted as failed requests, not a crash', async () => {
  const summary = await simulate({
    url: `http://127.0.0.1:${server.port}`,
    token: 'tw_wrong',
    rate: 100,
    duration: 0.3,
    batch: 10,
    concurrency: 1,
    seed: 1,
  });
  expect(summary.failedRequests).toBeGreaterThan(0);
  expect(summary.errors['HTTP 401 Unauthorized']).toBe(summary.failedRequests);
  expect(summary.accepted).toBe(0);
});
