import { type Kysely, sql } from 'kysely';

/*
 * Short-lived access tokens issued by `POST /v0/token` (NewStore's token
 * endpoint) to a user (password grant) or to an API token (client
 * credentials). Only the token's SHA-256 is stored. A token carries no
 * permissions of its own: it is checked against its user's or API token's
 * current ones, so disabling the user, removing their permission or
 * revoking the API token revokes it; deleting either removes it.
 */

const statements = [
  sql`create table access_tokens (
    id uuid primary key default gen_random_uuid(),
    token_hash text not null unique,
    user_id uuid references users (id) on delete cascade,
    api_token_id uuid references api_tokens (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    constraint access_tokens_one_holder check ((user_id is null) <> (api_token_id is null))
  )`,
  sql`create index access_tokens_by_expiry on access_tokens (expires_at)`,
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table access_tokens`.execute(db);
}
