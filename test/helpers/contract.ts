import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../src/openapi/document.ts';

/*
 * The contract: every response an HTTP test receives from the API is held to
 * the OpenAPI document, the operation found by method and path, the schema by
 * status and media type. An operation or a status the document does not
 * list fails the test, as does a body that does not match. createTestApp
 * runs it on every response, so no test needs to ask for it.
 */

const document = buildOpenApiDocument('0.0.0-test') as unknown as { paths: Record<string, Record<string, Operation>> };
interface Operation {
  responses: Record<string, { content?: Record<string, unknown> }>;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, 'openapi');

const CHECKED = /^\/(api\/|v0\/|metrics$|healthz$|readyz$)/;

const operations = Object.entries(document.paths).map(([template, item]) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  item,
}));

const validators = new Map<string, ValidateFunction>();
const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

export class ContractError extends Error {
  override name = 'ContractError';
}

/** Throws a ContractError when `response` to `method path` is not what the document says. */
export async function checkContract(method: string, path: string, response: Response): Promise<void> {
  const cleanPath = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (!CHECKED.test(cleanPath) || cleanPath === '/api/openapi.json' || cleanPath.startsWith('/api/docs')) return;
  const where = `${method} ${path} → ${response.status}`;
  const match = operations.find(
    (operation) => operation.pattern.test(cleanPath) && operation.item[method.toLowerCase()],
  );
  if (!match) {
    // Paths the API does not have answer a plain 404 problem.
    if (response.status !== 404)
      throw new ContractError(`${where}: the document has no operation ${method} ${cleanPath}`);
    return checkBody(where, 'components/schemas/Problem', response, 'application/problem+json');
  }
  const responses = match.item[method.toLowerCase()]!.responses;
  const documented = responses[String(response.status)];
  if (!documented)
    throw new ContractError(
      `${where}: status ${response.status} is not documented for ${method} ${match.template} (documented: ${Object.keys(responses).join(', ')})`,
    );
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  if (!documented.content) {
    if ((await response.text()) !== '')
      throw new ContractError(`${where}: the document says no body, the response has one`);
    return;
  }
  if (!(mediaType in documented.content))
    throw new ContractError(
      `${where}: content type "${mediaType}" is not documented (documented: ${Object.keys(documented.content).join(', ')})`,
    );
  return checkBody(
    where,
    pointer(
      'paths',
      match.template,
      method.toLowerCase(),
      'responses',
      String(response.status),
      'content',
      mediaType,
      'schema',
    ),
    response,
    mediaType,
  );
}

async function checkBody(where: string, schemaPointer: string, response: Response, mediaType: string) {
  const text = await response.text();
  let body: unknown = text;
  if (mediaType.endsWith('json')) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ContractError(`${where}: the body is not JSON: ${text.slice(0, 200)}`);
    }
  }
  let validate = validators.get(schemaPointer);
  if (!validate) {
    validate = ajv.getSchema(`openapi#/${schemaPointer}`);
    if (!validate) throw new ContractError(`${where}: no schema at ${schemaPointer}`);
    validators.set(schemaPointer, validate);
  }
  if (!validate(body)) {
    const errors = (validate.errors ?? [])
      .map((error) => `${error.instancePath || '(body)'} ${error.message}`)
      .join('; ');
    throw new ContractError(`${where}: the body does not match the document: ${errors}\n${text.slice(0, 500)}`);
  }
}

/** The request's method and path, however app.request() was called. */
export function methodAndPath(input: RequestInfo | URL, init?: RequestInit): { method: string; path: string } {
  if (input instanceof Request) return { method: input.method, path: new URL(input.url).pathname };
  return { method: (init?.method ?? 'GET').toUpperCase(), path: new URL(String(input), 'http://localhost').pathname };
}
