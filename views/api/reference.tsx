import type { Child } from 'hono/jsx';

/*
 * The API reference, rendered on the server from the OpenAPI document: every
 * operation with its parameters, body, responses and examples, one page,
 * searchable by the filter box (public/app.js) and by the browser's own find.
 */

type Schema = {
  $ref?: string;
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  deprecated?: boolean;
  example?: unknown;
  additionalProperties?: boolean | Schema;
};
type Parameter = { in: string; name: string; required?: boolean; description?: string; schema: Schema };
type Response = { description: string; content?: Record<string, { schema: Schema; example?: unknown }> };
type Operation = {
  tags?: string[];
  operationId?: string;
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { description?: string; content: Record<string, { schema: Schema; example?: unknown }> };
  responses: Record<string, Response>;
};
export type ReferenceDocument = {
  info: { title: string; version: string; description?: string };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

const METHODS = ['get', 'post', 'patch', 'put', 'delete'];

/** Descriptions mark code with backticks, as Markdown does. */
function Text({ children }: { children?: string }) {
  if (!children) return null;
  return <>{children.split(/`([^`]+)`/).map((part, index) => (index % 2 === 1 ? <code>{part}</code> : part))}</>;
}

const anchor = (operation: Operation, method: string, path: string) =>
  operation.operationId ?? `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, '-');
const refName = (ref: string) => ref.split('/').at(-1)!;

function typeLabel(schema: Schema, document: ReferenceDocument): string {
  if (schema.$ref) return refName(schema.$ref);
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map((variant) => typeLabel(variant, document)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  const types = Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
  if (schema.type === 'array' && schema.items) return `${typeLabel(schema.items, document)}[]`;
  return schema.format ? `${types} (${schema.format})` : types;
}

function constraints(schema: Schema): string[] {
  const notes: string[] = [];
  if (schema.minimum !== undefined && schema.minimum > -Number.MAX_SAFE_INTEGER) notes.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER) notes.push(`≤ ${schema.maximum}`);
  if (schema.maxLength !== undefined) notes.push(`at most ${schema.maxLength} characters`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  return notes;
}

/** The object behind `schema` (through a $ref or a nullable anyOf), if it has properties. */
function objectOf(schema: Schema, document: ReferenceDocument): Schema | undefined {
  if (schema.$ref) return objectOf(document.components.schemas[refName(schema.$ref)] ?? {}, document);
  if (schema.properties) return schema;
  if (schema.type === 'array' && schema.items) return objectOf(schema.items, document);
  const variants = (schema.anyOf ?? schema.oneOf)?.filter((variant) => variant.type !== 'null');
  return variants?.length === 1 ? objectOf(variants[0]!, document) : undefined;
}

function Fields({ schema, document, depth = 0 }: { schema: Schema; document: ReferenceDocument; depth?: number }) {
  const variants = (schema.$ref ? undefined : (schema.oneOf ?? schema.anyOf))?.filter(
    (variant) => variant.type !== 'null',
  );
  if (variants && variants.length > 1 && variants.every((variant) => objectOf(variant, document))) {
    return (
      <div class="api-variants">
        {variants.map((variant, index) => (
          <div>
            <p class="api-variant-label">{index === 0 ? 'One of:' : 'or:'}</p>
            <Fields schema={variant} document={document} depth={depth} />
          </div>
        ))}
      </div>
    );
  }
  const object = objectOf(schema, document);
  if (!object?.properties || depth > 4)
    return (
      <p class="api-type">
        <code>{typeLabel(schema, document)}</code>
      </p>
    );
  return (
    <ul class="api-fields">
      {Object.entries(object.properties).map(([name, property]) => {
        const nested = objectOf(property, document);
        return (
          <li>
            <code class="api-field-name">{name}</code> <span class="api-type">{typeLabel(property, document)}</span>
            {object.required?.includes(name) ? <span class="badge badge-warning">required</span> : null}
            {property.deprecated ? <span class="badge badge-muted">deprecated</span> : null}
            {constraints(property).length ? (
              <span class="api-constraints"> {constraints(property).join(', ')}</span>
            ) : null}
            {property.description ? (
              <div class="api-description">
                <Text>{property.description}</Text>
              </div>
            ) : null}
            {nested && nested !== object ? <Fields schema={property} document={document} depth={depth + 1} /> : null}
          </li>
        );
      })}
    </ul>
  );
}

function Example({ value }: { value: unknown }) {
  if (value === undefined) return null;
  return (
    <details class="api-example">
      <summary>Example</summary>
      <pre class="code-block" tabindex={0}>
        {JSON.stringify(value, null, 2)}
      </pre>
    </details>
  );
}

const exampleOf = (media: { schema: Schema; example?: unknown }, document: ReferenceDocument) =>
  media.example ??
  media.schema.example ??
  (media.schema.$ref ? document.components.schemas[refName(media.schema.$ref)]?.example : undefined);

function OperationCard({
  method,
  path,
  operation,
  document,
}: {
  method: string;
  path: string;
  operation: Operation;
  document: ReferenceDocument;
}) {
  const search = [
    method,
    path,
    operation.summary,
    operation.description,
    operation.operationId,
    ...(operation.tags ?? []),
  ]
    .join(' ')
    .toLowerCase();
  return (
    <section class="card api-operation" id={anchor(operation, method, path)} data-api-search={search}>
      <h3 class="api-operation-title">
        <span class={`api-method api-method-${method}`}>{method.toUpperCase()}</span> <code>{path}</code>
      </h3>
      <p class="api-summary">{operation.summary}</p>
      {operation.description ? (
        <p>
          <Text>{operation.description}</Text>
        </p>
      ) : null}
      <p class="api-auth">{operation.security?.length ? 'Authorization: Bearer <token>' : 'No authentication.'}</p>
      {operation.parameters?.length ? (
        <>
          <h4>Parameters</h4>
          <ul class="api-fields">
            {operation.parameters.map((parameter) => (
              <li>
                <code class="api-field-name">{parameter.name}</code>{' '}
                <span class="api-type">
                  {parameter.in} · {typeLabel(parameter.schema, document)}
                </span>
                {parameter.required ? <span class="badge badge-warning">required</span> : null}
                {constraints(parameter.schema).length ? (
                  <span class="api-constraints"> {constraints(parameter.schema).join(', ')}</span>
                ) : null}
                {(parameter.description ?? parameter.schema.description) ? (
                  <div class="api-description">
                    <Text>{parameter.description ?? parameter.schema.description}</Text>
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {operation.requestBody ? (
        <>
          <h4>Request body</h4>
          {operation.requestBody.description ? (
            <p>
              <Text>{operation.requestBody.description}</Text>
            </p>
          ) : null}
          {Object.entries(operation.requestBody.content).map(([mediaType, media]) => (
            <div class="api-media">
              <p class="api-media-type">
                <code>{mediaType}</code>
              </p>
              {media.schema.$ref && document.components.schemas[refName(media.schema.$ref)]?.description ? (
                <p>
                  <Text>{document.components.schemas[refName(media.schema.$ref)]!.description}</Text>
                </p>
              ) : null}
              <Fields schema={media.schema} document={document} />
              <Example value={exampleOf(media, document)} />
            </div>
          ))}
        </>
      ) : null}
      <h4>Responses</h4>
      <dl class="api-responses">
        {Object.entries(operation.responses).map(([status, response]) => (
          <>
            <dt>
              <span class={`badge ${status.startsWith('2') ? 'badge-success' : 'badge-muted'}`}>{status}</span>
            </dt>
            <dd>
              <Text>{response.description}</Text>
              {Object.entries(response.content ?? {}).map(([mediaType, media]) => (
                <span class="api-media-type">
                  {' '}
                  <code>{mediaType}</code> <code>{typeLabel(media.schema, document)}</code>
                </span>
              ))}
              {status.startsWith('2')
                ? Object.values(response.content ?? {}).map((media) => (
                    <>
                      <Fields schema={media.schema} document={document} />
                      <Example value={exampleOf(media, document)} />
                    </>
                  ))
                : null}
            </dd>
          </>
        ))}
      </dl>
    </section>
  );
}

export function ApiReference({ document }: { document: ReferenceDocument }) {
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ method, path, operation: item[method]! })),
  );
  const byTag = (document.tags ?? []).map((tag) => ({
    ...tag,
    operations: operations.filter((entry) => (entry.operation.tags ?? [])[0] === tag.name),
  }));
  const problem = document.components.schemas.Problem;
  const content: Child = (
    <div class="api-reference">
      <aside class="api-nav" aria-label="Operations">
        <label class="api-search">
          <span class="visually-hidden">Search the API</span>
          <input type="search" placeholder="Search the API, e.g. token, retry, s3" data-api-filter autocomplete="off" />
        </label>
        {byTag.map((tag) => (
          <nav aria-label={tag.name} data-api-group>
            <p class="nav-heading">{tag.name}</p>
            <ul>
              {tag.operations.map(({ method, path, operation }) => (
                <li data-api-link={anchor(operation, method, path)}>
                  <a href={`#${anchor(operation, method, path)}`}>
                    <span class={`api-method api-method-${method}`}>{method.toUpperCase()}</span> {operation.summary}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ))}
      </aside>
      <div class="api-main">
        <h1>{document.info.title}</h1>
        <p class="lead">
          Version {document.info.version} · <a href="/api/openapi.json">OpenAPI 3.1 document</a>
        </p>
        <p>
          <Text>{document.info.description}</Text>
        </p>
        <section class="card">
          <h2 class="api-card-heading">Errors</h2>
          <p>
            <Text>{problem?.description}</Text> Every error answers <code>application/problem+json</code>:
          </p>
          {problem ? <Fields schema={problem} document={document} /> : null}
        </section>
        <p class="api-no-match" hidden data-api-empty>
          No operation matches.
        </p>
        {byTag.map((tag) => (
          <section data-api-group>
            <h2>{tag.name}</h2>
            {tag.description ? (
              <p class="lead">
                <Text>{tag.description}</Text>
              </p>
            ) : null}
            {tag.operations.map(({ method, path, operation }) => (
              <OperationCard method={method} path={path} operation={operation} document={document} />
            ))}
          </section>
        ))}
      </div>
    </div>
  );
  return content;
}
