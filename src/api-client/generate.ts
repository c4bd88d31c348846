import openapiTS from 'openapi-typescript';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from '../openapi/document.ts';

/*
 * `bun run openapi:types`: writes src/api-client/schema.ts, the TypeScript
 * types of the OpenAPI document (openapi-typescript), which our own clients
 * (the simulator, the demo) call the API through. A test fails when the file
 * is behind the document.
 */

export const SCHEMA_FILE = resolve(import.meta.dir, 'schema.ts');

export async function generateApiTypes(): Promise<string> {
  const document = buildOpenApiDocument('generated');
  const types = await openapiTS(JSON.parse(JSON.stringify(document)), { commentHeader: '' });
  return `// Generated from the OpenAPI document by \`bun run openapi:types\` (openapi-typescript); do not edit.\n\n${types}`;
}

if (import.meta.main) {
  await Bun.write(SCHEMA_FILE, await generateApiTypes());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
