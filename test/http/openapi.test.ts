import { describe, expect, test } from 'bun:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { buildOpenApiDocument } from '../../src/openapi/document.ts';
import { createTestApp } from '../helpers/app.ts';
import { checkContract, ContractError } from '../helpers/contract.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

describe('the OpenAPI document', () => {
  test('served at /api/openapi.json without a token, and valid against the official OpenAPI 3.1 schema', async () => {
    const response = await createTestApp(database()).request('/api/openapi.json');
    expect(response.status).toBe(200);
    const document = await response.json();
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  test('documents every API route the app serves, and nothing it does not', () => {
    const app = createTestApp(database());
    const served = new Set(
      app.routes
        .filter((route) => route.method !== 'ALL' && /^\/(api\/v1|v0)\/|^\/(metrics|healthz|readyz)$/.test(route.path))
        .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}').replace('{eventId}', '{event_id}')}`),
    );
    const document = buildOpenApiDocument('test');
    const documented = new Set(
      Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
        Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    expect([...served].sort()).toEqual([...documented].sort());
  });

  test('every operation has a summary, an id, a success response and problem responses with the Problem schema', () => {
    const document = buildOpenApiDocument('test');
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(item ?? {}) as [
        string,
        {
          summary?: string;
          operationId?: string;
          responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
        },
      ][]) {
        const where = `${method} ${path}`;
        expect({ where, summary: Boolean(operation.summary), id: Boolean(operation.operationId) }).toEqual({
          where,
          summary: true,
          id: true,
        });
        expect(Object.keys(operation.responses).some((status) => status.startsWith('2'))).toBe(true);
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) >= 400 && path !== '/readyz')
            expect({ where, status, schema: response.content?.['application/problem+json']?.schema }).toEqual({
              where,
              status,
              schema: { $ref: '#/components/schemas/Problem' },
            });
        }
      }
    }
  });
});

describe('the contract check every API test runs', () => {
  const json = (body: unknown, status: number, type = 'application/json') =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });

  test('refuses a body that does not match, an undocumented status, an undocumented operation', async () => {
    const signingSecret = '/api/v1/org/integrations/eventstream/erp/signing-secret';
    await checkContract('GET', signingSecret, json({ signing_secret: 'whsec_x' }, 200));
    await expect(checkContract('GET', signingSecret, json({ secret: 'whsec_x' }, 200))).rejects.toThrow(ContractError);
    await expect(checkContract('GET', signingSecret, json({ signing_secret: 'whsec_x' }, 201))).rejects.toThrow(
      /status 201 is not documented/,
    );
    await expect(
      checkContract('GET', signingSecret, json({ signing_secret: 'whsec_x' }, 200, 'text/html')),
    ).rejects.toThrow(/content type "text\/html"/);
    await expect(checkContract('PUT', signingSecret, json({}, 200))).rejects.toThrow(/no operation PUT/);
    await expect(
      checkContract('DELETE', '/api/v1/org/integrations/eventstream/erp', new Response('x', { status: 204 })),
    ).rejects.toThrow(/no body/);
    await expect(
      checkContract('GET', '/api/v1/org/integrations/eventstream/erp', json({ id: 'erp' }, 200)),
    ).rejects.toThrow(/must have required property/);
  });

  test('test apps run it: a response that breaks the document fails the request', async () => {
    const app = createTestApp(database());
    // An undocumented query answer would fail here; a documented 401 passes.
    expect((await app.request('/api/v1/org/integrations/eventstream/')).status).toBe(401);
    const broken = createTestApp(database());
    broken.get('/api/v1/event-types-broken', (c) => c.json({ nope: true }, 200));
    await expect(Promise.resolve(broken.request('/api/v1/event-types-broken'))).rejects.toThrow(ContractError);
  });
});

test('the client types of src/api-client/schema.ts are those of the document (run `bun run openapi:types` after changing it)', async () => {
  const { generateApiTypes, SCHEMA_FILE } = await import('../../src/api-client/generate.ts');
  expect(await Bun.file(SCHEMA_FILE).text()).toBe(await generateApiTypes());
});
