import { beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn, tokenWith } from '../helpers/fixtures.ts';

/*
 * POST /v0/token, NewStore's token endpoint: a password grant for a user
 * with view_tools, a client-credentials grant for an API token; the access
 * token it answers works on the API until it expires or its holder goes.
 */

const database = useTestDatabase();
let app: TestApp;
const PASSWORD = 'correct horse battery'; // signedIn()'s

beforeAll(() => {
  app = createTestApp(database());
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

function requestToken(body: string, contentType: string | null = 'application/x-www-form-urlencoded', from = app) {
  return from.request('/v0/token', {
    method: 'POST',
    headers: contentType ? { 'content-type': contentType } : {},
    body,
  });
}

/** What a client does next: list integrations with `<token_type> <access_token>`. */
function listWith(token: { token_type: string; access_token: string }, from = app) {
  return from.request('/api/v1/org/integrations/eventstream', {
    headers: { authorization: `${token.token_type} ${token.access_token}` },
  });
}

describe('password grant', () => {
  test('form-encoded, with no content type, or as text/plain: an access token that works on the API', async () => {
    const { email } = await signedIn(database().db, ['view_tools']);
    for (const contentType of ['application/x-www-form-urlencoded', null, 'text/plain']) {
      const response = await requestToken(
        form({ grant_type: 'password', username: email, password: PASSWORD }),
        contentType,
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const token = await response.json();
      expect(token).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'view_tools',
      });
      // A JWT whose exp a client can read (NewStore's Python token lambda does).
      const claims = JSON.parse(Buffer.from(token.access_token.split('.')[1], 'base64url').toString());
      expect(claims.exp - claims.iat).toBe(3600);
      expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(5);
      expect((await listWith(token)).status).toBe(200);
    }
    // Stored hashed: no row holds the token itself.
    const rows = await database().db.selectFrom('access_tokens').select('token_hash').execute();
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const row of rows) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test("text/plain is read as it comes, unencoded (NewStore's Java client): a password with + % & @ = still matches", async () => {
    const { email, userId } = await signedIn(database().db, ['view_tools']);
    const password = 'p+ss%40w=rd@1';
    await database()
      .db.updateTable('users')
      .set({ password_hash: await Bun.password.hash(password) })
      .where('id', '=', userId)
      .execute();
    const raw = await requestToken(
      `username=${email}&grant_type=password&password=${password}`,
      'text/plain; charset=UTF-8',
    );
    expect(raw.status).toBe(200);
    const encoded = await requestToken(form({ grant_type: 'password', username: email, password }));
    expect(encoded.status).toBe(200);
  });

  test('a token with a forged signature, or not issued here, is refused with 401', async () => {
    const { email } = await signedIn(database().db, ['view_tools']);
    const token = await (
      await requestToken(form({ grant_type: 'password', username: email, password: PASSWORD }))
    ).json();
    const [header, payload] = token.access_token.split('.');
    const forged = {
      ...token,
      access_token: `${header}.${payload}.${Buffer.from('not our signature').toString('base64url')}`,
    };
    expect((await listWith(forged)).status).toBe(401);
    const elsewhere = createTestApp(database());
    expect((await listWith(token, elsewhere)).status).toBe(200);
  });

  test('the API logs the user as the actor', async () => {
    const { email } = await signedIn(database().db, ['view_tools']);
    const token = await (
      await requestToken(form({ grant_type: 'password', username: email, password: PASSWORD }))
    ).json();
    const created = await app.request('/api/v1/org/integrations/eventstream', {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'token-actor',
        integration_type: 'permanent',
        callback_parameters: { callback_url: 'https://erp.example.com/hook' },
      }),
    });
    expect(created.status).toBe(201);
    const log = await database()
      .db.selectFrom('integration_logs')
      .select('actor')
      .where('integration_id', '=', 'token-actor')
      .executeTakeFirstOrThrow();
    expect(log.actor).toBe(`${email} (access token)`);
  });

  test('wrong password, unknown user, no view_tools: 403 with error_code forbidden; a missing field: 400 naming it', async () => {
    const { email } = await signedIn(database().db, ['view_tools']);
    const viewerless = await signedIn(database().db, ['publish_events']);
    for (const [fields, detail] of [
      [{ grant_type: 'password', username: email, password: 'wrong' }, 'The username or password is incorrect.'],
      [
        { grant_type: 'password', username: 'nobody@example.com', password: PASSWORD },
        'The username or password is incorrect.',
      ],
      [
        { grant_type: 'password', username: viewerless.email, password: PASSWORD },
        `${viewerless.email} lacks the permission view_tools.`,
      ],
    ] as const) {
      const response = await requestToken(form(fields));
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error_code: 'forbidden', message: detail });
    }
    const missing = await requestToken(form({ grant_type: 'password', username: email }));
    expect(missing.status).toBe(400);
    expect((await missing.json()).errors).toEqual([{ field: 'password', message: "is required: the user's password" }]);
    const unknownGrant = await requestToken(form({ grant_type: 'authorization_code', code: 'x' }));
    expect((await unknownGrant.json()).errors).toEqual([
      { field: 'grant_type', message: 'must be password or client_credentials' },
    ]);
  });

  test('throttled together with the sign-in page: after 5 failures even the right password is 429', async () => {
    const { email } = await signedIn(database().db, ['view_tools']);
    for (let i = 0; i < 3; i++)
      expect(
        (await requestToken(form({ grant_type: 'password', username: email, password: `wrong-${i}` }))).status,
      ).toBe(403);
    for (let i = 0; i < 2; i++) {
      const page = await app.request('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ email, password: `wrong-page-${i}` }),
      });
      expect(page.status).toBe(401);
    }
    const throttled = await requestToken(form({ grant_type: 'password', username: email, password: PASSWORD }));
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('900');
    expect(await throttled.json()).toMatchObject({ error_code: 'too_many_requests' });
  });

  test('disabling the user, or taking view_tools away, revokes its access tokens', async () => {
    for (const change of [{ disabled_at: new Date() }, { permissions: ['publish_events' as const] }]) {
      const { email, userId } = await signedIn(database().db, ['view_tools']);
      const token = await (
        await requestToken(form({ grant_type: 'password', username: email, password: PASSWORD }))
      ).json();
      await database().db.updateTable('users').set(change).where('id', '=', userId).execute();
      // A fresh app: the bearer cache of a running one serves for a few seconds more.
      const fresh = createTestApp(database());
      expect((await listWith(token, fresh)).status).toBe('disabled_at' in change ? 401 : 403);
    }
  });

  test('an expired access token is refused; ACCESS_TOKEN_TTL_SECONDS sets expires_in', async () => {
    const short = createTestApp(database(), { env: { ACCESS_TOKEN_TTL_SECONDS: '60' } });
    const { email } = await signedIn(database().db, ['view_tools']);
    const token = await (
      await requestToken(form({ grant_type: 'password', username: email, password: PASSWORD }), undefined, short)
    ).json();
    expect(token.expires_in).toBe(60);
    await database()
      .db.updateTable('access_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute();
    const response = await listWith(token, createTestApp(database()));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error_code: 'unauthorized' });
  });
});

describe('client-credentials grant', () => {
  test("client_secret is an API token, client_id its name or id; the access token carries the API token's permissions", async () => {
    const apiToken = await tokenWith(database().db, 'view_tools');
    const { id } = await database()
      .db.selectFrom('api_tokens')
      .select('id')
      .where('name', '=', 'test-view_tools')
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    for (const clientId of ['test-view_tools', id]) {
      const response = await requestToken(
        form({ grant_type: 'client_credentials', client_id: clientId, client_secret: apiToken }),
      );
      expect(response.status).toBe(200);
      const token = await response.json();
      expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'view_tools' });
      expect((await listWith(token)).status).toBe(200);
    }
    const wrongId = await requestToken(
      form({ grant_type: 'client_credentials', client_id: 'someone-else', client_secret: apiToken }),
    );
    expect(wrongId.status).toBe(403);
    const publisher = await tokenWith(database().db, 'publish_events');
    const publishOnly = await (
      await requestToken(
        form({ grant_type: 'client_credentials', client_id: 'test-publish_events', client_secret: publisher }),
      )
    ).json();
    expect((await listWith(publishOnly)).status).toBe(403);
  });

  test('revoking the API token revokes the access tokens issued for it', async () => {
    const apiToken = await tokenWith(database().db, 'view_tools');
    const token = await (
      await requestToken(
        form({ grant_type: 'client_credentials', client_id: 'test-view_tools', client_secret: apiToken }),
      )
    ).json();
    await database()
      .db.updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('revoked_at', 'is', null)
      .execute();
    expect((await listWith(token, createTestApp(database()))).status).toBe(401);
  });
});
