import { expect, test } from 'bun:test';
import { PlatformSimulator } from '../../src/simulator/generator.ts';

const simulated = new PlatformSimulator(42).next(5_000);

test('every event names a catalog type and carries an id in its payload', () => {
  for (const event of simulated) {
    expect(event.name).toMatch(/^[a-z_]+\.[a-z_]+$/);
    expect(typeof event.payload.id).toBe('string');
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
  }
  expect(new Set(simulated.map((event) => event.id)).size).toBe(simulated.length);
});

test('orders move through their lifecycle in order, with consistent ids', () => {
  const seenOrders = new Set<string>();
  const opened = new Set<string>();
  const completed = new Set<string>();
  for (const event of simulated) {
    const payload = event.payload as { id: string; order_id?: string };
    if (event.name === 'order.created') seenOrders.add(payload.id);
    else if (event.name.startsWith('order.')) expect(seenOrders.has(payload.id)).toBe(true);
    if (event.name === 'order.opened') opened.add(payload.id);
    if (event.name === 'order.completed') completed.add(payload.id);
    if (payload.order_id) expect(seenOrders.has(payload.order_id), `${event.name} of an unknown order`).toBe(true);
    if (event.name === 'fulfillment_request.assigned') expect(opened.has(payload.order_id!)).toBe(true);
    if (event.name === 'return.processed') expect(completed.has(payload.order_id!)).toBe(true);
  }
  expect(completed.size).toBeGreaterThan(100);
});

test('the stream mixes the whole catalog: lifecycles, cancellations, returns, refunds and inventory', () => {
  const names = new Set(simulated.map((event) => event.name));
  for (const name of [
    'order.created',
    'order.opened',
    'order.completed',
    'order.cancelled',
    'fulfillment_request.assigned',
    'fulfillment_request.items_completed',
    'fulfillment_request.items_failed',
    'return.processed',
    'refund_request.issued',
    'invoice.created',
    'payment_account.amount_authorized',
    'payment_account.amount_refunded',
    'inventory_transaction.items_received',
    'inventory_count.items_counted',
  ]) {
    expect(names.has(name), name).toBe(true);
  }
});

test('a seed repeats the same stream', () => {
  const strip = (events: typeof simulated) => events.map(({ name, payload }) => ({ name, id: payload.id }));
  expect(strip(new PlatformSimulator(7).next(300))).toEqual(strip(new PlatformSimulator(7).next(300)));
});
