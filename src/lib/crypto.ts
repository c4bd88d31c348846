import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * Secrets at rest (API keys, AWS secret keys, signing secrets) are sealed with
 * AES-256-GCM under the deployment key. A stored value reads
 * `v1:<base64 of iv ‖ ciphertext ‖ tag>`; the version prefix leaves room for
 * key rotation without guessing formats.
 */

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(sealed: string): string;
  /** A key for one purpose, derived from the deployment key (HMAC-SHA256 of the label), as hex. */
  subkey(label: string): string;
}

/**
 * A SecretBox for a 256-bit key given as 64 hex characters.
 *
 * @example const box = createSecretBox(key); box.decrypt(box.encrypt('s3cret')) === 's3cret'
 */
export function createSecretBox(hexKey: string): SecretBox {
  const key = Buffer.from(hexKey, 'hex');
  if (key.length !== 32) throw new Error('The encryption key must be 32 bytes (64 hex characters)');
  return {
    subkey(label) {
      return createHmac('sha256', key).update(`tideway:${label}`).digest('hex');
    },
    encrypt(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')}`;
    },
    decrypt(sealed) {
      const [version, data] = sealed.split(':', 2);
      if (version !== VERSION || !data) throw new Error('Unrecognised encrypted value');
      const bytes = Buffer.from(data, 'base64');
      const iv = bytes.subarray(0, IV_BYTES);
      const tag = bytes.subarray(bytes.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}

/** Hex SHA-256, for storing tokens we must recognise but never reveal. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A random URL-safe token of `bytes` random bytes, with an optional prefix. */
export function randomToken(bytes = 32, prefix = ''): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** How a secret is shown back: its last four characters behind dots. */
export function maskSecret(secret: string): string {
  return `••••${secret.slice(-4)}`;
}

/**
 * A URL with the password of its `user:password@` part masked, as other
 * secrets are shown (integrations saved before such URLs were refused).
 *
 * @example maskUrlCredentials('https://u:s3cret@erp.example.com/x') // 'https://u:••••@erp.example.com/x'
 */
export function maskUrlCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/i, '$1:••••@');
}
