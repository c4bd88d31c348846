import { sql } from 'kysely';
import type { Db, UserRow } from '../db/database.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';

/** A signed-in session: idle for at most this long… */
export const SESSION_IDLE_MS = 8 * 3_600_000;
/** …and never older than this, however active. */
export const SESSION_MAX_MS = 7 * 86_400_000;
/** last_seen_at is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000;

export interface ActiveSession {
  id: string;
  csrfToken: string;
  user: UserRow;
}

/** Creates a session; the returned token goes in the cookie, its hash in the table. */
export async function createSession(
  db: Db,
  input: { userId: string; address: string; userAgent: string | null; now: Date },
) {
  const token = randomToken(32);
  const csrfToken = randomToken(32);
  await db
    .insertInto('sessions')
    .values({
      id: sha256Hex(token),
      user_id: input.userId,
      csrf_token: csrfToken,
      created_at: input.now,
      last_seen_at: input.now,
      expires_at: new Date(input.now.getTime() + SESSION_MAX_MS),
      address: input.address,
      user_agent: input.userAgent?.slice(0, 500) ?? null,
    })
    .execute();
  return { token, csrfToken };
}

/**
 * The live session for a cookie token, or undefined when it is unknown,
 * idle too long, past its absolute expiry, or its user is disabled.
 */
export async function findActiveSession(db: Db, token: string, now: Date): Promise<ActiveSession | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('users')
    .select(['sessions.id as session_id', 'sessions.csrf_token', 'sessions.last_seen_at', 'sessions.expires_at'])
    .where('sessions.id', '=', sha256Hex(token))
    .executeTakeFirst();
  if (
    !row ||
    row.disabled_at ||
    row.expires_at <= now ||
    now.getTime() - row.last_seen_at.getTime() > SESSION_IDLE_MS
  ) {
    return undefined;
  }
  if (now.getTime() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) {
    await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', row.session_id).execute();
  }
  const { session_id, csrf_token, last_seen_at: _seen, expires_at: _expires, ...user } = row;
  return { id: session_id, csrfToken: csrf_token, user };
}

export async function deleteSession(db: Db, token: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sha256Hex(token)).execute();
}

/** Removes sessions that can no longer be used. */
export async function deleteExpiredSessions(db: Db, now: Date): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', new Date(now.getTime() - SESSION_IDLE_MS))]),
    )
    .execute();
}

/** Failed sign-ins in the last `windowMs` for an email and from an address. */
export async function recentLoginFailures(db: Db, input: { email: string; address: string; since: Date }) {
  const row = await db
    .selectFrom('login_attempts')
    .select([
      sql<string>`count(*) filter (where lower(email) = ${input.email.toLowerCase()})`.as('for_email'),
      sql<string>`count(*) filter (where address = ${input.address})`.as('from_address'),
      sql<string>`count(*) filter (where lower(email) = ${input.email.toLowerCase()} and address = ${input.address})`.as(
        'for_email_from_address',
      ),
    ])
    .where('succeeded', '=', false)
    .where('attempted_at', '>=', input.since)
    .where((eb) =>
      eb.or([eb(eb.fn('lower', ['email']), '=', input.email.toLowerCase()), eb('address', '=', input.address)]),
    )
    .executeTakeFirstOrThrow();
  return {
    forEmail: Number(row.for_email),
    fromAddress: Number(row.from_address),
    forEmailFromAddress: Number(row.for_email_from_address),
  };
}

/** Reserves an attempt as failed before the password is checked; returns its id, to settle once it is. */
export async function reserveLoginAttempt(
  db: Db,
  input: { email: string; address: string; now: Date },
): Promise<string> {
  const row = await db
    .insertInto('login_attempts')
    .values({ email: input.email.slice(0, 254), address: input.address, succeeded: false, attempted_at: input.now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** Settles a reserved attempt: it succeeded (no longer a failure), or it is withdrawn (throttled: never checked). */
export async function settleLoginAttempt(
  db: Db,
  id: string,
  outcome: 'succeeded' | 'failed' | 'withdrawn',
): Promise<void> {
  if (outcome === 'withdrawn') await db.deleteFrom('login_attempts').where('id', '=', id).execute();
  else if (outcome === 'succeeded')
    await db.updateTable('login_attempts').set({ succeeded: true }).where('id', '=', id).execute();
}
