import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import { ConnectionTestResult, SigningSecretValue } from '../../views/integrations/edit-panels.tsx';
import { IntegrationFormPage, type IntegrationFormValues } from '../../views/integrations/form.tsx';
import {
  DeleteConfirmPage,
  EmptyList,
  EventStreamPage,
  IntegrationRowView,
  Tabs,
  type Tab,
} from '../../views/integrations/list.tsx';
import type { FieldErrors } from '../../views/components/field.tsx';
import { requireCsrfToken, requirePermission } from '../auth/session.ts';
import type { Config } from '../config.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { testS3Connection } from '../delivery/s3-upload.ts';
import { testWebhookConnection } from '../delivery/test-connection.ts';
import { listEventTypes } from '../events/event-types.repo.ts';
import { maskSecret, maskUrlCredentials, type SecretBox } from '../lib/crypto.ts';
import { catalogNames } from '../events/event-types.repo.ts';
import { createBodyFromForm, formErrors, formValues, updateBodyFromForm, valuesFromRow } from './integrations.form.ts';
import { countIntegrationsByStatus, findIntegration, integrationStats, listIntegrations } from './integrations.repo.ts';
import { s3LayoutLabel, targetLabel } from './integrations.resource.ts';
import { createIntegrationSchema, updateIntegrationSchema } from './integrations.schema.ts';
import {
  createIntegration,
  EditRefusedError,
  deleteIntegration,
  DuplicateIntegrationError,
  fromCreateBody,
  rotateSigningSecret,
  setIntegrationStatus,
  signingSecretOf,
  updateIntegration,
} from './integrations.service.ts';
import { integrationSummary, type PageEnv, withIntegration } from './pages.tsx';
import { asSentence } from '../lib/messages.ts';
import { BATCH_PLACEHOLDERS, DEFAULT_KEY_TEMPLATE, EVENT_PLACEHOLDERS, exampleObjectKey } from '../delivery/s3-keys.ts';
import type { Logger } from '../lib/log.ts';

type Env = PageEnv;

const TAB_STATUS = { all: undefined, active: 'running', paused: 'stopped' } as const;

function tabOf(value: unknown): Tab {
  return value === 'active' || value === 'paused' ? value : 'all';
}

/** Tools › Event Stream pages: the list, New/Edit, toggle, delete, signing secret. */
/**
 * The banner after a create, save or delete: from a fixed set of messages.
 * The id in the address is shown only when it names an integration that
 * exists, so a link cannot make the page say what its sender wants.
 */
async function listNoticeFor(db: Kysely<Database>, query: Record<string, string>): Promise<string | undefined> {
  for (const [code, message] of [
    ['created', 'created and started'],
    ['saved', 'saved'],
  ] as const) {
    const id = query[code];
    if (id) return (await findIntegration(db, id)) ? `Integration “${id}” ${message}.` : undefined;
  }
  return query.deleted !== undefined ? 'Integration deleted.' : undefined;
}

export function integrationPages(deps: { db: Kysely<Database>; secrets: SecretBox; config: Config; log: Logger }) {
  const { db, secrets } = deps;
  const session = (c: Context<Env>) => c.get('session')!;
  const actor = (c: Context<Env>) => session(c).user.email;

  async function listed(rows: IntegrationRow[]) {
    const stats = await integrationStats(db, rows);
    return rows.map((row) => ({
      row,
      target: targetLabel(row),
      // The whole address, shown truncated with all of it on hover (credentials in a URL are masked).
      targetFull:
        row.target_kind === 'webhook'
          ? maskUrlCredentials(row.callback_url ?? '')
          : `${targetLabel(row)}${row.s3_endpoint ? ` at ${row.s3_endpoint}` : ''}`,
      layout: s3LayoutLabel(row),
      stats: stats.get(row.id)!,
    }));
  }

  async function renderForm(
    c: Context<Env>,
    mode: 'new' | 'edit',
    values: IntegrationFormValues,
    errors: FieldErrors,
    row?: IntegrationRow,
  ) {
    if (Object.keys(errors).length > 0) c.status(422);
    const masks = row
      ? {
          api_key: row.api_key_enc ? maskSecret(secrets.decrypt(row.api_key_enc)) : null,
          aws_secret_access_key: row.s3_secret_access_key_enc
            ? maskSecret(secrets.decrypt(row.s3_secret_access_key_enc))
            : null,
        }
      : undefined;
    return c.render(
      <IntegrationFormPage
        mode={mode}
        values={values}
        errors={errors}
        catalog={await listEventTypes(db)}
        csrfToken={session(c).csrfToken}
        masks={masks}
        keyTemplate={keyTemplateHelp(values)}
        summary={row ? await integrationSummary(db, row, session(c).csrfToken) : undefined}
      />,
      { title: mode === 'new' ? 'New Integration' : `Edit ${values.id}`, section: 'event-stream' },
    );
  }

  function keyTemplateHelp(
    values: Pick<IntegrationFormValues, 'id' | 'key_template' | 'key_prefix' | 'format' | 'compression'>,
  ) {
    return {
      defaultTemplate: DEFAULT_KEY_TEMPLATE,
      batchPlaceholders: BATCH_PLACEHOLDERS,
      eventPlaceholders: EVENT_PLACEHOLDERS,
      example: exampleObjectKey({
        template: values.key_template || null,
        keyPrefix: values.key_prefix,
        tenant: deps.config.tenant,
        format: values.format,
        compression: values.compression,
        integrationId: values.id,
        now: new Date(),
      }),
    };
  }

  const integration = withIntegration(db);

  /**
   * What an in-place change sends besides the row: the tab counts, and the
   * empty state when the tab has no row left (instead of a bare table header).
   */
  async function listPartials(tab: Tab) {
    const counts = await countIntegrationsByStatus(db);
    const left = tab === 'all' ? counts.all : tab === 'active' ? counts.running : counts.stopped;
    return (
      <>
        <hx-partial hx-target="#integration-tabs" hx-swap="outerHTML">
          <Tabs tab={tab} counts={counts} />
        </hx-partial>
        {left === 0 ? (
          <hx-partial hx-target="#integration-list" hx-swap="innerHTML">
            <EmptyList tab={tab} />
          </hx-partial>
        ) : null}
      </>
    );
  }

  return (
    new Hono<Env>()
      .use(requirePermission('view_tools'), requireCsrfToken())
      .get('/', async (c) => {
        const tab = tabOf(c.req.query('tab'));
        const [counts, rows] = await Promise.all([
          countIntegrationsByStatus(db),
          listIntegrations(db, TAB_STATUS[tab]),
        ]);
        const notice = await listNoticeFor(db, c.req.query());
        return c.render(
          <EventStreamPage
            tab={tab}
            counts={counts}
            integrations={await listed(rows)}
            csrfToken={session(c).csrfToken}
            notice={notice}
            now={new Date()}
          />,
          {
            title: 'Event Stream',
            section: 'event-stream',
          },
        );
      })
      .get('/new', (c) => renderForm(c, 'new', formValues({}), {}))
      // The form's live example key, for the values as typed (public/app.js asks as they change).
      .get('/new/key-example', (c) => c.json({ example: keyTemplateHelp(formValues(c.req.query())).example }))
      .post('/new', async (c) => {
        const form = await c.req.parseBody({ all: true });
        const values = formValues(form);
        const parsed = createIntegrationSchema(await catalogNames(db)).safeParse(createBodyFromForm(form, values));
        if (!parsed.success) return renderForm(c, 'new', values, formErrors(parsed.error));
        try {
          await createIntegration(db, secrets, fromCreateBody(parsed.data), actor(c));
        } catch (error) {
          if (error instanceof DuplicateIntegrationError) return renderForm(c, 'new', values, { id: error.message });
          throw error;
        }
        return c.redirect(`/tools/event-stream?created=${encodeURIComponent(parsed.data.id)}`, 303);
      })
      .get('/:id/edit', integration, async (c) => {
        const row = c.var.integration;
        return renderForm(c, 'edit', valuesFromRow(row), {}, row);
      })
      .post('/:id/edit', integration, async (c) => {
        const row = c.var.integration;
        const form = await c.req.parseBody({ all: true });
        const stored = valuesFromRow(row);
        const values = formValues(form, {
          id: row.id,
          integration_type: row.integration_type,
          starts_at: stored.starts_at,
          ends_at: stored.ends_at,
          target: row.target_kind,
        });
        const parsed = updateIntegrationSchema(await catalogNames(db)).safeParse(updateBodyFromForm(form, values));
        if (!parsed.success) return renderForm(c, 'edit', values, formErrors(parsed.error), row);
        try {
          await updateIntegration(db, secrets, row.id, parsed.data);
        } catch (error) {
          if (!(error instanceof EditRefusedError)) throw error;
          // The API's path names the form field: callback_parameters.api_key → api_key.
          const field = error.field.split('.').at(-1)!;
          return renderForm(c, 'edit', values, { [field]: asSentence(error.message) }, row);
        }
        return c.redirect(`/tools/event-stream?saved=${encodeURIComponent(row.id)}`, 303);
      })
      // The switch sets the state it shows the user will get (PUT-like: sending it twice changes nothing more).
      .post('/:id/status', integration, async (c) => {
        const row = c.var.integration;
        const form = await c.req.parseBody();
        const tab = tabOf(form.tab);
        const wanted = form.status === 'running' || form.status === 'stopped' ? form.status : undefined;
        if (!wanted) return c.text('The form must say which state to set: status=running or status=stopped.', 400);
        const updated =
          (await setIntegrationStatus(
            db,
            row.id,
            wanted,
            wanted === 'running' ? 'Started in the UI' : 'Paused in the UI',
            actor(c),
          )) ?? row;
        if (!c.req.header('hx-request')) {
          // From an integration's own pages (its header's switch): back to that page.
          const back = typeof form.return_to === 'string' ? form.return_to : '';
          if (back.startsWith(`/tools/event-stream/${encodeURIComponent(row.id)}/`) && !/[\s\\]/.test(back))
            return c.redirect(back, 303);
          return c.redirect(tab === 'all' ? '/tools/event-stream' : `/tools/event-stream?tab=${tab}`, 303);
        }
        const stillListed = tab === 'all' || TAB_STATUS[tab] === updated.status;
        // A row that no longer belongs to this tab leaves it; the counts change in place either way.
        if (!stillListed) c.header('hx-reswap', 'delete');
        const [listedRow] = await listed([updated]);
        return c.html(
          <>
            {stillListed ? (
              <IntegrationRowView
                integration={listedRow!}
                tab={tab}
                csrfToken={session(c).csrfToken}
                now={new Date()}
              />
            ) : null}
            {await listPartials(tab)}
          </>,
        );
      })
      .get('/:id/delete', integration, async (c) => {
        const row = c.var.integration;
        return c.render(<DeleteConfirmPage id={row.id} csrfToken={session(c).csrfToken} />, {
          title: `Delete ${row.id}`,
          section: 'event-stream',
        });
      })
      .post('/:id/delete', async (c) => {
        const id = c.req.param('id');
        await deleteIntegration(db, id);
        if (!c.req.header('hx-request'))
          return c.redirect(`/tools/event-stream?deleted=${encodeURIComponent(id)}`, 303);
        const tab = tabOf(new URL(c.req.header('hx-current-url') ?? c.req.url).searchParams.get('tab'));
        return c.html(await listPartials(tab));
      })
      .post('/:id/test', integration, async (c) => {
        const row = c.var.integration;
        const result =
          row.target_kind === 's3'
            ? await testS3Connection(row, secrets, deps.config.outbound)
            : await testWebhookConnection(row, secrets, deps.config);
        return c.html(<ConnectionTestResult result={result} />);
      })
      .post('/:id/signing-secret', integration, async (c) => {
        const row = c.var.integration;
        deps.log.info('signing secret revealed', { integration: row.id, actor: actor(c) });
        return c.html(<SigningSecretValue secret={signingSecretOf(row, secrets)} />);
      })
      .post('/:id/signing-secret/rotate', async (c) => {
        const secret = await rotateSigningSecret(db, secrets, c.req.param('id'));
        if (!secret) return c.body(null, 404);
        return c.html(<SigningSecretValue secret={secret} rotated />);
      })
  );
}
