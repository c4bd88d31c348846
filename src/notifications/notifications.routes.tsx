import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import {
  ChannelFormPage,
  type ChannelFormValues,
  ChannelPage,
  ChannelTestResult,
  NotificationsPage,
} from '../../views/notifications/channels.tsx';
import type { FieldErrors } from '../../views/components/field.tsx';
import { requireCsrfToken, requirePermission, type SessionVariables } from '../auth/session.ts';
import type { Config } from '../config.ts';
import type { Database, NotificationChannelRow } from '../db/database.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Logger } from '../lib/log.ts';
import { PageNotFound } from '../integrations/pages.tsx';
import {
  ChannelEditRefused,
  deleteChannel,
  findChannel,
  insertChannel,
  listChannels,
  recentNotices,
  updateChannel,
} from './channels.repo.ts';
import { createChannelSchema, updateChannelSchema } from './channels.schema.ts';
import { channelLabel, testChannel } from './channels.service.ts';
import { NO_SMTP } from './send.ts';

/* Tools › Event Stream › Notifications (permission view_tools). */

type Env = { Variables: SessionVariables };
const BASE = '/tools/event-stream/notifications';

type Form = Record<string, string | File | (string | File)[]>;
const list = (value: Form[string] | undefined): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string');
const text = (value: Form[string] | undefined): string => list(value)[0]?.trim() ?? '';

function valuesOf(form: Form): ChannelFormValues {
  return {
    kind: text(form.kind) === 'email' ? 'email' : 'webhook',
    url: text(form.url),
    format: text(form.format) === 'slack' ? 'slack' : 'json',
    to: text(form.to),
    integrations: list(form.integrations),
    types: list(form.types),
  };
}

function valuesOfRow(row: NotificationChannelRow): ChannelFormValues {
  return {
    kind: row.kind,
    url: row.url ?? '',
    format: row.format,
    to: row.email_to.join(', '),
    integrations: row.filter_integrations,
    types: row.filter_types,
  };
}

const recipients = (to: string) => to.split(/[\s,;]+/).filter(Boolean);

function bodyOf(values: ChannelFormValues) {
  const filter = { integrations: values.integrations, types: values.types };
  return values.kind === 'email'
    ? { kind: 'email', to: recipients(values.to), filter }
    : { kind: 'webhook', url: values.url, format: values.format, filter };
}

/** Each zod issue under the form field it is about (`to.1` → to, `filter.types.0` → types). */
function formErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    const field = path[0] === 'filter' ? (path[1] ?? 'types') : (path[0] ?? 'form');
    const message =
      path[0] === 'to' && path.length > 1 ? `${issue.message} (${issue.path.slice(1).join('')})` : issue.message;
    errors[field] ??= message;
  }
  return errors;
}

export function notificationPages(deps: { db: Kysely<Database>; secrets: SecretBox; config: Config; log: Logger }) {
  const { db, secrets, config } = deps;
  const csrf = (c: Context<Env>) => c.get('session')!.csrfToken;

  async function channelOf(c: Context<Env>): Promise<NotificationChannelRow> {
    const row = await findChannel(db, c.req.param('channelId') ?? '');
    if (!row) throw new PageNotFound('Channel not found', 'There is no such notification channel.');
    return row;
  }

  async function renderForm(
    c: Context<Env>,
    mode: 'new' | 'edit',
    values: ChannelFormValues,
    errors: FieldErrors,
    id?: string,
  ) {
    if (Object.keys(errors).length > 0) c.status(422);
    const integrationIds = (
      await db.selectFrom('integrations').select('id').where('deleted_at', 'is', null).orderBy('id').execute()
    ).map((row) => row.id);
    return c.render(
      <ChannelFormPage
        mode={mode}
        id={id}
        values={values}
        errors={errors}
        integrationIds={integrationIds}
        csrfToken={csrf(c)}
      />,
      { title: mode === 'new' ? 'New Channel' : 'Edit Channel', section: 'event-stream' },
    );
  }

  async function renderChannel(
    c: Context<Env>,
    row: NotificationChannelRow,
    extra: { newSecret?: string; notice?: string } = {},
  ) {
    return c.render(
      <ChannelPage
        row={row}
        label={channelLabel(row)}
        notices={await recentNotices(db, row.id)}
        csrfToken={csrf(c)}
        {...extra}
      />,
      { title: `Channel ${channelLabel(row)}`, section: 'event-stream' },
    );
  }

  return new Hono<Env>()
    .use(requirePermission('view_tools'), requireCsrfToken())
    .get('/', async (c) => {
      const channels = (await listChannels(db)).map((row) => ({ row, label: channelLabel(row) }));
      const notice = c.req.query('deleted') !== undefined ? 'Channel deleted.' : undefined;
      return c.render(
        <NotificationsPage
          channels={channels}
          notice={notice}
          emailAvailable={Boolean(config.notifications.smtpUrl)}
        />,
        { title: 'Notifications', section: 'event-stream' },
      );
    })
    .get('/new', (c) => renderForm(c, 'new', valuesOf({}), {}))
    .post('/new', async (c) => {
      const values = valuesOf(await c.req.parseBody({ all: true }));
      const parsed = createChannelSchema.safeParse(bodyOf(values));
      if (!parsed.success) return renderForm(c, 'new', values, formErrors(parsed.error));
      if (parsed.data.kind === 'email' && !config.notifications.smtpUrl)
        return renderForm(c, 'new', values, { kind: NO_SMTP });
      const { channel, signingSecret } = await insertChannel(db, secrets, parsed.data);
      deps.log.info('notification channel created', {
        channel: channel.id,
        kind: channel.kind,
        actor: c.get('session')!.user.email,
      });
      // The page shows the secret this once; a reload (GET) shows it masked.
      c.status(201);
      return renderChannel(c, channel, { newSecret: signingSecret, notice: 'Channel created.' });
    })
    .get('/:channelId', async (c) => {
      const row = await channelOf(c);
      return renderChannel(c, row, { notice: c.req.query('saved') !== undefined ? 'Channel saved.' : undefined });
    })
    .get('/:channelId/edit', async (c) => {
      const row = await channelOf(c);
      return renderForm(c, 'edit', valuesOfRow(row), {}, row.id);
    })
    .post('/:channelId/edit', async (c) => {
      const row = await channelOf(c);
      const values = { ...valuesOf(await c.req.parseBody({ all: true })), kind: row.kind };
      const { kind: _kind, ...changes } = bodyOf(values);
      const parsed = updateChannelSchema.safeParse(changes);
      if (!parsed.success) return renderForm(c, 'edit', values, formErrors(parsed.error), row.id);
      try {
        await updateChannel(db, secrets, row, parsed.data);
      } catch (error) {
        if (error instanceof ChannelEditRefused)
          return renderForm(c, 'edit', values, { [error.field]: error.message }, row.id);
        throw error;
      }
      return c.redirect(`${BASE}/${row.id}?saved`, 303);
    })
    .post('/:channelId/test', async (c) => {
      const result = await testChannel(await channelOf(c), deps);
      if (c.req.header('hx-request')) return c.html(<ChannelTestResult result={result} />);
      return c.render(<ChannelTestResult result={result} />, { title: 'Test notification', section: 'event-stream' });
    })
    .post('/:channelId/delete', async (c) => {
      await deleteChannel(db, (await channelOf(c)).id);
      if (c.req.header('hx-request')) {
        c.header('hx-redirect', `${BASE}?deleted`);
        return c.body(null, 204);
      }
      return c.redirect(`${BASE}?deleted`, 303);
    });
}
