/**
 * The envelope Tideway delivers: `{"id","tenant","name","published_at","payload"}`
 * as compact JSON. The webhook body, the signed bytes and each S3 NDJSON line
 * are exactly this string. `payloadJson` is the payload as stored (already
 * compact JSON), spliced in rather than re-serialised.
 *
 * @example envelopeJson({ id: 'e1', tenant: 'acme', name: 'order.created', publishedAt: new Date(0), payloadJson: '{"id":"o1"}' })
 */
export function envelopeJson(event: EnvelopeFields): string {
  const { id, tenant, name, publishedAt, payload } = ENVELOPE_KEYS;
  return `${id}${JSON.stringify(event.id)}${tenant}${JSON.stringify(event.tenant)}${name}${JSON.stringify(event.name)}${publishedAt}${JSON.stringify(event.publishedAt.toISOString())}${payload}${event.payloadJson}${ENVELOPE_END}`;
}

export interface EnvelopeFields {
  id: string;
  tenant: string;
  name: string;
  publishedAt: Date;
  payloadJson: string;
}

/**
 * The envelope's text before each field, in order; after the payload comes
 * ENVELOPE_END. The S3 batch writer (src/delivery/s3-batch-lines.ts) builds
 * the same text as bytes from these.
 */
export const ENVELOPE_KEYS = {
  id: '{"id":',
  tenant: ',"tenant":',
  name: ',"name":',
  publishedAt: ',"published_at":',
  payload: ',"payload":',
} as const;
export const ENVELOPE_END = '}';

/** The bytes of envelopeJson's text without its fields (the first four are quoted strings). */
const ENVELOPE_FRAME_BYTES = Object.values(ENVELOPE_KEYS).join('').length + 4 * 2 + ENVELOPE_END.length;
const ISO_TIME_BYTES = 24;

/**
 * `Buffer.byteLength(envelopeJson(event))`, without building the string: id
 * (a UUID), tenant and name (checked against ASCII patterns) need no JSON
 * escaping, so only the payload's size varies.
 */
export function envelopeSizeBytes(event: { id: string; tenant: string; name: string; payloadJson: string }): number {
  return (
    ENVELOPE_FRAME_BYTES +
    event.id.length +
    event.tenant.length +
    event.name.length +
    ISO_TIME_BYTES +
    Buffer.byteLength(event.payloadJson)
  );
}
