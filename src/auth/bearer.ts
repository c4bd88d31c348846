import { createMiddleware } from 'hono/factory';
import type { Kysely } from 'kysely';
import type { Database, Permission } from '../db/database.ts';
import { sha256Hex } from '../lib/crypto.ts';
import { ProblemError } from '../lib/problem.ts';
import {
  findActiveAccessToken,
  hasValidSignature,
  looksLikeAccessToken,
  type Credential,
} from './access-tokens.repo.ts';
import { findActiveApiToken, markApiTokenUsed } from './api-tokens.repo.ts';

export type TokenVariables = { token: Credential };

/*
 * Bearer-token authentication for the JSON API. Looking a token up is one
 * query; at thousands of ingest requests a second that query would be a
 * noticeable share of the work, so a verified token is remembered for a few
 * seconds. The price: a revoked token keeps working for at most CACHE_MS.
 */
const CACHE_MS = 5_000;
const CACHE_MAX = 1_000;

export interface TokenVerifier {
  verify(token: string): Promise<Credential | undefined>;
}

/**
 * Finds live tokens by their hash, with a short cache. Requests that find
 * the entry expired at the same moment share one lookup: each of them used
 * to update the token's row, a dozen connections queueing on one row lock
 * every few seconds under load.
 */
export function createTokenVerifier(
  db: Kysely<Database>,
  options: { accessTokenKey: string; now?: () => number },
): TokenVerifier {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { row: Credential | undefined; until: number }>();
  const lookups = new Map<string, Promise<Credential | undefined>>();
  const find = async (token: string): Promise<Credential | undefined> => {
    if (looksLikeAccessToken(token)) {
      return (await hasValidSignature(token, options.accessTokenKey))
        ? findActiveAccessToken(db, token, new Date(now()))
        : undefined;
    }
    const row = await findActiveApiToken(db, token);
    if (!row) return undefined;
    await markApiTokenUsed(db, row.id, new Date(now()));
    return { id: row.id, actor: `API token "${row.name}"`, permissions: row.permissions };
  };
  const lookUp = async (key: string, token: string) => {
    const row = await find(token);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, { row, until: now() + CACHE_MS });
    return row;
  };
  return {
    async verify(token) {
      const key = sha256Hex(token);
      const hit = cache.get(key);
      if (hit && hit.until > now()) return hit.row;
      let lookup = lookups.get(key);
      if (!lookup) {
        lookup = lookUp(key, token).finally(() => lookups.delete(key));
        lookups.set(key, lookup);
      }
      return lookup;
    },
  };
}

/**
 * Requires `Authorization: Bearer <token>` carrying one of `permissions`:
 * 401 without a valid token, 403 when it lacks the permission.
 *
 * @example app.post('/events', requireToken(verifier, ['publish_events']), handler)
 */
export function requireToken(verifier: TokenVerifier, permissions: Permission[]) {
  return createMiddleware<{ Variables: TokenVariables }>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      c.header('www-authenticate', 'Bearer');
      throw new ProblemError({
        status: 401,
        title: 'Unauthorized',
        type: 'unauthorized',
        detail:
          'Send an API token as "Authorization: Bearer <token>" (create one with `bun run tideway token create`).',
      });
    }
    const row = await verifier.verify(match[1]!);
    if (!row) {
      c.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new ProblemError({
        status: 401,
        title: 'Unauthorized',
        type: 'unauthorized',
        detail: 'The API token is unknown or revoked.',
      });
    }
    if (!permissions.some((permission) => row.permissions.includes(permission))) {
      throw new ProblemError({
        status: 403,
        title: 'Forbidden',
        type: 'forbidden',
        detail: `${row.actor} lacks the permission ${permissions.join(' or ')}.`,
      });
    }
    c.set('token', row);
    await next();
  });
}
