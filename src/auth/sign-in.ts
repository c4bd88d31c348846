import type { Db, UserRow } from '../db/database.ts';
import { recentLoginFailures, recordLoginAttempt } from './sessions.repo.ts';
import { findUserByEmail, verifyPassword } from './users.repo.ts';

/*
 * Checking an email and password, throttled: the sign-in page and the
 * token endpoint (`POST /v0/token`, password grant) count failures together,
 * so neither is a way around the other's limit.
 */

/** Failed sign-ins are counted over this window… */
export const THROTTLE_WINDOW_MS = 15 * 60_000;
/** …and refused beyond these counts, per account and per address. */
const MAX_FAILURES_PER_EMAIL = 5;
const MAX_FAILURES_PER_ADDRESS = 20;

// Verifying against a real hash when the email is unknown keeps the answer's
// timing from telling which emails have accounts.
// Hashed on the first sign-in, not at start-up (argon2 is deliberately slow).
let dummyHash: Promise<string> | undefined;
const timingEqualiser = () => (dummyHash ??= Bun.password.hash('tideway-timing-equaliser', { algorithm: 'argon2id' }));

export type SignIn = { kind: 'throttled' } | { kind: 'refused' } | { kind: 'ok'; user: UserRow };

/** Checks `password` for `email` from `address`, and records the attempt. */
export async function checkSignIn(
  db: Db,
  input: { email: string; password: string; address: string; now: Date },
): Promise<SignIn> {
  const { email, address, now } = input;
  const failures = await recentLoginFailures(db, {
    email,
    address,
    since: new Date(now.getTime() - THROTTLE_WINDOW_MS),
  });
  if (failures.forEmail >= MAX_FAILURES_PER_EMAIL || failures.fromAddress >= MAX_FAILURES_PER_ADDRESS)
    return { kind: 'throttled' };
  const user = email ? await findUserByEmail(db, email) : undefined;
  const valid = await verifyPassword(input.password, user?.password_hash ?? (await timingEqualiser()));
  const succeeded = Boolean(user && valid && !user.disabled_at);
  await recordLoginAttempt(db, { email, address, succeeded, now });
  return user && succeeded ? { kind: 'ok', user } : { kind: 'refused' };
}
