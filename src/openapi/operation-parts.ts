import { z } from 'zod';
import type { CatalogNames } from '../events/event-types.repo.ts';
import type { ZodOpenApiOperationObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import * as responses from './responses.ts';

/* The pieces every operation of the OpenAPI document is made of. */

/** The catalog decides which names a filter may hold; the document cannot know it. */
export const ANY_CATALOG: CatalogNames = { entities: new Set(), events: new Set() };

const PROBLEM_TEXT: Record<number, string> = {
  400: 'The request is malformed (not JSON, or a bad query parameter).',
  401: 'No token, or an unknown, expired or revoked one.',
  403: 'The token lacks the permission.',
  404: 'There is no such resource.',
  409: 'It exists already.',
  413: 'The body is too large.',
  415: 'The content type is not accepted.',
  422: 'The body names fields that are missing or wrong; nothing was changed.',
  429: 'Too many failed sign-ins: wait 15 minutes.',
  503: 'The database is unavailable, or the process is shutting down; try again after Retry-After.',
};

export function problems(...statuses: number[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    [...statuses, 503].map((status) => [
      String(status),
      {
        description: PROBLEM_TEXT[status]!,
        content: { 'application/problem+json': { schema: responses.problemSchema } },
      },
    ]),
  );
}

export const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
export const body = (schema: z.ZodType, description?: string) => ({
  required: true,
  description,
  content: { 'application/json': { schema } },
});

export const idParam = z.object({ id: z.string().meta({ description: 'The integration id.', example: 'erp' }) });
// Either a bearer token or the access token of NewStore's token endpoint.
export const BEARER: Record<string, string[]>[] = [{ bearer: [] }, { oauth2: [] }];
const INTEGRATIONS = ['Integrations'];

export function integrationOperation(
  operation: ZodOpenApiOperationObject & { responses: ZodOpenApiResponsesObject },
  ...statuses: number[]
): ZodOpenApiOperationObject {
  return {
    tags: INTEGRATIONS,
    security: BEARER,
    ...operation,
    responses: { ...operation.responses, ...problems(401, 403, ...statuses) },
  };
}
