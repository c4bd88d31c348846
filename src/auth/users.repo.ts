import { sql } from 'kysely';
import type { Db, Permission, UserRow } from '../db/database.ts';

export async function countUsers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .executeTakeFirst();
}

/**
 * Inserts a user unless one with that email (in any letter case) exists;
 * returns the new row, or undefined when the email was taken.
 */
export async function insertUserIfAbsent(
  db: Db,
  user: { email: string; passwordHash: string; permissions: Permission[] },
): Promise<UserRow | undefined> {
  return db
    .insertInto('users')
    .values({ email: user.email, password_hash: user.passwordHash, permissions: user.permissions })
    .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Argon2id, Bun's implementation. */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: 'argon2id' });
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return Bun.password.verify(password, hash);
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('email').execute();
}

export async function setUserPermissions(
  db: Db,
  userId: string,
  permissions: Permission[],
): Promise<UserRow | undefined> {
  return db
    .updateTable('users')
    .set({ permissions, updated_at: new Date() })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}
