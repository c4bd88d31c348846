import type { Db } from '../db/database.ts';
import { PERMISSIONS } from './permissions.ts';
import { randomToken } from '../lib/crypto.ts';
import { countUsers, hashPassword, insertUserIfAbsent } from './users.repo.ts';

/**
 * On a deployment with no user, creates the first admin with every
 * permission. The password is ADMIN_PASSWORD, or generated and handed to
 * `announce` — the only place it ever appears. Safe when several processes
 * start at once: the unique email index lets one insert win.
 *
 * @returns the admin's email when this call created it.
 */
export async function ensureFirstAdmin(
  db: Db,
  admin: { email: string; password: string | undefined },
  announce: (message: string) => void,
): Promise<string | undefined> {
  if ((await countUsers(db)) > 0) return undefined;
  const password = admin.password ?? randomToken(18);
  const created = await insertUserIfAbsent(db, {
    email: admin.email,
    passwordHash: await hashPassword(password),
    permissions: [...PERMISSIONS],
  });
  if (!created) return undefined;
  announce(
    admin.password
      ? `Created the first admin ${admin.email} with the password from ADMIN_PASSWORD.`
      : `Created the first admin.\n  email:    ${admin.email}\n  password: ${password}\n` +
          'This password is shown only once: sign in and keep it safe.',
  );
  return admin.email;
}
