import { beforeAll, describe, expect, test } from 'bun:test';
import { hashPassword, insertUserIfAbsent } from '../../src/auth/users.repo.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  app = createTestApp(database());
  for (const [email, permissions] of [
    ['ops@example.com', ['view_tools']],
    ['nobody@example.com', ['publish_events']],
    ['throttled@example.com', ['view_tools']],
  ] as const) {
    await insertUserIfAbsent(database().db, {
      email,
      passwordHash: await hashPassword(PASSWORD),
      permissions: [...permissions],
    });
  }
});

function login(
  email: string,
  password: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  return app.request('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', ...headers },
    body: new URLSearchParams({ email, password, ...extra }).toString(),
  });
}

function cookieOf(response: Response): string {
  return (response.headers.get('set-cookie') ?? '').split(';')[0]!;
}

describe('signing in', () => {
  test('signed out, a page leads to the login with the way back; htmx requests get the sign-in link of their page', async () => {
    const page = await app.request('/tools/event-stream?tab=paused');
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/login?next=%2Ftools%2Fevent-stream%3Ftab%3Dpaused');
    // An in-page action comes back to the page it was on, never to its own POST-only address.
    const fragment = await app.request('/tools/event-stream/erp/status', {
      method: 'POST',
      headers: { 'hx-request': 'true', 'hx-current-url': 'http://localhost/tools/event-stream?tab=active' },
    });
    expect(fragment.status).toBe(401);
    expect(fragment.headers.get('hx-redirect')).toBeNull();
    expect(fragment.headers.get('x-login-url')).toBe('/login?next=%2Ftools%2Fevent-stream%3Ftab%3Dactive');
    // So does a plain form post, through its Referer; another site's Referer is not followed.
    const form = (referer: string) =>
      app.request('/tools/event-stream/erp/status', { method: 'POST', headers: { referer } });
    expect((await form('http://localhost/tools/event-stream?tab=paused')).headers.get('location')).toBe(
      '/login?next=%2Ftools%2Fevent-stream%3Ftab%3Dpaused',
    );
    expect((await form('https://evil.example/phish')).headers.get('location')).toBe(
      '/login?next=%2Ftools%2Fevent-stream',
    );
  });

  test('the right password opens a session in an HttpOnly, SameSite=Lax cookie and goes back to `next`', async () => {
    const response = await login('OPS@example.com', PASSWORD, { next: '/tools/event-stream?tab=paused' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/tools/event-stream?tab=paused');
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).not.toContain('Secure');
    const page = await app.request('/tools/event-stream', { headers: { cookie: cookieOf(response) } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<span class="account-email">ops@example.com</span>');
  });

  test('behind https the cookie is __Host- prefixed and Secure, and HSTS is sent; over http neither', async () => {
    const response = await login('ops@example.com', PASSWORD, {}, { 'x-forwarded-proto': 'https' });
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toStartWith('__Host-tideway_session=');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Domain');
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    // The prefixed cookie opens the session over https.
    const page = await app.request('/tools/event-stream', {
      headers: { cookie: cookie.split(';')[0]!, 'x-forwarded-proto': 'https' },
    });
    expect(page.status).toBe(200);
    const plain = await login('ops@example.com', PASSWORD);
    expect(plain.headers.get('set-cookie')).toStartWith('tideway_session=');
    expect(plain.headers.get('strict-transport-security')).toBeNull();
  });

  test('a wrong password keeps the email and says so, without telling which part was wrong', async () => {
    const response = await login('ops@example.com', 'wrong password');
    expect(response.status).toBe(401);
    const html = await response.text();
    expect(html).toContain('The email or password is incorrect.');
    expect(html).toContain('value="ops@example.com"');
    expect(response.headers.get('set-cookie')).toBeNull();
    const unknown = await login('ghost@example.com', 'whatever1');
    expect(await unknown.text()).toContain('The email or password is incorrect.');
  });

  test('`next` never leads off the site', async () => {
    for (const next of ['//evil.example.com', 'https://evil.example.com', '/\\evil.example.com']) {
      const response = await login('ops@example.com', PASSWORD, { next });
      expect(response.headers.get('location')).toBe('/tools/event-stream');
    }
  });

  test('a cross-site sign-in form is refused', async () => {
    const sessions = await database().db.selectFrom('sessions').select('id').execute();
    const response = await login('ops@example.com', PASSWORD, {}, { origin: 'https://evil.example.com' });
    expect(response.status).toBe(403);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await database().db.selectFrom('sessions').select('id').execute()).toEqual(sessions);
  });

  test('after 5 failures an account is locked for 15 minutes, even with the right password', async () => {
    for (let i = 0; i < 5; i++) expect((await login('throttled@example.com', `wrong-${i}`)).status).toBe(401);
    const locked = await login('throttled@example.com', PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.headers.get('set-cookie')).toBeNull();
    expect(await locked.text()).toContain('Too many failed sign-ins');
    // Other accounts are not affected.
    const other = await login('ops@example.com', PASSWORD);
    expect(other.status).toBe(303);
    expect(other.headers.get('set-cookie')).toContain('HttpOnly');
  });
});

describe('permissions and sessions', () => {
  test('without view_tools: a 403 page naming the missing permission', async () => {
    const { cookie } = await signedIn(database().db, ['publish_events'], 'publisher@example.com');
    const response = await app.request('/tools/event-stream', { headers: { cookie } });
    expect(response.status).toBe(403);
    const html = await response.text();
    expect(html).toContain('You do not have access to this page');
    expect(html).toContain('needs the View tools permission');
    expect(html).toContain('publisher@example.com');
  });

  test('an idle session expires', async () => {
    const { cookie, userId } = await signedIn(database().db, ['view_tools']);
    await database()
      .db.updateTable('sessions')
      .set({ last_seen_at: new Date(Date.now() - 9 * 3_600_000) })
      .where('user_id', '=', userId)
      .execute();
    const expired = await app.request('/tools/event-stream', { headers: { cookie } });
    expect(expired.status).toBe(302);
    expect(expired.headers.get('location')).toBe('/login?next=%2Ftools%2Fevent-stream');
  });

  test('signing out needs the CSRF token, then ends the session', async () => {
    const { cookie, csrfToken } = await signedIn(database().db, ['view_tools']);
    const form = { 'content-type': 'application/x-www-form-urlencoded', cookie };
    const refused = await app.request('/logout', { method: 'POST', headers: form, body: '' });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('This page is out of date');
    const done = await app.request('/logout', { method: 'POST', headers: form, body: `_csrf=${csrfToken}` });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/login');
    expect(done.headers.get('set-cookie')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    const after = await app.request('/tools/event-stream', { headers: { cookie } });
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toStartWith('/login');
  });
});

test('pages for a signed-in user are not cached (Cache-Control: no-store); the sign-in page may be', async () => {
  const { cookie } = await signedIn(database().db, ['view_tools']);
  for (const path of ['/tools/event-stream', '/tools/event-stream/new', '/tools/event-stream/overview']) {
    const response = await app.request(path, { headers: { cookie } });
    expect({ path, cache: response.headers.get('cache-control') }).toEqual({ path, cache: 'no-store' });
  }
  expect((await app.request('/login')).headers.get('cache-control')).toBeNull();
});
