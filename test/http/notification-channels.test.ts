import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Webhook } from 'standardwebhooks';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { setIntegrationStatus } from '../../src/delivery/integration-status.ts';
import { signedIn, testSecrets, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';
import { SmtpSink } from '../helpers/smtp.ts';

/*
 * Notification channels through the API (validation, the secret shown
 * once and encrypted at rest, Test, email refused without SMTP_URL) and
 * through Tools › Event Stream › Notifications.
 */

const database = useTestDatabase();
const receiver = new Receiver();
const smtp = new SmtpSink();
let app: TestApp;
let noMail: TestApp;
let token: string;
let readOnly: string;

beforeAll(async () => {
  await smtp.start();
  app = createTestApp(database(), { env: { ALLOW_PRIVATE_TARGETS: 'true', SMTP_URL: smtp.url() } });
  noMail = createTestApp(database(), { env: { ALLOW_PRIVATE_TARGETS: 'true' } });
  token = await tokenWith(database().db, 'view_tools');
  readOnly = await tokenWith(database().db, 'publish_events');
});
afterAll(async () => {
  receiver.stop();
  await smtp.stop();
});

function api(method: string, path = '', body?: unknown, options: { app?: TestApp; token?: string } = {}) {
  return (options.app ?? app).request(`/api/v1/org/notification-channels${path}`, {
    method,
    headers: { authorization: `Bearer ${options.token ?? token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('the API', () => {
  test('a webhook channel: the generated secret is answered once in full, stored encrypted, masked afterwards', async () => {
    const created = await api('POST', '', { kind: 'webhook', url: receiver.url('/ops') });
    expect(created.status).toBe(201);
    const channel = (await created.json()) as Record<string, unknown>;
    expect(channel).toMatchObject({
      kind: 'webhook',
      url: receiver.url('/ops'),
      format: 'json',
      filter: { integrations: [], types: [] },
    });
    const secret = channel.signing_secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const row = await database()
      .db.selectFrom('notification_channels')
      .selectAll()
      .where('id', '=', channel.id as string)
      .executeTakeFirstOrThrow();
    expect(row.signing_secret_enc).not.toContain(secret.slice(6, 20));
    expect(testSecrets.decrypt(row.signing_secret_enc!)).toBe(secret);

    const read = (await (await api('GET', `/${channel.id}`)).json()) as Record<string, unknown>;
    expect(read.signing_secret).toBe(`••••${secret.slice(-4)}`);
    const listed = (await (await api('GET')).json()) as { notification_channels: Record<string, unknown>[] };
    expect(listed.notification_channels.map((entry) => entry.id)).toContain(channel.id);
    expect(JSON.stringify(listed)).not.toContain(secret);

    // Test: a signed notification.test, as real notices go.
    const tested = await api('POST', `/${channel.id}/_test`);
    expect(tested.status).toBe(200);
    expect(await tested.json()).toMatchObject({ ok: true, status_code: 200 });
    const last = receiver.received.at(-1)!;
    expect(new Webhook(secret).verify(last.body, last.headers)).toMatchObject({ type: 'notification.test' });
  });

  test('a given signing secret, Slack format and a filter are kept; PATCH changes them; DELETE removes the channel', async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const created = await api('POST', '', {
      kind: 'webhook',
      url: receiver.url('/slack'),
      format: 'slack',
      signing_secret: secret,
      filter: { integrations: ['erp'], types: ['integration.stopped'] },
    });
    expect(created.status).toBe(201);
    const channel = (await created.json()) as { id: string; signing_secret: string };
    expect(channel.signing_secret).toBe(secret);

    const patched = await api('PATCH', `/${channel.id}`, { format: 'json', filter: { types: [] } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ format: 'json', filter: { integrations: [], types: [] } });

    const wrongKind = await api('PATCH', `/${channel.id}`, { to: ['a@example.com'] });
    expect(wrongKind.status).toBe(422);
    expect(((await wrongKind.json()) as { errors: unknown[] }).errors).toEqual([
      { field: 'to', message: 'is not a field of webhook channels' },
    ]);

    expect((await api('DELETE', `/${channel.id}`)).status).toBe(204);
    expect((await api('GET', `/${channel.id}`)).status).toBe(404);
    expect((await api('DELETE', `/${channel.id}`)).status).toBe(404);
    expect((await api('GET', '/not-a-uuid')).status).toBe(404);
  });

  test('bad bodies are refused with every bad field named', async () => {
    const bad = await api('POST', '', {
      kind: 'webhook',
      url: 'ftp://example.com',
      format: 'xml',
      signing_secret: 'short',
      filter: { types: ['integration.exploded'] },
      extra: true,
    });
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as { error_code: string; errors: { field: string; message: string }[] };
    expect(problem.error_code).toBe('validation_error');
    expect(problem.errors.map((error) => error.field).sort()).toEqual(
      ['extra', 'filter.types.0', 'format', 'signing_secret', 'url'].sort(),
    );
    const email = await api('POST', '', { kind: 'email', to: ['not-an-address'] });
    expect(((await email.json()) as { errors: { field: string; message: string }[] }).errors).toEqual([
      { field: 'to.0', message: 'must be an email address' },
    ]);
    const kind = await api('POST', '', { kind: 'pager' });
    expect(((await kind.json()) as { errors: { field: string; message: string }[] }).errors).toEqual([
      { field: 'kind', message: 'must be webhook or email' },
    ]);
    expect((await api('POST', '', '{not json')).status).toBe(400);
    expect((await api('GET', '', undefined, { token: readOnly })).status).toBe(403);
  });

  test('an email channel: refused with a clear error without SMTP_URL; with it, Test sends a real mail', async () => {
    const refused = await api('POST', '', { kind: 'email', to: ['ops@example.com'] }, { app: noMail });
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors).toEqual([{ field: 'kind', message: expect.stringContaining('SMTP_URL is not set') }]);

    const created = await api('POST', '', { kind: 'email', to: ['ops@example.com'] });
    expect(created.status).toBe(201);
    const channel = (await created.json()) as Record<string, unknown>;
    expect(channel).toMatchObject({ kind: 'email', to: ['ops@example.com'] });
    expect(channel).not.toHaveProperty('signing_secret');
    const tested = await api('POST', `/${channel.id}/_test`);
    expect(await tested.json()).toMatchObject({ ok: true });
    expect(smtp.mails.at(-1)).toMatchObject({
      to: ['ops@example.com'],
      subject: expect.stringContaining('test notification'),
    });
  });
});

describe('the pages', () => {
  test('list, create (secret shown once), edit with several types, the channel page with its notices, test, delete', async () => {
    const user = await signedIn(database().db, ['view_tools']);
    const page = (path: string, init: RequestInit = {}) =>
      app.request(path, { ...init, headers: { cookie: user.cookie, ...(init.headers ?? {}) } });
    const form = (fields: [string, string][]) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams([['_csrf', user.csrfToken], ...fields]).toString(),
    });
    await webhookIntegration(database(), { id: 'erp' });

    expect((await page('/tools/event-stream')).status).toBe(200);
    expect(await (await page('/tools/event-stream')).text()).toContain('href="/tools/event-stream/notifications"');
    const list = await page('/tools/event-stream/notifications');
    expect(list.status).toBe(200);

    const invalid = await page(
      '/tools/event-stream/notifications/new',
      form([
        ['kind', 'webhook'],
        ['url', 'nope'],
      ]),
    );
    expect(invalid.status).toBe(422);
    expect(await invalid.text()).toContain('must be an http:// or https:// URL');

    const created = await page(
      '/tools/event-stream/notifications/new',
      form([
        ['kind', 'webhook'],
        ['url', receiver.url('/ui')],
        ['format', 'json'],
        ['types', 'integration.stopped'],
        ['types', 'deliveries.failed'],
        ['integrations', 'erp'],
      ]),
    );
    expect(created.status).toBe(201);
    const html = await created.text();
    const secret = /id="channel-signing-secret">(whsec_[^<]+)</.exec(html)?.[1];
    expect(secret).toBeDefined();
    const row = await database()
      .db.selectFrom('notification_channels')
      .selectAll()
      .where('url', '=', receiver.url('/ui'))
      .executeTakeFirstOrThrow();
    expect(row.filter_types).toEqual(['integration.stopped', 'deliveries.failed']);
    expect(row.filter_integrations).toEqual(['erp']);

    const shown = await (await page(`/tools/event-stream/notifications/${row.id}`)).text();
    expect(shown).not.toContain(secret!);
    expect(shown).toContain('Nothing has been told on this channel yet.');

    const saved = await page(
      `/tools/event-stream/notifications/${row.id}/edit`,
      form([
        ['url', receiver.url('/ui2')],
        ['format', 'slack'],
      ]),
    );
    expect(saved.status).toBe(303);
    const edited = await database()
      .db.selectFrom('notification_channels')
      .selectAll()
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(edited).toMatchObject({
      url: receiver.url('/ui2'),
      format: 'slack',
      filter_types: [],
      filter_integrations: [],
    });

    const tested = await page(`/tools/event-stream/notifications/${row.id}/test`, {
      ...form([]),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'hx-request': 'true' },
    });
    expect(await tested.text()).toContain('The webhook answered HTTP 200');

    const refused = await page(`/tools/event-stream/notifications/${row.id}/delete`, { method: 'POST' });
    expect(refused.status).toBe(403); // no CSRF token
    const deleted = await page(`/tools/event-stream/notifications/${row.id}/delete`, form([]));
    expect(deleted.status).toBe(303);
    expect((await page(`/tools/event-stream/notifications/${row.id}`)).status).toBe(404);
  });

  test('an email channel without SMTP_URL is refused next to its field; users without view_tools get 403', async () => {
    const user = await signedIn(database().db, ['view_tools']);
    const response = await noMail.request('/tools/event-stream/notifications/new', {
      method: 'POST',
      headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: user.csrfToken, kind: 'email', to: 'ops@example.com' }).toString(),
    });
    expect(response.status).toBe(422);
    expect(await response.text()).toContain('SMTP_URL is not set');
    const outsider = await signedIn(database().db, ['publish_events']);
    expect(
      (await app.request('/tools/event-stream/notifications', { headers: { cookie: outsider.cookie } })).status,
    ).toBe(403);
  });

  test('the integration list and the Overview tell delayed, stopped by the system (why) and paused by hand (by whom)', async () => {
    const user = await signedIn(database().db, ['view_tools']);
    await webhookIntegration(database(), { id: 'lagging' });
    await webhookIntegration(database(), { id: 'refused' });
    await webhookIntegration(database(), { id: 'paused-by-hand' });
    await database()
      .db.updateTable('integrations')
      .set({ backlog_delayed_since: new Date('2026-12-01T10:00:00Z') })
      .where('id', '=', 'lagging')
      .execute();
    await setIntegrationStatus(
      database().db,
      'refused',
      'stopped',
      'Callback answered HTTP 401 Unauthorized',
      'system',
    );
    await setIntegrationStatus(database().db, 'paused-by-hand', 'stopped', 'Stopped through the API', user.email);
    for (const path of ['/tools/event-stream', '/tools/event-stream/overview']) {
      const html = await (await app.request(path, { headers: { cookie: user.cookie } })).text();
      // Each integration's health badge, and the line that explains it.
      const states = [
        ...html.matchAll(/data-health="(\w+)">([^<]+)<\/span>(?:<div class="health-detail">(?:<span[^>]*>)?([^<]*))?/g),
      ].map((match) => [match[1], match[2]!.trim(), (match[3] ?? '').trim()]);
      expect(states).toEqual(
        expect.arrayContaining([
          ['delayed', 'Delayed', 'Oldest pending event published'],
          ['stopped', 'Stopped by the system', 'Callback answered HTTP 401 Unauthorized'],
          ['paused', 'Paused', `by ${user.email},`],
        ]),
      );
      // And nothing else but Active (another test's integration).
      expect(states.filter(([state]) => state !== 'active')).toHaveLength(3);
    }
  });
});
