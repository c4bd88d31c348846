import { Hono } from 'hono';
import { buildOpenApiDocument } from './document.ts';

/** `/api/openapi.json`, built once per process from the schemas; public, like the reference page. */
export function openApiRoutes(deps: { version: string }) {
  let document: string | undefined;
  return new Hono().get('/openapi.json', (c) => {
    document ??= JSON.stringify(buildOpenApiDocument(deps.version));
    return c.body(document, 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
  });
}
