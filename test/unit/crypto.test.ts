import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { createSecretBox, maskSecret, randomToken, sha256Hex } from '../../src/lib/crypto.ts';

const key = randomBytes(32).toString('hex');

describe('SecretBox (AES-256-GCM)', () => {
  test('round-trips, and the sealed value reveals nothing of the plaintext', () => {
    const box = createSecretBox(key);
    const sealed = box.encrypt('whsec_plaintext-api-key');
    expect(sealed.startsWith('v1:')).toBe(true);
    expect(sealed).not.toContain('plaintext');
    expect(box.decrypt(sealed)).toBe('whsec_plaintext-api-key');
  });

  test('the same plaintext seals differently each time (random IV)', () => {
    const box = createSecretBox(key);
    expect(box.encrypt('same')).not.toBe(box.encrypt('same'));
  });

  test('refuses a tampered value and a value sealed under another key', () => {
    const box = createSecretBox(key);
    const sealed = box.encrypt('secret');
    const bytes = Buffer.from(sealed.slice(3), 'base64');
    bytes[14] = bytes[14]! ^ 1;
    expect(() => box.decrypt(`v1:${bytes.toString('base64')}`)).toThrow();
    expect(() => createSecretBox(randomBytes(32).toString('hex')).decrypt(sealed)).toThrow();
  });

  test('refuses a key of the wrong size', () => {
    expect(() => createSecretBox('abcd')).toThrow(/32 bytes/);
  });
});

describe('token helpers', () => {
  test('randomToken is URL-safe and unique', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => randomToken(32, 'tw_')));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^tw_[A-Za-z0-9_-]{43}$/);
  });

  test('sha256Hex and maskSecret', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(maskSecret('sk_live_3f9a')).toBe('••••3f9a');
  });
});
