/**
 * The envelope Tideway delivers: `{"id","tenant","name","published_at","payload"}`
 * as compact JSON. The webhook body, the signed bytes and each S3 NDJSON line
 * are exactly this string. `payloadJson` is the payload as stored (already
 * compact JSON), spliced in rather than re-serialised.
 *
 * @example envelopeJson({ id: 'e1', tenant: 'acme', name: 'order.created', publishedAt: new Date(0), payloadJson: '{"id":"o1"}' })
 */
export function envelopeJson(event: EnvelopeFields): string {
  return envelopeHead(event) + event.payloadJson + ENVELOPE_TAIL;
}

export interface EnvelopeFields {
  id: string;
  tenant: string;
  name: string;
  publishedAt: Date;
  payloadJson: string;
}

/**
 * The envelope's text before the payload: envelopeJson is `head + payload +
 * ENVELOPE_TAIL`, which lets a writer copy the (large) payload as it is
 * instead of building one more string per event.
 */
export function envelopeHead(event: EnvelopeFields): string {
  return `{"id":${JSON.stringify(event.id)},"tenant":${JSON.stringify(event.tenant)},"name":${JSON.stringify(event.name)},"published_at":${JSON.stringify(event.publishedAt.toISOString())},"payload":`;
}

export const ENVELOPE_TAIL = '}';

/** The bytes of envelopeJson's text without its fields. */
const ENVELOPE_FRAME_BYTES = Buffer.byteLength('{"id":"","tenant":"","name":"","published_at":"","payload":}');
const ISO_TIME_BYTES = 24;

/**
 * `Buffer.byteLength(envelopeJson(event))`, without building the string: id
 * (a UUID), tenant and name (checked against ASCII patterns) need no JSON
 * escaping, so only the payload's size varies.
 */
export function envelopeSizeBytes(event: { id: string; tenant: string; name: string; payloadJson: string }): number {
  return ENVELOPE_FRAME_BYTES + event.id.length + event.tenant.length + event.name.length + ISO_TIME_BYTES + Buffer.byteLength(event.payloadJson);
}
