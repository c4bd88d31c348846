import PQueue from 'p-queue';
import type { Db, UserRow } from '../db/database.ts';
import { recentLoginFailures, reserveLoginAttempt, settleLoginAttempt } from './sessions.repo.ts';
import { findUserByEmail, verifyPassword } from './users.repo.ts';

/*
 * Checking an email and password, throttled: the sign-in page and the
 * token endpoint (`POST /v0/token`, password grant) count failures together,
 * so neither is a way around the other's limit.
 */

/** Failed sign-ins are counted over this window… */
export const THROTTLE_WINDOW_MS = 15 * 60_000;
/** …and refused beyond these counts: for one account from one address, and from one address in all. */
const MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5;
const MAX_FAILURES_PER_ADDRESS = 20;
/**
 * An account's failures from every address do not lock it (anyone could
 * lock anyone out): past this many, each check waits, twice as long per
 * failure up to MAX_DELAY_MS, so guessing from many addresses stays slow and
 * the right password from a fresh address still gets in.
 */
const FREE_FAILURES_PER_ACCOUNT = 5;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
/** argon2 is slow on purpose: a flood of sign-ins waits its turn instead of taking every core. */
const hashing = new PQueue({ concurrency: 4 });

/** How long a check waits after `failures` failures for the account from anywhere. */
export function signInDelayMs(failures: number): number {
  if (failures <= FREE_FAILURES_PER_ACCOUNT) return 0;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (failures - FREE_FAILURES_PER_ACCOUNT - 1));
}

// Verifying against a real hash when the email is unknown keeps the answer's
// timing from telling which emails have accounts.
// Hashed on the first sign-in, not at start-up (argon2 is deliberately slow).
let dummyHash: Promise<string> | undefined;
const timingEqualiser = () => (dummyHash ??= Bun.password.hash('tideway-timing-equaliser', { algorithm: 'argon2id' }));

export type SignIn = { kind: 'throttled' } | { kind: 'refused' } | { kind: 'ok'; user: UserRow };

/**
 * Checks `password` for `email` from `address`. The attempt is reserved as a
 * failure before anything is checked and the failures are counted with it,
 * so that parallel guesses cannot all slip under the limit; it is settled
 * once the password has been checked, or withdrawn when throttled.
 */
export async function checkSignIn(
  db: Db,
  input: { email: string; password: string; address: string; now: Date; sleep?: (ms: number) => Promise<unknown> },
): Promise<SignIn> {
  const { email, address, now } = input;
  const attempt = await reserveLoginAttempt(db, { email, address, now });
  const failures = await recentLoginFailures(db, {
    email,
    address,
    since: new Date(now.getTime() - THROTTLE_WINDOW_MS),
  });
  if (
    failures.forEmailFromAddress > MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS ||
    failures.fromAddress > MAX_FAILURES_PER_ADDRESS
  ) {
    await settleLoginAttempt(db, attempt, 'withdrawn');
    return { kind: 'throttled' };
  }
  // The reservation counts among the failures: this attempt's own delay grows with those before it.
  const delay = signInDelayMs(failures.forEmail - 1);
  if (delay > 0) await (input.sleep ?? Bun.sleep)(delay);
  const user = email ? await findUserByEmail(db, email) : undefined;
  const hash = user?.password_hash ?? (await timingEqualiser());
  const valid = await hashing.add(() => verifyPassword(input.password, hash));
  const succeeded = Boolean(user && valid && !user.disabled_at);
  await settleLoginAttempt(db, attempt, succeeded ? 'succeeded' : 'failed');
  return user && succeeded ? { kind: 'ok', user } : { kind: 'refused' };
}
