import { beforeAll, describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/lib/log.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn, testSecrets, tokenWith } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
let viewer: string;
let publisher: string;

beforeAll(async () => {
  app = createTestApp(database());
  viewer = await tokenWith(database().db, 'view_tools');
  publisher = await tokenWith(database().db, 'publish_events');
});

const BASE = '/api/v1/org/integrations/eventstream';
const API_KEY = 'erp-api-key-5b2f9a3f9a';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

function call(method: string, path: string, body?: unknown, token: string | null = viewer) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return app.request(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function json(response: Response) {
  const text = await response.text();
  // No response may ever carry a stored secret in full.
  for (const secret of [API_KEY, AWS_SECRET]) expect(text).not.toContain(secret);
  return JSON.parse(text);
}

describe('NewStore client request shapes', () => {
  test('POST with id, integration_type, starts_at and callback_parameters creates and starts it; GET lists it masked', async () => {
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const created = await call('POST', '', {
      id: 'erp-netsuite-integration-001',
      integration_type: 'permanent',
      starts_at: startsAt,
      callback_parameters: { callback_url: 'https://erp.example.com/newstore/events', api_key: API_KEY },
    });
    expect(created.status).toBe(201);
    const body = await json(created);
    expect(body).toMatchObject({
      id: 'erp-netsuite-integration-001',
      integration_type: 'permanent',
      status: 'running',
      starts_at: startsAt,
      ends_at: null,
      filter_conditions: { event_filter: [], entity_filter: [] },
      callback_parameters: {
        callback_url: 'https://erp.example.com/newstore/events',
        api_key: `••••${API_KEY.slice(-4)}`,
      },
      stats: { pending: 0, delivered: 0, failed: 0, rejected: 0, last_delivery_at: null, oldest_pending_at: null },
    });
    expect(body).not.toHaveProperty('s3_parameters');

    const listed = await call('GET', '');
    expect(listed.status).toBe(200);
    const list = await json(listed);
    expect(list.next_cursor).toBeNull();
    expect(list.integrations.map((integration: { id: string }) => integration.id)).toEqual([
      'erp-netsuite-integration-001',
    ]);

    const stored = await database()
      .db.selectFrom('integrations')
      .selectAll()
      .where('id', '=', 'erp-netsuite-integration-001')
      .executeTakeFirstOrThrow();
    expect(stored.api_key_enc).not.toContain(API_KEY);
    expect(testSecrets.decrypt(stored.api_key_enc!)).toBe(API_KEY);
    const log = await database()
      .db.selectFrom('integration_logs')
      .selectAll()
      .where('integration_id', '=', stored.id)
      .execute();
    expect(log).toMatchObject([
      { action: 'started', reason: 'Integration created', actor: expect.stringContaining('API token') },
    ]);
  });

  test('every field round-trips: a temporary S3 integration with filters', async () => {
    const request = {
      id: 'warehouse_s3',
      integration_type: 'temporary',
      starts_at: '2026-11-01T00:00:00.000Z',
      ends_at: '2027-01-01T00:00:00.000Z',
      filter_conditions: { entity_filter: ['order', 'return'], event_filter: ['fulfillment_request.assigned'] },
      s3_parameters: {
        aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE',
        aws_secret_access_key: AWS_SECRET,
        aws_region: 'eu-central-1',
        bucket: 'acme-events',
        key_prefix: 'tideway/prod/',
        endpoint: 'http://127.0.0.1:4569',
        gzip: true,
      },
    };
    const created = await json(await call('POST', '', request));
    const read = await json(await call('GET', '/warehouse_s3'));
    for (const body of [created, read]) {
      expect(body).toMatchObject({
        ...request,
        status: 'running',
        s3_parameters: {
          ...request.s3_parameters,
          key_prefix: 'tideway/prod',
          aws_secret_access_key: `••••${AWS_SECRET.slice(-4)}`,
        },
      });
    }
  });

  test('S3 compression: gzip: true still means gzip; compression none, gzip or zstd; the two must agree', async () => {
    const s3 = {
      aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      aws_secret_access_key: AWS_SECRET,
      aws_region: 'eu-central-1',
      bucket: 'acme-events',
    };
    const create = (id: string, extra: Record<string, unknown>) =>
      call('POST', '', { id, integration_type: 'permanent', s3_parameters: { ...s3, ...extra } });
    const compressionOf = async (response: Response) =>
      ((await json(response)) as { s3_parameters: { compression: string; gzip: boolean } }).s3_parameters;
    expect(await compressionOf(await create('lake-old-flag', { gzip: true }))).toEqual(
      expect.objectContaining({ compression: 'gzip', gzip: true }),
    );
    expect(await compressionOf(await create('lake-plain', {}))).toEqual(
      expect.objectContaining({ compression: 'none', gzip: false }),
    );
    expect(await compressionOf(await create('lake-zstd', { compression: 'zstd' }))).toEqual(
      expect.objectContaining({ compression: 'zstd', gzip: false }),
    );
    const conflict = await create('lake-both', { compression: 'zstd', gzip: true });
    expect(conflict.status).toBe(422);
    expect(JSON.stringify(await json(conflict))).toContain('is zstd but gzip is true: give compression alone');
    const unknown = await create('lake-lz4', { compression: 'lz4' });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(await json(unknown))).toContain('must be none, gzip or zstd');

    const patched = await call('PATCH', '/lake-old-flag', { s3_parameters: { compression: 'zstd' } });
    expect(await compressionOf(patched)).toEqual(expect.objectContaining({ compression: 'zstd', gzip: false }));
    const back = await call('PATCH', '/lake-old-flag', { s3_parameters: { gzip: false } });
    expect(await compressionOf(back)).toEqual(expect.objectContaining({ compression: 'none' }));
  });

  test('S3 format and key template: stored and shown; a template that cannot work is refused saying why, field by field', async () => {
    const s3 = {
      aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      aws_secret_access_key: AWS_SECRET,
      aws_region: 'eu-central-1',
      bucket: 'acme-events',
    };
    const create = (id: string, extra: Record<string, unknown>) =>
      call('POST', '', { id, integration_type: 'permanent', s3_parameters: { ...s3, ...extra } });
    const target = async (response: Response) =>
      ((await json(response)) as { s3_parameters: { format: string; key_template: string } }).s3_parameters;

    expect(await target(await create('lake-default-keys', {}))).toEqual(
      expect.objectContaining({
        format: 'ndjson',
        key_template: '{key_prefix}/{tenant}/{timestamp_ms}-data-{batch_id}',
      }),
    );
    const hive = '{key_prefix}/event_name={event_name}/dt={yyyy}-{MM}-{dd}/hour={HH}/{timestamp_ms}-{batch_id}';
    const created = await create('lake-hive', { format: 'parquet', compression: 'zstd', key_template: hive });
    expect(created.status).toBe(201);
    expect(await target(created)).toEqual(expect.objectContaining({ format: 'parquet', key_template: hive }));

    const refusals: [string, string][] = [
      ['{key_prefix}/{event}/{batch_id}', '{event} is not a placeholder'],
      ['{key_prefix}/{event_name}/{timestamp_ms}', 'must contain {batch_id}'],
      ['{key_prefix}/my events/{batch_id}', '" " (character 16) should not be in an S3 key'],
      ['{key_prefix}/a#b/{batch_id}', '"#" (character 15) should not be in an S3 key'],
      ['{key_prefix}/{batch_id', 'a { outside a placeholder'],
      ['/{tenant}/{batch_id}', 'must not start with /'],
      ['{key_prefix}//{batch_id}', 'must not hold an empty segment'],
      ['{key_prefix}/../{batch_id}', 'must not hold a . or .. segment'],
      ['{key_prefix}/{batch_id}/', 'must end with a name, not /'],
    ];
    for (const [template, message] of refusals) {
      const refused = await create('lake-refused', { key_template: template });
      expect(refused.status).toBe(422);
      const problem = (await json(refused)) as { errors: { field: string; message: string }[] };
      expect(problem.errors).toContainEqual({
        field: 's3_parameters.key_template',
        message: expect.stringContaining(message),
      });
    }
    const wrongFormat = await create('lake-refused', { format: 'avro' });
    expect(wrongFormat.status).toBe(422);
    expect(JSON.stringify(await json(wrongFormat))).toContain('must be ndjson or parquet');
    expect(
      await database().db.selectFrom('integrations').select('id').where('id', '=', 'lake-refused').execute(),
    ).toEqual([]);

    // PATCH: a bad template changes nothing; null (or empty) goes back to NewStore's key.
    const badPatch = await call('PATCH', '/lake-hive', { s3_parameters: { key_template: '{key_prefix}/{day}' } });
    expect(badPatch.status).toBe(422);
    expect(await target(await call('GET', '/lake-hive'))).toEqual(expect.objectContaining({ key_template: hive }));
    const reset = await call('PATCH', '/lake-hive', { s3_parameters: { key_template: null, format: 'ndjson' } });
    expect(await target(reset)).toEqual(
      expect.objectContaining({
        format: 'ndjson',
        key_template: '{key_prefix}/{tenant}/{timestamp_ms}-data-{batch_id}',
      }),
    );
  });

  test('PATCH changes events and target details; an empty secret keeps the stored one', async () => {
    const patched = await call('PATCH', '/erp-netsuite-integration-001', {
      filter_conditions: { entities: ['invoice'], events: ['order.completed'] },
      callback_parameters: { callback_url: 'https://erp.example.com/v2/events', api_key: '' },
    });
    expect(patched.status).toBe(200);
    expect(await json(patched)).toMatchObject({
      filter_conditions: { event_filter: ['order.completed'], entity_filter: ['invoice'] },
      callback_parameters: { callback_url: 'https://erp.example.com/v2/events', api_key: `••••${API_KEY.slice(-4)}` },
    });
    const stored = await database()
      .db.selectFrom('integrations')
      .select('api_key_enc')
      .where('id', '=', 'erp-netsuite-integration-001')
      .executeTakeFirstOrThrow();
    expect(testSecrets.decrypt(stored.api_key_enc!)).toBe(API_KEY);
  });

  test('PATCH refuses what cannot change: id, type, window, another target kind', async () => {
    const refused = await call('PATCH', '/erp-netsuite-integration-001', {
      id: 'renamed',
      integration_type: 'temporary',
    });
    expect(refused.status).toBe(422);
    const problem = await json(refused);
    expect(problem.errors).toEqual([
      { field: 'id', message: 'cannot be changed after creation' },
      { field: 'integration_type', message: 'cannot be changed after creation' },
    ]);
    const kind = await call('PATCH', '/erp-netsuite-integration-001', { s3_parameters: { bucket: 'other-bucket' } });
    expect(kind.status).toBe(422);
    expect((await json(kind)).errors[0].field).toBe('s3_parameters');
  });

  test('_stop and _start take {} or an empty body, log the reason and the actor', async () => {
    const stopped = await call('POST', '/erp-netsuite-integration-001/_stop', { reason: 'ERP maintenance window' });
    expect((await json(stopped)).status).toBe('stopped');
    const started = await call('POST', '/erp-netsuite-integration-001/_start');
    expect((await json(started)).status).toBe('running');
    const again = await call('POST', '/erp-netsuite-integration-001/_start', {});
    expect(again.status).toBe(200);
    const logs = await database()
      .db.selectFrom('integration_logs')
      .select(['action', 'reason', 'actor'])
      .where('integration_id', '=', 'erp-netsuite-integration-001')
      .orderBy('id')
      .execute();
    expect(logs.map((log) => [log.action, log.reason])).toEqual([
      ['started', 'Integration created'],
      ['stopped', 'ERP maintenance window'],
      ['started', 'Started through the API'],
    ]);
    expect(logs.every((log) => log.actor === 'API token "test-view_tools"')).toBe(true);
  });

  test('the signing secret: revealed on request, given at creation, rotated', async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    await json(
      await call('POST', '', {
        id: 'signed-one',
        integration_type: 'permanent',
        callback_parameters: { callback_url: 'https://a.example.com/h' },
        signing_secret: secret,
      }),
    );
    expect(await (await call('GET', '/signed-one/signing-secret')).json()).toEqual({ signing_secret: secret });
    const generated = (await (await call('GET', '/erp-netsuite-integration-001/signing-secret')).json()) as {
      signing_secret: string;
    };
    expect(generated.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const rotated = (await (await call('POST', '/signed-one/signing-secret/_rotate')).json()) as {
      signing_secret: string;
    };
    expect(rotated.signing_secret).not.toBe(secret);
    const row = await database()
      .db.selectFrom('integrations')
      .selectAll()
      .where('id', '=', 'signed-one')
      .executeTakeFirstOrThrow();
    expect(testSecrets.decrypt(row.previous_signing_secret_enc!)).toBe(secret);
    expect(row.previous_signing_secret_expires_at!.getTime()).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  });

  test('DELETE removes it with its logs; then it is 404', async () => {
    expect((await call('DELETE', '/signed-one')).status).toBe(204);
    expect((await call('GET', '/signed-one')).status).toBe(404);
    expect(
      await database()
        .db.selectFrom('integration_logs')
        .select('id')
        .where('integration_id', '=', 'signed-one')
        .execute(),
    ).toEqual([]);
    expect((await call('DELETE', '/signed-one')).status).toBe(404);
  });
});

describe('refusals', () => {
  test('each bad field is named; nothing is created', async () => {
    const response = await call('POST', '', {
      id: 'New',
      integration_type: 'temporary',
      filter_conditions: { entities: ['orders'], events: ['order.craeted'] },
      callback_parameters: { callback_url: 'ftp://erp.example.com' },
      colour: 'blue',
    });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = await json(response);
    const fields = Object.fromEntries(
      problem.errors.map((error: { field: string; message: string }) => [error.field, error.message]),
    );
    expect(fields).toMatchObject({
      id: expect.stringContaining('lower-case'),
      'filter_conditions.entities.0': '"orders" is not an entity',
      'filter_conditions.events.0': '"order.craeted" is not a known event type',
      'callback_parameters.callback_url': expect.stringContaining('http:// or https://'),
      colour: 'is not an integration field',
    });
    expect(await database().db.selectFrom('integrations').select('id').where('id', '=', 'New').execute()).toEqual([]);
  });

  test("NewStore's filter names are checked like their aliases; a name and its alias together are refused", async () => {
    const response = await call('POST', '', {
      id: 'filter-names',
      integration_type: 'permanent',
      filter_conditions: { event_filter: ['order.craeted'], entity_filter: 'order', entities: ['order'] },
      callback_parameters: { callback_url: 'https://x.example.com' },
    });
    expect(response.status).toBe(422);
    const problem = await json(response);
    expect(problem).toMatchObject({
      error_code: 'validation_error',
      message: expect.stringContaining('nothing was changed'),
    });
    expect(problem.errors).toEqual([
      { field: 'filter_conditions.event_filter.0', message: '"order.craeted" is not a known event type' },
      { field: 'filter_conditions.entity_filter', message: 'must be a list of entity names, e.g. ["order"]' },
    ]);
    const both = await json(
      await call('POST', '', {
        id: 'filter-names',
        integration_type: 'permanent',
        filter_conditions: { event_filter: ['order.created'], events: ['order.created'] },
        callback_parameters: { callback_url: 'https://x.example.com' },
      }),
    );
    expect(both.errors).toEqual([
      { field: 'filter_conditions.events', message: 'is another name for event_filter: give only one of them' },
    ]);
    expect(
      await database().db.selectFrom('integrations').select('id').where('id', '=', 'filter-names').execute(),
    ).toEqual([]);
  });

  test('a missing integration is a 404 with error_code resource_not_found, with or without a trailing slash', async () => {
    for (const path of ['/nope-integration', '/nope-integration/']) {
      const response = await call('GET', path);
      expect(response.status).toBe(404);
      expect(await json(response)).toMatchObject({
        status: 404,
        error_code: 'resource_not_found',
        message: 'There is no integration "nope-integration".',
      });
    }
    const listed = await call('GET', '/');
    expect(listed.status).toBe(200);
    expect(Array.isArray((await json(listed)).integrations)).toBe(true);
  });

  test('exactly one target; temporary needs an end after its start; reserved ids', async () => {
    const both = await json(
      await call('POST', '', {
        id: 'two-targets',
        integration_type: 'permanent',
        callback_parameters: { callback_url: 'https://x.example.com' },
        s3_parameters: { aws_access_key_id: 'a', aws_secret_access_key: 'b', aws_region: 'eu-west-1', bucket: 'bkt' },
      }),
    );
    expect(both.errors[0].message).toContain('exactly one target');
    const none = await json(await call('POST', '', { id: 'no-target', integration_type: 'permanent' }));
    expect(none.errors[0]).toMatchObject({ field: 'callback_parameters' });
    const temporary = await json(
      await call('POST', '', {
        id: 'temp-x',
        integration_type: 'temporary',
        starts_at: '2026-12-02T00:00:00Z',
        ends_at: '2026-12-01T00:00:00Z',
        callback_parameters: { callback_url: 'https://x.example.com' },
      }),
    );
    expect(temporary.errors).toEqual([{ field: 'ends_at', message: 'must be after the start' }]);
    const reserved = await json(
      await call('POST', '', {
        id: 'overview',
        integration_type: 'permanent',
        callback_parameters: { callback_url: 'https://x.example.com' },
      }),
    );
    expect(reserved.errors).toEqual([{ field: 'id', message: 'is reserved; choose another ID' }]);
  });

  test('a duplicate id is a 409 naming the field', async () => {
    const response = await call('POST', '', {
      id: 'warehouse_s3',
      integration_type: 'permanent',
      callback_parameters: { callback_url: 'https://x.example.com' },
    });
    expect(response.status).toBe(409);
    expect((await json(response)).errors).toEqual([
      { field: 'id', message: 'An integration with the ID "warehouse_s3" already exists. Choose another ID.' },
    ]);
  });

  test('malformed JSON is a 400; unknown integrations 404', async () => {
    expect((await call('POST', '', '{"id":')).status).toBe(400);
    expect((await call('GET', '/nope-nope')).status).toBe(404);
    expect((await call('POST', '/nope-nope/_start')).status).toBe(404);
  });

  test('401 without a token, 403 without view_tools', async () => {
    expect((await call('GET', '', undefined, null)).status).toBe(401);
    const forbidden = await call('GET', '', undefined, publisher);
    expect(forbidden.status).toBe(403);
    expect((await json(forbidden)).detail).toContain('lacks the permission view_tools');
  });

  test('lists page with limit and an opaque cursor', async () => {
    const first = await json(await call('GET', '?limit=1'));
    expect(first.integrations).toHaveLength(1);
    const second = await json(await call('GET', `?limit=1&cursor=${first.next_cursor}`));
    expect(second.integrations[0].id > first.integrations[0].id).toBe(true);
    expect((await call('GET', '?limit=5000')).status).toBe(400);
  });
});

describe('secrets bound to where they go', () => {
  test('a new callback host without the API key again is refused on the field; the same host, or the key given, is fine', async () => {
    const id = 'bound-webhook';
    expect(
      (
        await call('POST', '', {
          id,
          integration_type: 'permanent',
          callback_parameters: { callback_url: 'https://erp.example.com/hooks', api_key: API_KEY },
        })
      ).status,
    ).toBe(201);
    const moved = await call('PATCH', `/${id}`, {
      callback_parameters: { callback_url: 'https://attacker.example.net/collect' },
    });
    expect(moved.status).toBe(422);
    expect((await json(moved)).errors).toEqual([
      {
        field: 'callback_parameters.api_key',
        message:
          'is needed again for https://attacker.example.net: the stored API key is sent only to https://erp.example.com (leave the API key empty only when the callback stays there)',
      },
    ]);
    const row = () =>
      database()
        .db.selectFrom('integrations')
        .select(['callback_url', 'api_key_enc'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
    expect((await row()).callback_url).toBe('https://erp.example.com/hooks');
    // Plain http on the same host is another origin too.
    expect(
      (await call('PATCH', `/${id}`, { callback_parameters: { callback_url: 'http://erp.example.com/hooks' } })).status,
    ).toBe(422);
    expect(
      (await call('PATCH', `/${id}`, { callback_parameters: { callback_url: 'https://erp.example.com/v2/hooks' } }))
        .status,
    ).toBe(200);
    expect(
      (
        await call('PATCH', `/${id}`, {
          callback_parameters: { callback_url: 'https://erp2.example.com/hooks', api_key: 'a-new-key-for-erp2' },
        })
      ).status,
    ).toBe(200);
    expect(testSecrets.decrypt((await row()).api_key_enc!)).toBe('a-new-key-for-erp2');
  });

  test('a new S3 bucket, region or endpoint without the secret key again is refused; other changes keep it', async () => {
    const id = 'bound-lake';
    const s3 = {
      aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE',
      aws_secret_access_key: AWS_SECRET,
      aws_region: 'eu-central-1',
      bucket: 'acme-events',
    };
    expect((await call('POST', '', { id, integration_type: 'permanent', s3_parameters: s3 })).status).toBe(201);
    for (const change of [
      { bucket: 'attacker-bucket' },
      { aws_region: 'us-east-1' },
      { endpoint: 'https://s3.attacker.example.net' },
    ]) {
      const refused = await call('PATCH', `/${id}`, { s3_parameters: change });
      expect(refused.status).toBe(422);
      expect((await json(refused)).errors[0]).toMatchObject({
        field: 's3_parameters.aws_secret_access_key',
        message: expect.stringContaining('is needed again when the'),
      });
    }
    expect((await call('PATCH', `/${id}`, { s3_parameters: { key_prefix: 'exports' } })).status).toBe(200);
    expect((await call('PATCH', `/${id}`, { s3_parameters: { bucket: 'acme-events' } })).status).toBe(200); // unchanged
    expect(
      (
        await call('PATCH', `/${id}`, {
          s3_parameters: { bucket: 'acme-archive', aws_secret_access_key: 'another-secret-key' },
        })
      ).status,
    ).toBe(200);
  });

  test('revealing a signing secret is logged with who did it', async () => {
    const lines: string[] = [];
    const logged = createTestApp(database(), { log: createLogger('info', (line) => lines.push(line)) });
    const response = await logged.request(`${BASE}/bound-webhook/signing-secret`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(response.status).toBe(200);
    const line = lines.map((text) => JSON.parse(text)).find((entry) => entry.msg === 'signing secret revealed');
    expect(line).toMatchObject({ integration: 'bound-webhook', actor: 'API token "test-view_tools"' });
    expect(lines.join('\n')).not.toContain((await response.json()).signing_secret);
  });
});

describe('credentials inside callback URLs', () => {
  test('refused at create and edit, with a pointer to api_key', async () => {
    const created = await call('POST', '', {
      id: 'userinfo-hook',
      integration_type: 'permanent',
      callback_parameters: { callback_url: 'https://erp:hunter2@erp.example.com/hooks' },
    });
    expect(created.status).toBe(422);
    expect((await json(created)).errors).toEqual([
      {
        field: 'callback_parameters.callback_url',
        message: expect.stringContaining('must not hold a user name or password: give the credential as api_key'),
      },
    ]);
  });

  test('an integration saved with one before is shown with the password masked, in the API and on its edit page', async () => {
    await call('POST', '', {
      id: 'legacy-userinfo',
      integration_type: 'permanent',
      callback_parameters: { callback_url: 'https://erp.example.com/hooks' },
    });
    await database()
      .db.updateTable('integrations')
      .set({ callback_url: 'https://erp:hunter2@erp.example.com/hooks' })
      .where('id', '=', 'legacy-userinfo')
      .execute();
    const text = await (await call('GET', '/legacy-userinfo')).text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text).callback_parameters.callback_url).toBe('https://erp:••••@erp.example.com/hooks');
    const { cookie } = await signedIn(database().db, ['view_tools']);
    const page = await (await app.request('/tools/event-stream/legacy-userinfo/edit', { headers: { cookie } })).text();
    expect(page).not.toContain('hunter2');
    expect(page).toContain('value="https://erp:••••@erp.example.com/hooks"');
  });
});
