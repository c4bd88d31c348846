import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

/** One thing wrong with a request: which field (and batch index or NDJSON line) and why. */
export interface FieldError {
  field?: string;
  index?: number;
  line?: number;
  /** Byte offset in the body, for bytes that could not be read (not UTF-8). */
  offset?: number;
  message: string;
}

export interface Problem {
  status: ContentfulStatusCode;
  title: string;
  detail?: string;
  /** A short slug, e.g. 'validation': becomes the problem type URI. */
  type?: string;
  errors?: FieldError[];
  /** NewStore's error code; by default the one for the status (see ERROR_CODES). */
  errorCode?: string;
}

/**
 * NewStore's `error_code` for each status: its clients branch on these
 * words (one creates its webhook only when it reads `resource_not_found`).
 */
const ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'resource_not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_error',
  429: 'too_many_requests',
  500: 'internal_error',
  503: 'service_unavailable',
};

/**
 * An intended 4xx (or 503) for the JSON API: thrown from a handler, rendered
 * by the app's onError as application/problem+json (RFC 9457).
 *
 * @example throw new ProblemError({ status: 404, title: 'Integration not found', detail: 'No integration "erp"' })
 */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The problem+json response for `problem`, carrying the request's id and
 * path, and NewStore's `error_code` and `message` beside RFC 9457's fields.
 */
export function problemResponse(c: Context, problem: Problem): Response {
  const detail = problem.detail ?? problem.title;
  const body = {
    type: problem.type ? `https://tideway.dev/problems/${problem.type}` : 'about:blank',
    title: problem.title,
    status: problem.status,
    detail,
    instance: c.req.path,
    request_id: c.get('requestId') as string | undefined,
    error_code: problem.errorCode ?? ERROR_CODES[problem.status] ?? 'error',
    message: detail,
    ...(problem.errors ? { errors: problem.errors } : {}),
  };
  return c.body(JSON.stringify(body), problem.status, { 'content-type': PROBLEM_CONTENT_TYPE });
}

/** zod issues as field errors: the path joined with dots, each unknown key named. */
export function fieldErrorsOf(error: z.ZodError, unknownField = 'is not a known field'): FieldError[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
      return { field: issue.keys.map((key) => prefix + key).join(', '), message: unknownField };
    }
    return { field: issue.path.map(String).join('.'), message: issue.message };
  });
}

/**
 * The query string as `schema` reads it, or a 400 problem naming each bad parameter.
 *
 * @example const { limit } = queryOf(listQuery, c.req.query())
 */
export function queryOf<Schema extends z.ZodType>(
  schema: Schema,
  query: Record<string, string | undefined>,
): z.output<Schema> {
  const parsed = schema.safeParse(query);
  if (!parsed.success)
    throw new ProblemError({
      status: 400,
      type: 'validation',
      title: 'Invalid query',
      errors: fieldErrorsOf(parsed.error),
    });
  return parsed.data;
}

/** The JSON body, `{}` when empty; 400 when it is not JSON. */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProblemError({
      status: 400,
      type: 'malformed-body',
      title: 'Malformed request body',
      detail: `The body is not valid JSON: ${(error as Error).message}`,
    });
  }
}
