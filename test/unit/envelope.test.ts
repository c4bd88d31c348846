import { expect, test } from 'bun:test';
import { envelopeJson, envelopeSizeBytes } from '../../src/events/envelope.ts';

const event = {
  id: '3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f',
  tenant: 'acme',
  name: 'fulfillment_request.assigned',
  publishedAt: new Date('2026-11-30T10:00:00.123Z'),
  payloadJson: '{"id":"fr-1","order_id":"o-1","note":"Köln \\"quoted\\" ✓"}',
};

test('the envelope is compact JSON with the payload spliced in verbatim', () => {
  const text = envelopeJson(event);
  expect(text).toBe(
    '{"id":"3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f","tenant":"acme","name":"fulfillment_request.assigned",' +
      '"published_at":"2026-11-30T10:00:00.123Z","payload":{"id":"fr-1","order_id":"o-1","note":"Köln \\"quoted\\" ✓"}}',
  );
  expect(JSON.parse(text).payload.note).toBe('Köln "quoted" ✓');
});

test('envelopeSizeBytes is the byte length of the envelope text, multi-byte characters included', () => {
  expect(envelopeSizeBytes(event)).toBe(Buffer.byteLength(envelopeJson(event)));
  const small = { ...event, tenant: 'default', name: 'order.created', payloadJson: '{}' };
  expect(envelopeSizeBytes(small)).toBe(Buffer.byteLength(envelopeJson(small)));
});
