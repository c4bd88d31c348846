import { z } from 'zod';

/* Input shapes more than one API takes. */

/** An absolute http(s) URL with a host; `example` ends the message (e.g. a webhook address). */
export function httpUrlSchema(example?: string) {
  return z
    .string({ error: 'is required' })
    .trim()
    .min(1, 'is required')
    .max(2048, 'is too long')
    .refine(
      (value) => {
        try {
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
        } catch {
          return false;
        }
      },
      `must be an http:// or https:// URL${example ? `, e.g. ${example}` : ''}`,
    );
}

/** A Standard Webhooks signing secret: whsec_ and at least 24 bytes in base64. */
export const signingSecretSchema = z
  .string()
  .regex(
    /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/,
    'must be a Standard Webhooks secret: whsec_ and at least 24 bytes in base64',
  );
