import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { fieldErrorsOf, ProblemError } from '../lib/problem.ts';
import { issueAccessToken, type AccessTokenHolder } from './access-tokens.repo.ts';
import { findActiveApiTokenFor } from './api-tokens.repo.ts';
import { clientAddress } from './session.ts';
import { checkSignIn, THROTTLE_WINDOW_MS } from './sign-in.ts';

/*
 * `POST /v0/token`: NewStore's token endpoint, so that its clients can start
 * unmodified. An OAuth 2 token request (RFC 6749 §4.3, §4.4), form-encoded;
 * some clients send it with no content type or as text/plain, so the body is
 * read as a form unless it says JSON.
 */

const text = (what: string) =>
  z
    .string({ error: `is required: ${what}` })
    .min(1, `is required: ${what}`)
    .max(1024, 'is too long');

export const tokenRequestSchema = z
  .discriminatedUnion(
    'grant_type',
    [
      z.object({
        grant_type: z.literal('password'),
        username: text("the user's email").meta({ example: 'admin@localhost' }),
        password: text("the user's password"),
      }),
      z.object({
        grant_type: z.literal('client_credentials'),
        client_id: text("the API token's name or id").meta({ example: 'erp' }),
        client_secret: text('the API token').meta({ example: 'tw_…' }),
      }),
    ],
    { error: 'must be password or client_credentials' },
  )
  .meta({
    id: 'TokenRequest',
    description: 'A password grant (a user with view_tools) or a client-credentials grant (an API token).',
  });

export const tokenResponseSchema = z
  .object({
    access_token: z
      .string()
      .meta({ description: 'A JWT (HS256) with `exp`; send it as `Authorization: Bearer <access_token>`.' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds until the token expires.' }),
    scope: z.string().meta({ description: "The holder's permissions, space-separated." }),
  })
  .meta({
    id: 'TokenResponse',
    example: {
      access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.…',
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'view_tools',
    },
  });

/**
 * The token request's fields. A text/plain body is most likely NewStore's
 * Java client, which joins `username=…&grant_type=password&password=…`
 * without encoding anything: its values are taken as they are, so that a
 * password holding `+` or `%` still matches — unless the username (an
 * email) shows the body was encoded after all (`%40` and no `@`).
 */
async function formBody(request: Request): Promise<Record<string, string>> {
  const body = await request.text();
  const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const decoded = () => Object.fromEntries(new URLSearchParams(body));
  if (mediaType === 'text/plain') {
    const raw = Object.fromEntries(
      body.split('&').map((pair) => [pair.split('=', 1)[0]!, pair.slice(pair.indexOf('=') + 1)]),
    );
    const encoded = raw.username !== undefined && !raw.username.includes('@') && raw.username.includes('%40');
    return encoded ? decoded() : raw;
  }
  if (mediaType.endsWith('json')) {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (parsed && typeof parsed === 'object') return parsed as Record<string, string>;
    } catch {}
    throw new ProblemError({
      status: 400,
      type: 'malformed-body',
      title: 'Malformed request body',
      detail: 'The body is not a JSON object.',
    });
  }
  return decoded();
}

/** The key access tokens are signed with. */
export const accessTokenKey = (secrets: SecretBox) => secrets.subkey('access-tokens');

const refused = (detail: string) => new ProblemError({ status: 403, type: 'forbidden', title: 'Forbidden', detail });

export function tokenRoutes(deps: { db: Kysely<Database>; config: Config; secrets: SecretBox; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return new Hono().post('/token', async (c) => {
    const body = tokenRequestSchema.safeParse(await formBody(c.req.raw));
    if (!body.success)
      throw new ProblemError({
        status: 400,
        type: 'validation',
        title: 'Invalid token request',
        errors: fieldErrorsOf(body.error),
      });
    const grant = body.data;
    let holder: AccessTokenHolder;
    let permissions: string[];
    if (grant.grant_type === 'password') {
      const signIn = await checkSignIn(deps.db, {
        email: grant.username.trim(),
        password: grant.password,
        address: clientAddress(c, deps.config.trustedProxies),
        now: now(),
      });
      if (signIn.kind === 'throttled') {
        c.header('retry-after', String(THROTTLE_WINDOW_MS / 1000));
        throw new ProblemError({
          status: 429,
          type: 'throttled',
          title: 'Too many failed sign-ins',
          detail: 'Too many failed sign-ins. Wait 15 minutes, then try again.',
        });
      }
      if (signIn.kind === 'refused') throw refused('The username or password is incorrect.');
      if (!signIn.user.permissions.includes('view_tools'))
        throw refused(`${signIn.user.email} lacks the permission view_tools.`);
      holder = { userId: signIn.user.id };
      permissions = signIn.user.permissions;
    } else {
      const token = await findActiveApiTokenFor(deps.db, grant.client_secret, grant.client_id);
      if (!token)
        throw refused(
          'The client_id or client_secret is incorrect (client_secret is an API token, client_id its name or id).',
        );
      holder = { apiTokenId: token.id };
      permissions = token.permissions;
    }
    const ttl = deps.config.accessTokenTtlSeconds;
    const scope = permissions.join(' ');
    const accessToken = await issueAccessToken(deps.db, {
      holder,
      key: accessTokenKey(deps.secrets),
      ttlSeconds: ttl,
      scope,
      now: now(),
    });
    c.header('cache-control', 'no-store');
    return c.json({
      access_token: accessToken,
      token_type: 'Bearer' as const,
      expires_in: ttl,
      scope,
    } satisfies z.input<typeof tokenResponseSchema>);
  });
}
