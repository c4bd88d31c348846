import { expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { createApiToken, findActiveApiToken } from '../../src/auth/api-tokens.repo.ts';
import { ensureFirstAdmin } from '../../src/auth/bootstrap.ts';
import { verifyPassword } from '../../src/auth/users.repo.ts';
import { createSecretBox } from '../../src/lib/crypto.ts';
import { SecretKeyMismatchError, verifySecretKey } from '../../src/db/secret-key.ts';
import { sha256Hex } from '../../src/lib/crypto.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

test('the first start creates one admin with every permission and announces the generated password once', async () => {
  const announcements: string[] = [];
  const created = await ensureFirstAdmin(database().db, { email: 'Admin@Example.com', password: undefined }, (m) =>
    announcements.push(m),
  );
  expect(created).toBe('Admin@Example.com');
  expect(announcements).toHaveLength(1);
  const password = /password: (\S+)/.exec(announcements[0]!)?.[1];
  expect(password).toBeDefined();

  const [admin] = await database().db.selectFrom('users').selectAll().execute();
  expect(admin!.permissions.sort()).toEqual(['manage_users', 'publish_events', 'view_tools']);
  expect(admin!.password_hash).toStartWith('$argon2id$');
  expect(await verifyPassword(password!, admin!.password_hash)).toBe(true);

  // A restart finds a user and leaves everything as it is.
  expect(
    await ensureFirstAdmin(database().db, { email: 'other@example.com', password: undefined }, (m) =>
      announcements.push(m),
    ),
  ).toBeUndefined();
  expect(announcements).toHaveLength(1);
  expect(await database().db.selectFrom('users').select('email').execute()).toEqual([{ email: 'Admin@Example.com' }]);
});

test('API tokens are returned once and stored only as a hash', async () => {
  const { token, row } = await createApiToken(database().db, { name: 'platform', permissions: ['publish_events'] });
  expect(token).toMatch(/^tw_[A-Za-z0-9_-]{43}$/);
  expect(row.token_hash).toBe(sha256Hex(token));
  const stored = JSON.stringify(await database().db.selectFrom('api_tokens').selectAll().execute());
  expect(stored).not.toContain(token);
  expect((await findActiveApiToken(database().db, token))?.id).toBe(row.id);
  expect(await findActiveApiToken(database().db, `${token}x`)).toBeUndefined();
});

test('a process started with another encryption key refuses to run', async () => {
  const key = randomBytes(32).toString('hex');
  await verifySecretKey(database().db, createSecretBox(key));
  await verifySecretKey(database().db, createSecretBox(key)); // the same key again: fine
  const other = createSecretBox(randomBytes(32).toString('hex'));
  await expect(verifySecretKey(database().db, other)).rejects.toBeInstanceOf(SecretKeyMismatchError);
});
