import { beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { createIntegration, setIntegrationStatus } from '../../src/integrations/integrations.service.ts';
import { signedIn, testSecrets } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
let user: Awaited<ReturnType<typeof signedIn>>;
const API_KEY = 'ui-secret-api-key-77f1';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYUI-SECRET';
/** Every stored secret the pages must never show: the API key, the AWS secret, each signing secret. */
const storedSecrets = new Set([API_KEY, AWS_SECRET]);

async function rememberSigningSecret(id: string) {
  const row = await database()
    .db.selectFrom('integrations')
    .select('signing_secret_enc')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  storedSecrets.add(testSecrets.decrypt(row.signing_secret_enc));
}

beforeAll(async () => {
  app = createTestApp(database());
  user = await signedIn(database().db, ['view_tools'], 'admin@example.com');
});

async function request(
  path: string,
  init: {
    method?: string;
    form?: Record<string, string | string[]>;
    htmx?: boolean;
    csrf?: boolean;
    revealsSigningSecret?: boolean;
  } = {},
) {
  const headers: Record<string, string> = { cookie: user.cookie };
  let body: string | undefined;
  if (init.form) {
    const params = new URLSearchParams();
    if (init.csrf !== false && !init.htmx) params.append('_csrf', user.csrfToken);
    for (const [key, value] of Object.entries(init.form)) for (const item of [value].flat()) params.append(key, item);
    body = params.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  if (init.htmx) {
    headers['hx-request'] = 'true';
    if (init.csrf !== false) headers['x-csrf-token'] = user.csrfToken;
  }
  const response = await app.request(path, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body });
  const text = await response.text();
  // No page or fragment may carry a stored secret, but the signing secret where it was asked for.
  for (const secret of storedSecrets) {
    if (init.revealsSigningSecret && secret.startsWith('whsec_')) continue;
    expect({ path, leaked: text.includes(secret) }).toEqual({ path, leaked: false });
  }
  return { response, text };
}

/**
 * Each test starts from the integrations it needs, whatever ran before it:
 * none, or erp-main as the New Integration form would create it, running or paused.
 */
async function only(...integrations: ('erp-main' | 'erp-main-paused')[]) {
  await database().db.deleteFrom('integrations').execute();
  for (const which of integrations) {
    await createIntegration(
      database().db,
      testSecrets,
      {
        id: 'erp-main',
        integrationType: 'permanent',
        filter: { entities: ['order', 'return'], events: ['fulfillment_request.assigned'] },
        target: { kind: 'webhook', callbackUrl: NEW_WEBHOOK.callback_url, apiKey: API_KEY },
      },
      'admin@example.com',
    );
    if (which === 'erp-main-paused')
      await setIntegrationStatus(database().db, 'erp-main', 'stopped', 'Paused in the UI', 'admin@example.com');
    await rememberSigningSecret('erp-main');
  }
}

const NEW_WEBHOOK = {
  id: 'erp-main',
  integration_type: 'permanent',
  entities: ['order', 'return'],
  events: ['fulfillment_request.assigned'],
  target: 'webhook',
  callback_url: 'https://erp.example.com/hooks/tideway',
  api_key: API_KEY,
};

describe('New Integration', () => {
  test('the form lists every entity and event type, grouped', async () => {
    const { response, text } = await request('/tools/event-stream/new');
    expect(response.status).toBe(200);
    expect(text).toContain('<fieldset class="entity" data-entity="fulfillment_request">');
    expect(text).toContain('value="inventory_count.items_counted"');
    expect(text).toContain('deprecated: use order.completed');
    expect(text).toContain('<label for="callback_url">Callback URL</label>');
  });

  test('without the CSRF token nothing is created', async () => {
    await only();
    const { response } = await request('/tools/event-stream/new', { form: NEW_WEBHOOK, csrf: false });
    expect(response.status).toBe(403);
    expect(await database().db.selectFrom('integrations').select('id').execute()).toEqual([]);
  });

  test('errors appear next to their fields and what was typed is kept (secrets excepted)', async () => {
    await only();
    const { response, text } = await request('/tools/event-stream/new', {
      form: { ...NEW_WEBHOOK, callback_url: 'erp.example.com/hooks' },
    });
    expect(response.status).toBe(422);
    expect(text).toContain('One field needs your attention. Nothing was saved.');
    expect(text).toMatch(
      /<input id="callback_url" name="callback_url" aria-invalid="true" aria-describedby="callback_url-error" type="url" value="erp.example.com\/hooks"/,
    );
    expect(text).toContain('<p class="field-error" id="callback_url-error">Must be an http:// or https:// URL');
    expect(text).toContain('value="erp-main"');
    expect(text).toMatch(/value="order" checked="" data-entity-toggle/);
    expect(text).toMatch(/value="fulfillment_request.assigned" checked=""/);
    expect(await database().db.selectFrom('integrations').select('id').execute()).toEqual([]);
  });

  test('a temporary integration needs an end date; an S3 target needs its fields', async () => {
    await only();
    const temporary = await request('/tools/event-stream/new', {
      form: { ...NEW_WEBHOOK, integration_type: 'temporary' },
    });
    expect(temporary.text).toContain(
      '<p class="field-error" id="ends_at-error">Required for a temporary integration.</p>',
    );
    const s3 = await request('/tools/event-stream/new', {
      form: { id: 'lake', integration_type: 'permanent', target: 's3', bucket: 'x' },
    });
    expect(s3.text).toContain('id="aws_access_key_id-error"');
    expect(s3.text).toContain('id="bucket-error"');
    expect(s3.text).toContain('id="aws_region-error"');
  });

  test('a valid form creates and starts it, logs who did it, and stores the API key encrypted', async () => {
    await only();
    const { response } = await request('/tools/event-stream/new', { form: NEW_WEBHOOK });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/tools/event-stream?created=erp-main');
    await rememberSigningSecret('erp-main');
    const row = await database()
      .db.selectFrom('integrations')
      .selectAll()
      .where('id', '=', 'erp-main')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'running',
      filter_entities: ['order', 'return'],
      filter_events: ['fulfillment_request.assigned'],
      callback_url: NEW_WEBHOOK.callback_url,
    });
    expect(testSecrets.decrypt(row.api_key_enc!)).toBe(API_KEY);
    const logs = await database()
      .db.selectFrom('integration_logs')
      .selectAll()
      .where('integration_id', '=', 'erp-main')
      .execute();
    expect(logs).toMatchObject([{ action: 'started', reason: 'Integration created', actor: 'admin@example.com' }]);
  });

  test('a duplicate ID is refused next to the ID field', async () => {
    await only('erp-main');
    const { response, text } = await request('/tools/event-stream/new', { form: NEW_WEBHOOK });
    expect(response.status).toBe(422);
    expect(text).toContain(
      '<p class="field-error" id="id-error">An integration with the ID &quot;erp-main&quot; already exists. Choose another ID.</p>',
    );
  });
});

describe('the list', () => {
  test('tabs with counts; a row with type, target URL, events, health, backlog and actions', async () => {
    await only('erp-main');
    const { text } = await request('/tools/event-stream?created=erp-main');
    expect(text).toContain('Integration “erp-main” created and started.');
    expect(text).toMatch(/data-tab="all">All <span class="count">1<\/span>/);
    expect(text).toMatch(/data-tab="active">Active <span class="count">1<\/span>/);
    expect(text).toMatch(/data-tab="paused">Paused <span class="count">0<\/span>/);
    // The whole callback URL, cut short on the page with all of it in the tooltip.
    expect(text).toContain(
      '<span class="mono truncate" title="https://erp.example.com/hooks/tideway">https://erp.example.com/hooks/tideway</span>',
    );
    expect(text).toContain('order (all), return (all) + fulfillment_request.assigned');
    for (const action of ['View Events', 'View Rejected Events', 'View Logs', 'Edit Integration Details'])
      expect(text).toContain(action);
    const paused = await request('/tools/event-stream?tab=paused');
    expect(paused.text).toContain('No paused integrations');
  });

  test('banners come from a fixed set: an id is shown only when it names an integration; anything else says nothing', async () => {
    await only('erp-main');
    const phishing = 'Your session expired: call +1 555 0100 to restore access';
    for (const code of ['created', 'saved']) {
      const { text } = await request(`/tools/event-stream?${code}=${encodeURIComponent(phishing)}`);
      expect(text).not.toContain('555 0100');
      expect(text).not.toContain('alert-success');
    }
    const deleted = await request(`/tools/event-stream?deleted=${encodeURIComponent(phishing)}`);
    expect(deleted.text).not.toContain('555 0100');
    expect(deleted.text).toContain('Integration deleted.');
    const saved = await request('/tools/event-stream?saved=erp-main');
    expect(saved.text).toContain('Integration “erp-main” saved.');
    const retried = await request(`/tools/event-stream/erp-main/events?retried=${encodeURIComponent(phishing)}`);
    expect(retried.text).not.toContain('555 0100');
  });

  test('the switch pauses in place: the row fragment and the new counts, with a log entry', async () => {
    await only('erp-main');
    const { response, text } = await request('/tools/event-stream/erp-main/status', {
      form: { tab: 'all', status: 'stopped' },
      htmx: true,
    });
    expect(response.status).toBe(200);
    expect(text).toStartWith('<tr id="integration-erp-main" data-status="stopped" data-health="paused">');
    expect(text).not.toContain('<!DOCTYPE');
    expect(text).toContain('aria-checked="false"');
    // Its next press asks to start it.
    expect(text).toContain('<input type="hidden" name="status" value="running"/>');
    expect(text).toContain('<hx-partial hx-target="#integration-tabs" hx-swap="outerHTML">');
    expect(text).toMatch(/data-tab="paused">Paused <span class="count">1<\/span>/);
    const logs = await database()
      .db.selectFrom('integration_logs')
      .select(['action', 'reason', 'actor'])
      .where('integration_id', '=', 'erp-main')
      .orderBy('id')
      .execute();
    expect(logs.at(-1)).toEqual({ action: 'stopped', reason: 'Paused in the UI', actor: 'admin@example.com' });
  });

  test('the switch sets a state, it does not flip one: sent twice, the second changes nothing and logs nothing', async () => {
    await only('erp-main');
    const press = () =>
      request('/tools/event-stream/erp-main/status', { form: { tab: 'all', status: 'stopped' }, htmx: true });
    await press();
    const again = await press();
    expect(again.response.status).toBe(200);
    expect(again.text).toContain('aria-checked="false"');
    const row = await database()
      .db.selectFrom('integrations')
      .select('status')
      .where('id', '=', 'erp-main')
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('stopped');
    const stops = await database()
      .db.selectFrom('integration_logs')
      .select('id')
      .where('integration_id', '=', 'erp-main')
      .where('action', '=', 'stopped')
      .execute();
    expect(stops).toHaveLength(1);
    const refused = await request('/tools/event-stream/erp-main/status', { form: { tab: 'all' }, htmx: true });
    expect(refused.response.status).toBe(400);
  });

  test('on the Paused tab, starting it removes the row from that tab, and the tab shows its empty state', async () => {
    await only('erp-main-paused');
    const { response, text } = await request('/tools/event-stream/erp-main/status', {
      form: { tab: 'paused', status: 'running' },
      htmx: true,
    });
    expect(response.headers.get('hx-reswap')).toBe('delete');
    expect(text).not.toContain('<tr');
    expect(text).toMatch(/data-tab="active">Active <span class="count">1<\/span>/);
    expect(text).toContain('<hx-partial hx-target="#integration-list" hx-swap="innerHTML">');
    expect(text).toContain('No paused integrations');
  });

  test('without htmx the switch is a form post that comes back to the list', async () => {
    await only('erp-main');
    const { response } = await request('/tools/event-stream/erp-main/status', {
      form: { tab: 'active', status: 'stopped' },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/tools/event-stream?tab=active');
    expect(
      (
        await database()
          .db.selectFrom('integrations')
          .select('status')
          .where('id', '=', 'erp-main')
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('stopped');
  });

  test('htmx requests without the CSRF header are refused, and change nothing', async () => {
    await only('erp-main');
    const before = await database()
      .db.selectFrom('integrations')
      .select(['status', 'updated_at'])
      .where('id', '=', 'erp-main')
      .executeTakeFirstOrThrow();
    const logs = await database()
      .db.selectFrom('integration_logs')
      .select('id')
      .where('integration_id', '=', 'erp-main')
      .execute();
    const { response } = await request('/tools/event-stream/erp-main/status', {
      form: { tab: 'all', status: 'stopped' },
      htmx: true,
      csrf: false,
    });
    expect(response.status).toBe(403);
    expect(
      await database()
        .db.selectFrom('integrations')
        .select(['status', 'updated_at'])
        .where('id', '=', 'erp-main')
        .executeTakeFirstOrThrow(),
    ).toEqual(before);
    expect(
      await database()
        .db.selectFrom('integration_logs')
        .select('id')
        .where('integration_id', '=', 'erp-main')
        .execute(),
    ).toEqual(logs);
  });
});

describe('Edit Integration Details', () => {
  test('shows the stored values and the API key only as a mask', async () => {
    await only('erp-main');
    const { text } = await request('/tools/event-stream/erp-main/edit');
    expect(text).toContain('value="https://erp.example.com/hooks/tideway"');
    expect(text).toContain(`Stored: ••••${API_KEY.slice(-4)}. Leave empty to keep it.`);
    expect(text).not.toContain('<input id="id"');
  });

  test('changes the events and the callback URL; an empty API key keeps the stored one', async () => {
    await only('erp-main');
    const { response } = await request('/tools/event-stream/erp-main/edit', {
      form: {
        entities: ['invoice'],
        events: ['order.completed', 'refund_request.issued'],
        target: 'webhook',
        callback_url: 'https://erp.example.com/v2',
        api_key: '',
      },
    });
    expect(response.status).toBe(303);
    const row = await database()
      .db.selectFrom('integrations')
      .selectAll()
      .where('id', '=', 'erp-main')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      filter_entities: ['invoice'],
      filter_events: ['order.completed', 'refund_request.issued'],
      callback_url: 'https://erp.example.com/v2',
    });
    expect(testSecrets.decrypt(row.api_key_enc!)).toBe(API_KEY);
  });

  test('a new callback host with the API key left empty is refused next to the API key; nothing changes', async () => {
    await only('erp-main');
    const { response, text } = await request('/tools/event-stream/erp-main/edit', {
      form: { ...NEW_WEBHOOK, callback_url: 'https://attacker.example.net/collect', api_key: '' },
    });
    expect(response.status).toBe(422);
    expect(text).toContain('<p class="field-error" id="api_key-error">Needed again for https://attacker.example.net');
    const row = await database()
      .db.selectFrom('integrations')
      .select('callback_url')
      .where('id', '=', 'erp-main')
      .executeTakeFirstOrThrow();
    expect(row.callback_url).toBe(NEW_WEBHOOK.callback_url);
  });

  test('an unknown integration is a 404 page, on every page that names one', async () => {
    for (const page of ['edit', 'delete', 'events', 'events/retry', 'logs', 'rejected-events', 'rejected-events.csv']) {
      const { response, text } = await request(`/tools/event-stream/ghost-one/${page}`);
      expect({ page, status: response.status }).toEqual({ page, status: 404 });
      expect(text).toContain('There is no integration &quot;ghost-one&quot;.');
      expect(text).toContain('<title>Not found · Tideway</title>');
    }
  });

  test('the signing secret is revealed and rotated only on request', async () => {
    await only('erp-main');
    const revealed = await request('/tools/event-stream/erp-main/signing-secret', {
      form: {},
      htmx: true,
      revealsSigningSecret: true,
    });
    const secret = /whsec_[A-Za-z0-9+/=]+/.exec(revealed.text)?.[0];
    expect(secret).toBeDefined();
    const rotated = await request('/tools/event-stream/erp-main/signing-secret/rotate', {
      form: {},
      htmx: true,
      revealsSigningSecret: true,
    });
    expect(rotated.text).toContain('The previous one keeps signing alongside it for 24 hours.');
    expect(rotated.text).not.toContain(secret!);
  });
});

describe('delete', () => {
  test('without JavaScript, a confirmation page; with htmx, the row goes and the counts follow', async () => {
    await only('erp-main');
    const confirm = await request('/tools/event-stream/erp-main/delete');
    expect(confirm.text).toContain('Delete “erp-main”?');
    const { response, text } = await request('/tools/event-stream/erp-main/delete', { form: {}, htmx: true });
    expect(response.status).toBe(200);
    expect(text).toMatch(/data-tab="all">All <span class="count">0<\/span>/);
    // The last row gone, the list shows its empty state instead of a bare table header.
    expect(text).toContain('No integrations yet');
    expect(await database().db.selectFrom('integrations').select('id').execute()).toEqual([]);
    expect(
      await database()
        .db.selectFrom('integration_logs')
        .select('id')
        .where('integration_id', '=', 'erp-main')
        .execute(),
    ).toEqual([]);
  });
});

test('an S3 integration: created from the form, its edit page shows the AWS secret only as a mask', async () => {
  const { response } = await request('/tools/event-stream/new', {
    form: {
      id: 'ui-lake',
      integration_type: 'permanent',
      target: 's3',
      aws_access_key_id: 'AKIAUITEST',
      aws_secret_access_key: AWS_SECRET,
      aws_region: 'eu-central-1',
      bucket: 'ui-lake',
    },
  });
  expect(response.status).toBe(303);
  await rememberSigningSecret('ui-lake');
  const edit = await request('/tools/event-stream/ui-lake/edit');
  expect(edit.text).toContain(`••••${AWS_SECRET.slice(-4)}`);
  await request('/tools/event-stream');
});

describe('Delivery order', () => {
  test('the New form sets it, the list says it, and Edit changes it', async () => {
    await only();
    const form = await request('/tools/event-stream/new');
    expect(form.text).toContain('Any order — fastest');
    expect(form.text).toContain('In order per domain entity');
    const created = await request('/tools/event-stream/new', {
      form: { ...NEW_WEBHOOK, ordering: 'by_domain_entity' },
    });
    expect(created.response.status).toBe(303);
    const stored = () =>
      database()
        .db.selectFrom('integrations')
        .select('ordering')
        .where('id', '=', 'erp-main')
        .executeTakeFirstOrThrow();
    expect((await stored()).ordering).toBe('by_domain_entity');
    expect((await request('/tools/event-stream')).text).toContain('>in order</span>');

    const edit = await request('/tools/event-stream/erp-main/edit');
    expect(edit.text).toMatch(/value="by_domain_entity"[^>]*checked/);
    const { api_key: _key, id: _id, integration_type: _type, ...unchanged } = NEW_WEBHOOK;
    const saved = await request('/tools/event-stream/erp-main/edit', { form: { ...unchanged, ordering: 'unordered' } });
    expect(saved.response.status).toBe(303);
    expect((await stored()).ordering).toBe('unordered');
    expect((await request('/tools/event-stream')).text).not.toContain('>in order</span>');
  });
});
