import type { ApiTokenRow, Permission, UserRow } from '../../src/db/database.ts';
import { Field, type FieldErrors } from '../components/field.tsx';
import { formatTime } from '../components/format.tsx';
import { Notice, Table } from '../components/page.tsx';

/*
 * Users and API tokens (manage_users): create users, set their permissions,
 * create and revoke tokens. A new token is shown once, on the page that
 * created it, and never again.
 */

export interface UsersPageProps {
  users: UserRow[];
  tokens: ApiTokenRow[];
  csrfToken: string;
  currentUserId: string;
  errors?: FieldErrors;
  values?: { email?: string; permissions?: Permission[]; token_name?: string };
  newToken?: { name: string; token: string };
  notice?: string;
  /** Every permission with its label, in the order to list them. */
  permissions: Record<Permission, string>;
}

function PermissionBoxes({
  name,
  checked,
  idPrefix,
  labels,
}: {
  name: string;
  checked: Permission[];
  idPrefix: string;
  labels: Record<Permission, string>;
}) {
  return (
    <div class="permission-boxes">
      {(Object.keys(labels) as Permission[]).map((permission) => (
        <label for={`${idPrefix}-${permission}`}>
          <input
            id={`${idPrefix}-${permission}`}
            type="checkbox"
            name={name}
            value={permission}
            checked={checked.includes(permission)}
          />{' '}
          {labels[permission]}
        </label>
      ))}
    </div>
  );
}

export function UsersPage({
  users,
  tokens,
  csrfToken,
  currentUserId,
  errors = {},
  values = {},
  newToken,
  notice,
  permissions,
}: UsersPageProps) {
  return (
    <>
      <h1>Users and API tokens</h1>
      <Notice message={notice} />
      {newToken ? (
        <section class="alert alert-success" role="status" aria-labelledby="new-token-title">
          <h2 id="new-token-title">API token “{newToken.name}” created</h2>
          <p>Copy it now: it is shown only this once.</p>
          <code class="mono secret-box" id="new-token">
            {newToken.token}
          </code>
        </section>
      ) : null}

      <section class="card" aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        <Table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Permissions</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr id={`user-${user.id}`}>
                <th scope="row">{user.email}</th>
                <td>
                  <form method="post" action={`/admin/users/${user.id}/permissions`} class="inline-form">
                    <input type="hidden" name="_csrf" value={csrfToken} />
                    <PermissionBoxes
                      labels={permissions}
                      name="permissions"
                      checked={user.permissions}
                      idPrefix={`user-${user.id}`}
                    />
                    <button type="submit" class="button">
                      Save
                    </button>
                    {user.id === currentUserId ? <span class="hint">(you)</span> : null}
                  </form>
                  {errors[`user-${user.id}`] ? <p class="field-error">{errors[`user-${user.id}`]}</p> : null}
                </td>
                <td>{formatTime(user.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
        <form method="post" action="/admin/users" class="form subform" aria-labelledby="new-user-title">
          <h3 id="new-user-title">New user</h3>
          <input type="hidden" name="_csrf" value={csrfToken} />
          <div class="field-row">
            <Field name="email" label="Email" errors={errors}>
              {(attributes) => <input {...attributes} type="email" value={values.email ?? ''} autocomplete="off" />}
            </Field>
            <Field name="password" label="Password" errors={errors} hint="At least 8 characters.">
              {(attributes) => <input {...attributes} type="password" value="" autocomplete="new-password" />}
            </Field>
          </div>
          <fieldset class={`field radio-group${errors.permissions ? ' field-invalid' : ''}`}>
            <legend>Permissions</legend>
            <PermissionBoxes
              labels={permissions}
              name="permissions"
              checked={values.permissions ?? ['view_tools']}
              idPrefix="new-user"
            />
            {errors.permissions ? <p class="field-error">{errors.permissions}</p> : null}
          </fieldset>
          <button type="submit" class="button button-primary">
            Create user
          </button>
        </form>
      </section>

      <section class="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">API tokens</h2>
        {tokens.length === 0 ? (
          <p class="hint">No API tokens yet.</p>
        ) : (
          <Table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                <th scope="col">Permissions</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((token) => (
                <tr id={`token-${token.id}`}>
                  <th scope="row">{token.name}</th>
                  <td class="mono">{token.token_prefix}…</td>
                  <td>{token.permissions.map((permission) => permissions[permission]).join(', ')}</td>
                  <td>{formatTime(token.created_at)}</td>
                  <td>{formatTime(token.last_used_at)}</td>
                  <td>
                    {token.revoked_at ? (
                      <span class="muted">Revoked {formatTime(token.revoked_at)}</span>
                    ) : (
                      <form
                        method="post"
                        action={`/admin/tokens/${token.id}/revoke`}
                        data-confirm={`Revoke the API token “${token.name}”? Whatever uses it is refused from then on. This cannot be undone.`}
                      >
                        <input type="hidden" name="_csrf" value={csrfToken} />
                        <button type="submit" class="button button-danger-quiet" aria-label={`Revoke ${token.name}`}>
                          Revoke
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
        <form method="post" action="/admin/tokens" class="form subform" aria-labelledby="new-token-form-title">
          <h3 id="new-token-form-title">New API token</h3>
          <input type="hidden" name="_csrf" value={csrfToken} />
          <Field name="token_name" label="Name" errors={errors} hint="Who or what uses it, e.g. “order platform”.">
            {(attributes) => <input {...attributes} type="text" value={values.token_name ?? ''} autocomplete="off" />}
          </Field>
          <fieldset class={`field radio-group${errors.token_permissions ? ' field-invalid' : ''}`}>
            <legend>Permissions</legend>
            <PermissionBoxes
              labels={permissions}
              name="token_permissions"
              checked={['publish_events']}
              idPrefix="new-token"
            />
            {errors.token_permissions ? <p class="field-error">{errors.token_permissions}</p> : null}
          </fieldset>
          <button type="submit" class="button button-primary">
            Create token
          </button>
        </form>
      </section>
    </>
  );
}
