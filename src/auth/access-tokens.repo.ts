import { sign, verify } from 'hono/jwt';
import { sql } from 'kysely';
import type { Db, Permission } from '../db/database.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';

/*
 * Access tokens are JWTs (HS256, under a key derived from the deployment
 * key): NewStore's clients decode them to read `exp`. The signature lets a
 * forged or expired token be refused without a query; the database, which
 * keeps only each token's SHA-256, decides whether it is still live.
 */

const ISSUER = 'tideway';

/** A JWT's shape, which API tokens (`tw_…`) never have. */
export function looksLikeAccessToken(token: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(token);
}

/** Whether `token` carries our signature and has not expired. */
export async function hasValidSignature(token: string, key: string): Promise<boolean> {
  try {
    await verify(token, key, { alg: 'HS256', iss: ISSUER });
    return true;
  } catch {
    return false;
  }
}

/** Who a bearer token speaks for, and what it may do. */
export interface Credential {
  id: string;
  /** As the integration logs name the actor, e.g. `API token "erp"`. */
  actor: string;
  permissions: Permission[];
}

export type AccessTokenHolder = { userId: string } | { apiTokenId: string };

/**
 * Issues an access token valid for `ttlSeconds` and returns it; the database
 * keeps only its SHA-256. Expired tokens are cleared on the way.
 */
export async function issueAccessToken(
  db: Db,
  input: { holder: AccessTokenHolder; key: string; ttlSeconds: number; scope: string; now: Date },
): Promise<string> {
  const { holder, now } = input;
  const issuedAt = Math.floor(now.getTime() / 1000);
  const token = await sign(
    {
      iss: ISSUER,
      sub: 'userId' in holder ? holder.userId : holder.apiTokenId,
      jti: randomToken(32),
      iat: issuedAt,
      exp: issuedAt + input.ttlSeconds,
      scope: input.scope,
    },
    input.key,
    'HS256',
  );
  await db.deleteFrom('access_tokens').where('expires_at', '<=', now).execute();
  await db
    .insertInto('access_tokens')
    .values({
      token_hash: sha256Hex(token),
      user_id: 'userId' in holder ? holder.userId : null,
      api_token_id: 'apiTokenId' in holder ? holder.apiTokenId : null,
      created_at: now,
      expires_at: new Date((issuedAt + input.ttlSeconds) * 1000),
    })
    .execute();
  return token;
}

/**
 * The credential behind a live access token: its holder's permissions as
 * they are now. Nothing when it expired, or its user is disabled, or its
 * API token revoked.
 */
export async function findActiveAccessToken(db: Db, token: string, now: Date): Promise<Credential | undefined> {
  const row = await db
    .selectFrom('access_tokens as a')
    .leftJoin('users as u', (join) => join.onRef('u.id', '=', 'a.user_id').on('u.disabled_at', 'is', null))
    .leftJoin('api_tokens as t', (join) => join.onRef('t.id', '=', 'a.api_token_id').on('t.revoked_at', 'is', null))
    .select(['a.id', 'u.email', 't.name', sql<Permission[]>`coalesce(u.permissions, t.permissions)`.as('permissions')])
    .where('a.token_hash', '=', sha256Hex(token))
    .where('a.expires_at', '>', now)
    .where((eb) => eb.or([eb('u.id', 'is not', null), eb('t.id', 'is not', null)]))
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    actor: row.email ? `${row.email} (access token)` : `API token "${row.name}" (access token)`,
    permissions: row.permissions,
  };
}
