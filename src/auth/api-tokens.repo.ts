import type { ApiTokenRow, Db, Permission } from '../db/database.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';

const TOKEN_PREFIX = 'tw_';

/**
 * Creates an API token and returns it with its row. The token itself exists
 * only in the return value: the database keeps its SHA-256.
 */
export async function createApiToken(
  db: Db,
  input: { name: string; permissions: Permission[]; createdBy?: string | null },
): Promise<{ token: string; row: ApiTokenRow }> {
  const token = randomToken(32, TOKEN_PREFIX);
  const row = await db
    .insertInto('api_tokens')
    .values({
      name: input.name,
      token_hash: sha256Hex(token),
      token_prefix: token.slice(0, TOKEN_PREFIX.length + 6),
      permissions: input.permissions,
      created_by: input.createdBy ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token, row };
}

/** The live (not revoked) token row for a presented bearer token. */
export async function findActiveApiToken(db: Db, token: string): Promise<ApiTokenRow | undefined> {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_hash', '=', sha256Hex(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** The live token `token` when `name` is its name or id (OAuth's client_id). */
export async function findActiveApiTokenFor(db: Db, token: string, name: string): Promise<ApiTokenRow | undefined> {
  const row = await findActiveApiToken(db, token);
  return row && (row.name === name || row.id === name) ? row : undefined;
}

export async function listApiTokens(db: Db): Promise<ApiTokenRow[]> {
  return db.selectFrom('api_tokens').selectAll().orderBy('revoked_at', 'desc').orderBy('created_at', 'desc').execute();
}

/** Revokes a token; it stops working within the bearer cache's few seconds. */
export async function revokeApiToken(db: Db, id: string): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Records use, at most once a minute per token (it is shown as "Last used"). */
export async function markApiTokenUsed(db: Db, id: string, now: Date): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now.getTime() - 60_000))]))
    .execute();
}
