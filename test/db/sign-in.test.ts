import { describe, expect, test } from 'bun:test';
import { checkSignIn, signInDelayMs } from '../../src/auth/sign-in.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn } from '../helpers/fixtures.ts';

/*
 * Sign-in throttling that holds: parallel guesses cannot all be evaluated,
 * and failures from strangers slow an account down without locking its
 * owner out.
 */

const database = useTestDatabase();
const PASSWORD = 'correct horse battery'; // signedIn()'s

/** Checks without sleeping; the delays asked for are collected. */
function checker() {
  const delays: number[] = [];
  const check = (email: string, password: string, address: string) =>
    checkSignIn(database().db, {
      email,
      password,
      address,
      now: new Date(),
      sleep: async (ms) => void delays.push(ms),
    });
  return { check, delays };
}

describe('sign-in throttling', () => {
  test('20 parallel guesses at one account from one address: at most 5 are evaluated (all 20 used to be)', async () => {
    const { email } = await signedIn(database().db, ['view_tools']);
    const { check } = checker();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => check(email, `guess-${i}`, '198.51.100.7')),
    );
    expect(outcomes.filter((outcome) => outcome.kind === 'refused').length).toBeLessThanOrEqual(5);
    expect(outcomes.filter((outcome) => outcome.kind === 'throttled').length).toBeGreaterThanOrEqual(15);
    // Throttled attempts were withdrawn, not counted.
    const rows = await database().db.selectFrom('login_attempts').select('id').where('email', '=', email).execute();
    expect(rows.length).toBe(outcomes.filter((outcome) => outcome.kind === 'refused').length);
  });

  test('60 parallel guesses from one address at many accounts: at most 20 are evaluated', async () => {
    const { check } = checker();
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => check(`nobody-${i}@example.com`, 'guess', '198.51.100.8')),
    );
    expect(outcomes.filter((outcome) => outcome.kind === 'refused').length).toBeLessThanOrEqual(20);
  });

  test('failures from strangers do not lock the owner out: the right password from a fresh address gets in, after a short delay', async () => {
    const { email } = await signedIn(database().db, ['view_tools']);
    const { check, delays } = checker();
    for (let i = 0; i < 8; i++) expect((await check(email, `wrong-${i}`, `203.0.113.${i}`)).kind).toBe('refused');
    const owner = await check(email, PASSWORD, '192.0.2.50');
    expect(owner.kind).toBe('ok');
    expect(delays.at(-1)).toBe(signInDelayMs(8));
    expect(delays.at(-1)).toBeLessThanOrEqual(2_000);
    // But one address guessing at one account is stopped.
    for (let i = 0; i < 5; i++) await check(email, `again-${i}`, '203.0.113.99');
    expect((await check(email, PASSWORD, '203.0.113.99')).kind).toBe('throttled');
  });

  test('the delay doubles per failure past the first 5, up to 30 s', () => {
    expect([0, 5, 6, 7, 8, 10, 20, 100].map(signInDelayMs)).toEqual([0, 0, 500, 1_000, 2_000, 8_000, 30_000, 30_000]);
  });
});
