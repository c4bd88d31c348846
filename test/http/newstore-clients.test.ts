import { beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn } from '../helpers/fixtures.ts';

/*
 * Every request two public NewStore clients make, replayed byte for byte
 * with their headers, and what each client then reads from the answer.
 *
 * J = boratashan-ns/blueprint-heroku-java @ f4a3fe7 (unirest-java 3.13.6):
 *     NwsContext / DefaultRestClient (token, headers), EventStreamApiClient
 *     (register, start, stop, get, list) and SettingsView (what it reads).
 * P = wilsonwei2/CICD_From_RICKY, shared/newstore_adapter @ ed2b659 (python
 *     requests: auth.py, adapter.py, connector.py) and its callers at 46a4953
 *     (integrations/*\/aws/webhook_register.py, sailthru…/webhook.py) — the
 *     callers were deleted from HEAD in 21b334e.
 *
 * The J client sends no tenant header and no Accept; P sends `tenant`,
 * `X-AWS-Request-ID` and its own User-Agent. Both send
 * `Content-Type: application/json` on GETs too.
 */

const database = useTestDatabase();
let app: TestApp;
const HOST = 'https://frankandoak.x.newstore.net';
const PASSWORD = 'correct horse battery'; // signedIn()'s
let email: string;

beforeAll(async () => {
  app = createTestApp(database());
  ({ email } = await signedIn(database().db, ['view_tools'], 'integrations@frankandoak.example'));
});

const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  app.request(new Request(`${HOST}${path}`, { method, headers, body }));

/** What `String.format("%s %s", token_type, access_token)` makes of the token answer. */
let javaAuthorization: string;
/** What newstore_adapter's Bearer sends: the prefix is hard-coded, token_type ignored. */
let pythonAuthorization: string;

describe('J: blueprint-heroku-java', () => {
  const headers = () => ({
    Authorization: javaAuthorization,
    'Content-Type': 'application/json',
    'user-agent': 'unirest-java/3.1.00',
    'accept-encoding': 'gzip',
  });
  const ID = 'test-integration-heroku';

  test('token: POST /v0/token, text/plain, the fields joined unencoded; it reads token_type and access_token; 403 is "Invalid credentials"', async () => {
    const tokenHeaders = {
      'user-agent': 'unirest-java/3.1.00',
      'accept-encoding': 'gzip',
      'Content-Type': 'text/plain; charset=UTF-8',
    };
    const wrong = await send('POST', '/v0/token', tokenHeaders, `username=${email}&grant_type=password&password=wrong`);
    expect(wrong.status).toBe(403);
    const response = await send(
      'POST',
      '/v0/token',
      tokenHeaders,
      `username=${email}&grant_type=password&password=${PASSWORD}`,
    );
    expect(response.status).toBe(200);
    const token = await response.json(); // Gson onto NwsAccessToken
    expect(typeof token.token_type).toBe('string'); // absent, the header would read "null <token>"
    expect(typeof token.access_token).toBe('string');
    expect(typeof token.expires_in).toBe('number');
    javaAuthorization = `${token.token_type} ${token.access_token}`;
  });

  test('get before registering: 404 means "Integration is not registered"', async () => {
    const response = await send('GET', `/api/v1/org/integrations/eventstream/${ID}`, headers());
    expect(response.status).toBe(404);
  });

  test('register: the hand-built body with LF line breaks and starts_at = Instant.toString() of a day ago, at any precision', async () => {
    const dayAgo = new Date(Date.now() - 86_400_000).toISOString().slice(0, 19);
    for (const [index, fraction] of ['', '.123', '.123456', '.123456789'].entries()) {
      const id = index === 0 ? ID : `${ID}-${index}`;
      const payload =
        '{\n' +
        `"id": "${id}",\n` +
        '"integration_type": "permanent",\n' +
        `"starts_at": "${dayAgo}${fraction}Z",\n` +
        '"callback_parameters": {\n' +
        '"callback_url": "http://www.nst-dummy-url.co/xyz/es",\n' +
        '"api_key": "ASDFGHJQWERT0123456789"\n' +
        '}\n' +
        '}';
      const response = await send('POST', '/api/v1/org/integrations/eventstream', headers(), payload);
      expect({ fraction, status: response.status }).toEqual({ fraction, status: 201 });
      const body = await response.json();
      expect(body.starts_at).toBe(
        `${dayAgo}${fraction.slice(0, 4).padEnd(fraction ? 4 : 0, '0')}${fraction ? '' : '.000'}Z`,
      );
    }
  });

  test('get: a JSON object whose status it compares case-insensitively with running and stopped', async () => {
    const response = await send('GET', `/api/v1/org/integrations/eventstream/${ID}`, headers());
    expect(response.status).toBe(200);
    expect((await response.json()).status.toLowerCase()).toBe('running');
  });

  test('stop and start: an empty body with Content-Type application/json; only 2xx counts', async () => {
    for (const [action, status] of [
      ['_stop', 'stopped'],
      ['_start', 'running'],
    ] as const) {
      const response = await send(
        'POST',
        `/api/v1/org/integrations/eventstream/${ID}/${action}`,
        { ...headers(), 'Content-Length': '0' },
        '',
      );
      expect(response.status).toBe(200);
      const read = await send('GET', `/api/v1/org/integrations/eventstream/${ID}`, headers());
      expect((await read.json()).status).toBe(status);
    }
  });

  test('list: GET …/eventstream/ with its trailing slash', async () => {
    const response = await send('GET', '/api/v1/org/integrations/eventstream/', headers());
    expect(response.status).toBe(200);
    expect((await response.json()).integrations.map((integration: { id: string }) => integration.id)).toContain(ID);
  });
});

describe('P: CICD_From_RICKY newstore_adapter and its webhook registration callers', () => {
  const headers = () => ({
    'User-Agent': 'lambda-name#frankandoak-sf-register-webhook/$LATEST integrator-name#newstore-integrations',
    'Accept-Encoding': 'gzip, deflate',
    Accept: '*/*',
    Connection: 'keep-alive',
    'Content-Type': 'application/json',
    tenant: 'frankandoak',
    'X-AWS-Request-ID': '6c1f2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f',
    Authorization: pythonAuthorization,
  });
  /** adapter.py: any status ≥ 400 raises NewStoreAdapterException(response.text); a 2xx is read with .json(). */
  async function adapter(method: string, path: string, body?: string) {
    const response = await send(method, `/api/v1/org/integrations/eventstream${path}`, headers(), body);
    const text = await response.text();
    if (response.status >= 400) return { raised: text };
    expect(response.status).toBeLessThan(300);
    return { json: JSON.parse(text) }; // a 2xx without a JSON body would raise JSONDecodeError
  }

  test('token: form-encoded by requests (grant_type, username, password); access_token is a JWT with exp and expires_in an integer', async () => {
    const body = `grant_type=password&username=${encodeURIComponent(email).replace(/%20/g, '+')}&password=${PASSWORD.replace(/ /g, '+')}`;
    const response = await send(
      'POST',
      '/v0/token',
      {
        'User-Agent': 'python-requests/2.25.1',
        'Accept-Encoding': 'gzip, deflate',
        Accept: '*/*',
        Connection: 'keep-alive',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body,
    );
    expect(response.status).toBe(200);
    const token = await response.json();
    expect(Number.isInteger(token.expires_in)).toBe(true); // cached only when it is
    // auth_token_generator: jwt.decode(token, options={"verify_signature": False})["exp"]
    const claims = JSON.parse(Buffer.from(token.access_token.split('.')[1], 'base64url').toString());
    expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
    pythonAuthorization = `Bearer ${token.access_token}`;
  });

  test('webhook_register.py (netsuite, shopify_fulfillment, shopify_process_cancellation): not found → create with event_filter and entity_filter → running', async () => {
    const name = 'frankandoak-sf-event-to-sqs';
    const missing = await adapter('GET', `/${name}`);
    expect(missing.raised).toContain('resource_not_found'); // the only test the callers make
    // json.dumps with its default separators, keys in insertion order.
    const created = await adapter(
      'POST',
      '',
      '{"id": "frankandoak-sf-event-to-sqs", "callback_parameters": {"callback_url": "https://abc123.execute-api.us-east-1.amazonaws.com/x/shopify_fulfillment/receive_event"}, "integration_type": "permanent", "filter_conditions": {"event_filter": ["fulfillment_request.items_completed"], "entity_filter": []}}',
    );
    expect(created.json).toMatchObject({
      id: name,
      filter_conditions: { event_filter: ['fulfillment_request.items_completed'], entity_filter: [] },
    });
    const found = await adapter('GET', `/${name}`);
    expect(found.json.status === 'running').toBe(true); // _validate_hook_is_active: nothing more to do
    // The netsuite receiver's ten events at once.
    const netsuite = await adapter(
      'POST',
      '',
      JSON.stringify({
        id: 'fao-netsuite-event-stream-receiver',
        callback_parameters: {
          callback_url: 'https://abc123.execute-api.us-east-1.amazonaws.com/x/netsuite_integration/receive_event',
        },
        integration_type: 'permanent',
        filter_conditions: {
          event_filter:
            'order.items_cancelled,refund_request.issued,return.processed,fulfillment_request.items_completed,order.cancelled,order.opened,inventory_transaction.items_received,inventory_transaction.asn_created,fulfillment_request.assigned,inventory_transaction.adjustment_created'.split(
              ',',
            ),
          entity_filter: [],
        },
      })
        .replaceAll('":', '": ')
        .replaceAll(',"', ', "'),
    );
    expect(netsuite.json.filter_conditions.event_filter).toHaveLength(10);
  });

  test('webhook_register.py: a stopped hook is restarted with POST _start and body {}', async () => {
    const name = 'frankandoak-shopify-cancellation-event-to-sqs';
    await adapter(
      'POST',
      '',
      `{"id": "${name}", "callback_parameters": {"callback_url": "https://abc123.execute-api.us-east-1.amazonaws.com/x/shopify_process_cancellation/receive_event"}, "integration_type": "permanent", "filter_conditions": {"event_filter": ["order.cancelled"], "entity_filter": []}}`,
    );
    await adapter('POST', `/${name}/_stop`, '{}');
    const hook = await adapter('GET', `/${name}`);
    expect(hook.json.status === 'running').toBe(false);
    const restarted = await adapter('POST', `/${name}/_start`, '{}');
    expect(restarted.json.status).toBe('running');
  });

  test('webhook.py (sailthru): create with event_filter only; a changed URL → _stop until not running, PATCH, then _start', async () => {
    const name = 'sailthru-events';
    const url = 'https://abc123.execute-api.us-east-1.amazonaws.com/x/sailthru-event';
    expect((await adapter('GET', `/${name}`)).raised).toContain('resource_not_found');
    const created = await adapter(
      'POST',
      '',
      `{"id": "${name}", "callback_parameters": {"callback_url": "https://old.example.com/sailthru-event"}, "integration_type": "permanent", "filter_conditions": {"event_filter": ["fulfillment_request.items_completed", "order.items_cancelled"]}}`,
    );
    expect(created.json.filter_conditions).toEqual({
      event_filter: ['fulfillment_request.items_completed', 'order.items_cancelled'],
      entity_filter: [],
    });

    let hook = (await adapter('GET', `/${name}`)).json;
    expect(hook.callback_parameters.callback_url === url).toBe(false); // _validate_callback_url
    let stops = 0;
    while (hook.status === 'running') {
      hook = (await adapter('POST', `/${hook.id}/_stop`, '{}')).json; // it reads id and status from _stop's answer
      if (++stops > 3) throw new Error('_stop kept answering running: the client would loop forever');
    }
    expect(stops).toBe(1);
    // requests' json= : json.dumps, the same separators.
    const updated = (await adapter('PATCH', `/${hook.id}`, `{"callback_parameters": {"callback_url": "${url}"}}`)).json;
    expect(updated.callback_parameters.callback_url).toBe(url);
    expect(updated.status === 'running').toBe(false);
    expect((await adapter('POST', `/${name}/_start`, '{}')).json.status).toBe('running');
  });

  test('get_integrations: GET …/eventstream without a slash lists them', async () => {
    const listed = await adapter('GET', '');
    expect(listed.json.integrations.map((integration: { id: string }) => integration.id)).toEqual(
      expect.arrayContaining(['sailthru-events', 'frankandoak-sf-event-to-sqs']),
    );
  });
});
