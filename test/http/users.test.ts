import { beforeAll, expect, test } from 'bun:test';
import { sha256Hex } from '../../src/lib/crypto.ts';
import { verifyPassword } from '../../src/auth/users.repo.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
let admin: Awaited<ReturnType<typeof signedIn>>;

beforeAll(async () => {
  app = createTestApp(database());
  admin = await signedIn(database().db, ['view_tools', 'manage_users'], 'boss@example.com');
});

function post(path: string, form: Record<string, string | string[]>, session = admin) {
  const params = new URLSearchParams({ _csrf: session.csrfToken });
  for (const [key, value] of Object.entries(form)) for (const item of [value].flat()) params.append(key, item);
  return app.request(path, {
    method: 'POST',
    headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: params.toString(),
  });
}

test('only users with Manage users see the page and its nav entry', async () => {
  const viewer = await signedIn(database().db, ['view_tools']);
  expect((await app.request('/admin/users', { headers: { cookie: viewer.cookie } })).status).toBe(403);
  const listPage = await (await app.request('/tools/event-stream', { headers: { cookie: viewer.cookie } })).text();
  expect(listPage).not.toContain('href="/admin/users"');
  const page = await app.request('/admin/users', { headers: { cookie: admin.cookie } });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<a href="/admin/users" aria-current="page">Users</a>');
});

test('create a user with permissions; bad input is named next to its field', async () => {
  const bad = await post('/admin/users', { email: 'not-an-email', password: 'short' });
  expect(bad.status).toBe(422);
  const html = await bad.text();
  expect(html).toContain('id="email-error">Must be an email address');
  expect(html).toContain('id="password-error">Must be at least 8 characters.');
  expect(html).toContain('Choose at least one permission.');

  const created = await post('/admin/users', {
    email: 'analyst@example.com',
    password: 'long enough pw',
    permissions: ['view_tools', 'publish_events'],
  });
  expect(created.status).toBe(200);
  expect(await created.text()).toContain('User analyst@example.com created.');
  const user = await database()
    .db.selectFrom('users')
    .selectAll()
    .where('email', '=', 'analyst@example.com')
    .executeTakeFirstOrThrow();
  expect(user.permissions).toEqual(['view_tools', 'publish_events']);
  expect(await verifyPassword('long enough pw', user.password_hash)).toBe(true);

  const duplicate = await post('/admin/users', {
    email: 'ANALYST@example.com',
    password: 'long enough pw',
    permissions: ['view_tools'],
  });
  expect(await duplicate.text()).toContain('A user with the email ANALYST@example.com already exists.');
});

test('set permissions; nobody removes Manage users from themselves', async () => {
  const user = await database()
    .db.selectFrom('users')
    .select('id')
    .where('email', '=', 'analyst@example.com')
    .executeTakeFirstOrThrow();
  expect((await post(`/admin/users/${user.id}/permissions`, { permissions: ['publish_events'] })).status).toBe(303);
  expect(
    (await database().db.selectFrom('users').select('permissions').where('id', '=', user.id).executeTakeFirstOrThrow())
      .permissions,
  ).toEqual(['publish_events']);

  const self = await post(`/admin/users/${admin.userId}/permissions`, { permissions: ['view_tools'] });
  expect(await self.text()).toContain('You cannot remove Manage users from yourself');
  expect(
    (
      await database()
        .db.selectFrom('users')
        .select('permissions')
        .where('id', '=', admin.userId)
        .executeTakeFirstOrThrow()
    ).permissions,
  ).toContain('manage_users');
});

test('a new API token is shown once, stored hashed, works, and stops working when revoked', async () => {
  const response = await post('/admin/tokens', { token_name: 'order platform', token_permissions: ['publish_events'] });
  expect(response.headers.get('cache-control')).toBe('no-store');
  const html = await response.text();
  const token = /<code class="mono secret-box" id="new-token">(tw_[A-Za-z0-9_-]+)<\/code>/.exec(html)?.[1];
  expect(token).toBeDefined();
  const row = await database()
    .db.selectFrom('api_tokens')
    .selectAll()
    .where('name', '=', 'order platform')
    .executeTakeFirstOrThrow();
  expect(row.token_hash).toBe(sha256Hex(token!));
  // Later views show only its prefix.
  const later = await (await app.request('/admin/users', { headers: { cookie: admin.cookie } })).text();
  expect(later).not.toContain(token!);
  expect(later).toContain(`${row.token_prefix}…`);

  const catalog = () => app.request('/api/v1/event-types', { headers: { authorization: `Bearer ${token}` } });
  expect((await catalog()).status).toBe(200);
  const used = await database()
    .db.selectFrom('api_tokens')
    .select('last_used_at')
    .where('id', '=', row.id)
    .executeTakeFirstOrThrow();
  expect(used.last_used_at).not.toBeNull();
  expect((await post(`/admin/tokens/${row.id}/revoke`, {})).status).toBe(303);
  // A fresh app has no cached verification: the token is refused.
  expect(
    (await createTestApp(database()).request('/api/v1/event-types', { headers: { authorization: `Bearer ${token}` } }))
      .status,
  ).toBe(401);
});

test('every change needs the CSRF token', async () => {
  const response = await app.request('/admin/users', {
    method: 'POST',
    headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'email=x@example.com&password=longenough&permissions=view_tools',
  });
  expect(response.status).toBe(403);
  expect(await database().db.selectFrom('users').select('id').where('email', '=', 'x@example.com').execute()).toEqual(
    [],
  );
});

test('ids that are not UUIDs name nobody: 404, never a 500', async () => {
  for (const path of [
    '/admin/users/not-a-uuid/permissions',
    '/admin/tokens/123/revoke',
    "/admin/users/x'--/permissions",
  ]) {
    const response = await post(path, { permissions: ['view_tools'] });
    expect({ path, status: response.status }).toEqual({ path, status: 404 });
  }
  // A well-formed id of nobody is a 404 too.
  expect((await post(`/admin/users/${crypto.randomUUID()}/permissions`, { permissions: ['view_tools'] })).status).toBe(
    404,
  );
});
