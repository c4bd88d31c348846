import { Hono } from 'hono';
import { ApiReference, type ReferenceDocument } from '../../views/api/reference.tsx';
import { Layout } from '../../views/layout.tsx';
import { buildOpenApiDocument } from './document.ts';

/**
 * `/api/openapi.json`, built once per process from the schemas, and the
 * reference page `/api/docs` rendered from it. Both are public: the
 * document holds no data, and a reader needs it before they have a token.
 */
export function openApiRoutes(deps: { version: string }) {
  let built: { json: string; page: string } | undefined;
  const document = () => {
    if (!built) {
      const value = buildOpenApiDocument(deps.version);
      const page = Layout({
        title: 'API reference',
        children: ApiReference({ document: value as unknown as ReferenceDocument }),
      });
      built = { json: JSON.stringify(value), page: `<!DOCTYPE html>${page}` };
    }
    return built;
  };
  return new Hono()
    .get('/openapi.json', (c) =>
      c.body(document().json, 200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' }),
    )
    .get('/docs', (c) => c.html(document().page));
}
