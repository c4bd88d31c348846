import { randomUUID } from 'node:crypto';

/*
 * A NewStore-shaped stream of platform events. Orders live through their
 * lifecycle — created → opened → payment authorized → fulfillment request
 * assigned → items ready → items completed → invoiced → completed — with
 * cancellations, failed items, returns and refunds along the way, and
 * inventory activity beside them. Ids stay consistent across an order's life,
 * so a simulated order can be followed through View Events by its id.
 */

export interface SimulatedEnvelope {
  id: string;
  name: string;
  published_at: string;
  payload: Record<string, unknown>;
}

/** A small seeded PRNG (mulberry32), so a run can be repeated. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Orders in flight at once; beyond it the stream moves existing orders on. */
const MAX_OPEN_ORDERS = 500;
const STORES = ['store-berlin', 'store-nyc', 'store-london', 'dc-east', 'dc-west'];
const CHANNELS = ['web', 'store', 'app'];
const SKUS = Array.from({ length: 40 }, (_, i) => `SKU-${String(1000 + i * 37)}`);

interface Item {
  product_id: string;
  quantity: number;
  price: number;
}

interface OrderLife {
  orderId: string;
  steps: ((order: OrderLife) => [string, Record<string, unknown>])[];
  items: Item[];
  total: number;
  currency: string;
  fulfillmentId: string;
  paymentAccountId: string;
  location: string;
}

export class PlatformSimulator {
  readonly #orders: OrderLife[] = [];
  readonly #random: () => number;
  #sequence = 0;

  constructor(
    seed = 1,
    readonly now: () => Date = () => new Date(),
  ) {
    this.#random = seededRandom(seed);
  }

  /** The next `count` events of the platform. */
  next(count: number): SimulatedEnvelope[] {
    return Array.from({ length: count }, () => this.#nextOne());
  }

  #pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.#random() * values.length)]!;
  }

  #chance(probability: number): boolean {
    return this.#random() < probability;
  }

  #nextOne(): SimulatedEnvelope {
    const roll = this.#random();
    let name: string;
    let payload: Record<string, unknown>;
    if (roll < 0.06) [name, payload] = this.#inventoryEvent();
    else if (this.#orders.length < 5 || (roll < 0.22 && this.#orders.length < MAX_OPEN_ORDERS))
      [name, payload] = this.#startOrder();
    else {
      const index = Math.floor(this.#random() * this.#orders.length);
      const order = this.#orders[index]!;
      const step = order.steps.shift()!;
      [name, payload] = step(order);
      if (order.steps.length === 0) this.#orders.splice(index, 1);
    }
    return { id: randomUUID(), name, published_at: this.now().toISOString(), payload };
  }

  #id(prefix: string): string {
    this.#sequence++;
    return `${prefix}-${this.#sequence.toString(36).padStart(6, '0')}${Math.floor(this.#random() * 1296).toString(36)}`;
  }

  #startOrder(): [string, Record<string, unknown>] {
    const items = Array.from({ length: 1 + Math.floor(this.#random() * 4) }, () => ({
      product_id: this.#pick(SKUS),
      quantity: 1 + Math.floor(this.#random() * 3),
      price: Math.round(500 + this.#random() * 15_000) / 100,
    }));
    const order: OrderLife = {
      orderId: this.#id('ord'),
      items,
      total: Math.round(items.reduce((sum, item) => sum + item.price * item.quantity, 0) * 100) / 100,
      currency: this.#pick(['EUR', 'USD', 'GBP']),
      fulfillmentId: this.#id('fr'),
      paymentAccountId: this.#id('pa'),
      location: this.#pick(STORES),
      steps: [],
    };
    order.steps = this.#lifecycle();
    this.#orders.push(order);
    return [
      'order.created',
      {
        id: order.orderId,
        channel: this.#pick(CHANNELS),
        customer: { id: this.#id('cus'), email: `shopper${this.#sequence}@example.com` },
        currency: order.currency,
        items: order.items,
        grand_total: order.total,
        shipping_address: {
          country: this.#pick(['DE', 'US', 'GB', 'FR']),
          zip: String(10000 + Math.floor(this.#random() * 89999)),
        },
        placed_at: this.now().toISOString(),
      },
    ];
  }

  /** The rest of an order's life, decided up front. */
  #lifecycle(): OrderLife['steps'] {
    const ref = (order: OrderLife) => ({ order_id: order.orderId });
    const steps: OrderLife['steps'] = [
      (o) => ['order.opened', { id: o.orderId, status: 'open', opened_at: this.now().toISOString() }],
      (o) => [
        'payment_account.amount_authorized',
        { id: o.paymentAccountId, ...ref(o), amount: o.total, currency: o.currency, method: 'card' },
      ],
    ];
    if (this.#chance(0.06)) {
      steps.push((o) => [
        'order.cancelled',
        { id: o.orderId, reason: 'customer_request', cancelled_at: this.now().toISOString() },
      ]);
      return steps;
    }
    steps.push((o) => [
      'fulfillment_request.assigned',
      { id: o.fulfillmentId, ...ref(o), fulfillment_location_id: o.location, items: o.items },
    ]);
    if (this.#chance(0.05)) {
      steps.push((o) => [
        'fulfillment_request.items_failed',
        { id: o.fulfillmentId, ...ref(o), items: o.items.slice(0, 1), reason: 'out_of_stock' },
      ]);
      steps.push((o) => [
        'order.items_cancelled',
        { id: o.orderId, items: o.items.slice(0, 1), reason: 'out_of_stock' },
      ]);
    }
    if (this.#chance(0.03))
      steps.push((o) => ['order.items_swapped', { id: o.orderId, from: o.items[0]!.product_id, to: this.#pick(SKUS) }]);
    steps.push(
      (o) => [
        'fulfillment_request.items_ready_for_handover',
        { id: o.fulfillmentId, ...ref(o), items: o.items, carrier: this.#pick(['DHL', 'UPS', 'FedEx']) },
      ],
      (o) => [
        'fulfillment_request.items_completed',
        { id: o.fulfillmentId, ...ref(o), items: o.items, tracking_code: this.#id('trk') },
      ],
      (o) => ['invoice.created', { id: this.#id('inv'), ...ref(o), amount: o.total, currency: o.currency }],
      (o) => ['order.completed', { id: o.orderId, status: 'completed', completed_at: this.now().toISOString() }],
    );
    if (this.#chance(0.1)) {
      steps.push(
        (o) => [
          'return.processed',
          { id: this.#id('ret'), ...ref(o), items: o.items.slice(0, 1), reason: 'does_not_fit' },
        ],
        (o) => [
          'refund_request.issued',
          { id: this.#id('rr'), ...ref(o), amount: o.items[0]!.price, currency: o.currency },
        ],
        (o) => [
          'payment_account.amount_refunded',
          { id: o.paymentAccountId, ...ref(o), amount: o.items[0]!.price, currency: o.currency },
        ],
      );
    }
    return steps;
  }

  #inventoryEvent(): [string, Record<string, unknown>] {
    const location = this.#pick(STORES);
    const items = Array.from({ length: 1 + Math.floor(this.#random() * 5) }, () => ({
      product_id: this.#pick(SKUS),
      quantity: 1 + Math.floor(this.#random() * 50),
    }));
    if (this.#chance(0.15))
      return ['inventory_count.items_counted', { id: this.#id('cnt'), location_id: location, items }];
    const name = this.#pick([
      'inventory_transaction.items_received',
      'inventory_transaction.adjustment_created',
      'inventory_transaction.asn_created',
      'inventory_transaction.transfer_order_created',
      'inventory_transaction.items_ready_for_handover',
    ]);
    return [name, { id: this.#id('itx'), location_id: location, items }];
  }
}
