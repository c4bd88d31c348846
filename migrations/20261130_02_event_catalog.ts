import type { Kysely } from 'kysely';

/*
 * The event catalog of SPEC §1, with each type's domain-entity rule: where in
 * the payload an event finds the business entity an operator searches by.
 * Order events are about the order itself; fulfillment requests, returns,
 * invoices and refund requests belong to an order (payload.order_id); the
 * others are their own domain entity.
 */

type Rule = { type: string; field: string };

const OWN = (entity: string): Rule => ({ type: entity, field: 'id' });
const ORDER: Rule = { type: 'order', field: 'order_id' };

const catalog: { entity: string; rule: Rule; moments: Record<string, string> }[] = [
  {
    entity: 'order',
    rule: OWN('order'),
    moments: {
      created: 'An order was placed.',
      opened: 'An order was accepted for fulfillment.',
      completed: 'Every item of an order was fulfilled.',
      cancelled: 'An order was cancelled.',
      items_cancelled: 'Some items of an order were cancelled.',
      items_swapped: 'Items of an order were swapped for others.',
      shipped: 'Deprecated: an order was shipped. Subscribe to order.completed instead.',
    },
  },
  {
    entity: 'fulfillment_request',
    rule: ORDER,
    moments: {
      assigned: 'A fulfillment request was assigned to a fulfillment location.',
      items_completed: 'Items of a fulfillment request were fulfilled.',
      items_failed: 'Items of a fulfillment request could not be fulfilled.',
      items_ready_for_handover: 'Items of a fulfillment request are ready for handover.',
    },
  },
  { entity: 'return', rule: ORDER, moments: { processed: 'A return was processed.' } },
  { entity: 'invoice', rule: ORDER, moments: { created: 'An invoice was created.' } },
  {
    entity: 'payment_account',
    rule: OWN('payment_account'),
    moments: {
      amount_authorized: 'An amount was authorized on a payment account.',
      amount_refunded: 'An amount was refunded to a payment account.',
    },
  },
  { entity: 'refund_request', rule: ORDER, moments: { issued: 'A refund request was issued.' } },
  {
    entity: 'inventory_transaction',
    rule: OWN('inventory_transaction'),
    moments: {
      items_received: 'Items were received into stock.',
      transfer_order_created: 'A transfer order was created.',
      items_ready_for_handover: 'Transferred items are ready for handover.',
      asn_created: 'An advance shipping notice was created.',
      adjustment_created: 'A stock adjustment was made.',
    },
  },
  {
    entity: 'inventory_count',
    rule: OWN('inventory_count'),
    moments: { items_counted: 'Items were counted.' },
  },
];

export async function up(db: Kysely<any>): Promise<void> {
  const rows = catalog.flatMap(({ entity, rule, moments }) =>
    Object.entries(moments).map(([moment, description]) => ({
      name: `${entity}.${moment}`,
      entity,
      description,
      deprecated: false,
      replaced_by: null,
      domain_entity_type: rule.type,
      domain_entity_id_field: rule.field,
    })),
  );
  await db.insertInto('event_types').values(rows).execute();
  await db
    .updateTable('event_types')
    .set({ deprecated: true, replaced_by: 'order.completed' })
    .where('name', '=', 'order.shipped')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('event_types').execute();
}
