import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { UsersPage, type UsersPageProps } from '../../views/admin/users.tsx';
import type { FieldErrors } from '../../views/components/field.tsx';
import type { Database, Permission } from '../db/database.ts';
import { PERMISSION_LABELS, PERMISSIONS } from './permissions.ts';
import { asSentence } from '../lib/messages.ts';
import { createApiToken, listApiTokens, revokeApiToken } from './api-tokens.repo.ts';
import { emailSchema, passwordSchema, tokenNameSchema } from './auth.schema.ts';
import { requireCsrfToken, requirePermission, type SessionVariables } from './session.ts';
import { hashPassword, insertUserIfAbsent, listUsers, setUserPermissions } from './users.repo.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Env = { Variables: SessionVariables };
type Form = Record<string, string | File | (string | File)[]>;

/** Checked permission boxes, keeping only known permissions. */
function permissionsOf(form: Form, name: string): Permission[] {
  const value = form[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter(
    (item): item is Permission => typeof item === 'string' && (PERMISSIONS as string[]).includes(item),
  );
}

const newUserSchema = z.object({ email: emailSchema, password: passwordSchema });

/** /admin/users: users and API tokens, for users with manage_users. */
export function userPages(deps: { db: Kysely<Database> }) {
  const { db } = deps;

  async function render(c: Context<Env>, props: Partial<UsersPageProps> = {}) {
    const session = c.get('session')!;
    if (props.errors && Object.keys(props.errors).length > 0) c.status(422);
    const [users, tokens] = await Promise.all([listUsers(db), listApiTokens(db)]);
    return c.render(
      <UsersPage
        users={users}
        tokens={tokens}
        csrfToken={session.csrfToken}
        currentUserId={session.user.id}
        permissions={PERMISSION_LABELS}
        {...props}
      />,
      {
        title: 'Users',
        section: 'admin',
      },
    );
  }

  return new Hono<Env>()
    .use(requirePermission('manage_users'), requireCsrfToken())
    .get('/users', (c) =>
      render(c, {
        notice:
          c.req.query('notice') === 'saved'
            ? 'Permissions saved.'
            : c.req.query('notice') === 'revoked'
              ? 'Token revoked.'
              : undefined,
      }),
    )
    .post('/users', async (c) => {
      const form = await c.req.parseBody({ all: true });
      const permissions = permissionsOf(form, 'permissions');
      const values = { email: typeof form.email === 'string' ? form.email : '', permissions };
      const parsed = newUserSchema.safeParse({ email: form.email, password: form.password });
      const errors: FieldErrors = {};
      if (!parsed.success)
        for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= asSentence(issue.message);
      if (permissions.length === 0) errors.permissions = 'Choose at least one permission.';
      if (!parsed.success || permissions.length === 0) return render(c, { errors, values });
      const created = await insertUserIfAbsent(db, {
        email: parsed.data.email,
        passwordHash: await hashPassword(parsed.data.password),
        permissions,
      });
      if (!created)
        return render(c, { errors: { email: `A user with the email ${parsed.data.email} already exists.` }, values });
      return render(c, { notice: `User ${created.email} created.` });
    })
    .post('/users/:id/permissions', async (c) => {
      const session = c.get('session')!;
      const id = c.req.param('id');
      // Ids are UUIDs: anything else names nobody (PostgreSQL would refuse the cast: a 500).
      if (!UUID.test(id)) return c.notFound();
      const permissions = permissionsOf(await c.req.parseBody({ all: true }), 'permissions');
      // Nobody can lock themselves (and possibly everyone) out of user management.
      if (id === session.user.id && !permissions.includes('manage_users')) {
        return render(c, {
          errors: { [`user-${id}`]: 'You cannot remove Manage users from yourself; ask another administrator.' },
        });
      }
      if (!(await setUserPermissions(db, id, permissions))) return c.notFound();
      return c.redirect('/admin/users?notice=saved', 303);
    })
    .post('/tokens', async (c) => {
      const session = c.get('session')!;
      const form = await c.req.parseBody({ all: true });
      const permissions = permissionsOf(form, 'token_permissions');
      const name = tokenNameSchema.safeParse(form.token_name);
      const errors: FieldErrors = {};
      if (!name.success) errors.token_name = 'Give the token a name.';
      if (permissions.length === 0) errors.token_permissions = 'Choose at least one permission.';
      if (!name.success || permissions.length === 0)
        return render(c, {
          errors,
          values: { token_name: typeof form.token_name === 'string' ? form.token_name : '' },
        });
      const { token } = await createApiToken(db, { name: name.data, permissions, createdBy: session.user.id });
      // Shown in this response only; never stored in plain text. Not cacheable.
      c.header('cache-control', 'no-store');
      return render(c, { newToken: { name: name.data, token } });
    })
    .post('/tokens/:id/revoke', async (c) => {
      if (!UUID.test(c.req.param('id'))) return c.notFound();
      await revokeApiToken(db, c.req.param('id'));
      return c.redirect('/admin/users?notice=revoked', 303);
    });
}
