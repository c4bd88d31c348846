import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import { ErrorPage } from '../../views/error.tsx';
import { ConnectionTestResult, IntegrationFormPage, SigningSecretValue, type IntegrationFormValues } from '../../views/integrations/form.tsx';
import { DeleteConfirmPage, EventStreamPage, IntegrationRowView, Tabs, type Tab } from '../../views/integrations/list.tsx';
import { BulkRetryPage, DeliveryDetailPage, EventsPage, EventsResults } from '../../views/integrations/events.tsx';
import { LogsPage } from '../../views/integrations/logs.tsx';
import { RejectedEventsPage } from '../../views/integrations/rejected.tsx';
import { OverviewPage } from '../../views/integrations/overview.tsx';
import type { FieldErrors } from '../../views/components/field.tsx';
import { requireCsrfToken, requirePermission, type SessionVariables } from '../auth/session.ts';
import type { Config } from '../config.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { countRetryable, findDeliveryDetail, lastResponses, listDeliveries, positionOf, retryMatching, UUID_SHAPE } from '../delivery/published-events.repo.ts';
import { wakeDeliveryLoops } from '../delivery/wake.ts';
import { rejectedEventsCsv } from '../delivery/rejected-csv.ts';
import { deliveryQuerySchema, filtersOf } from '../delivery/published-events.schema.ts';
import { resendDelivery } from '../delivery/resend.ts';
import { testS3Connection } from '../delivery/s3-upload.ts';
import { testWebhookConnection } from '../delivery/test-connection.ts';
import { envelopeJson } from '../events/envelope.ts';
import { listEventTypes } from '../events/event-types.repo.ts';
import { maskSecret, type SecretBox } from '../lib/crypto.ts';
import { decodeKeyset, encodeKeyset } from '../lib/keyset-cursor.ts';
import { catalogNames } from './integrations.api.ts';
import { createBodyFromForm, formErrors, formValues, updateBodyFromForm, valuesFromRow } from './integrations.form.ts';
import { countIntegrationsByStatus, findIntegration, integrationStats, listIntegrations } from './integrations.repo.ts';
import { targetLabel } from './integrations.resource.ts';
import { listIntegrationLogs, LOG_ID_SHAPE } from './logs.repo.ts';
import { minuteSeries } from './overview.repo.ts';
import { createIntegrationSchema, updateIntegrationSchema } from './integrations.schema.ts';
import {
  createIntegration,
  deleteIntegration,
  DuplicateIntegrationError,
  fromCreateBody,
  rotateSigningSecret,
  setIntegrationStatus,
  signingSecretOf,
  updateIntegration,
} from './integrations.service.ts';

type Env = { Variables: SessionVariables };

const TAB_STATUS = { all: undefined, active: 'running', paused: 'stopped' } as const;

const RESEND_NOTICES: Record<string, string> = {
  'resent-success': 'Resent: the receiver accepted it.',
  'resent-rejected': 'Resent: the receiver refused it (see the attempt below).',
  'resent-retry': 'Resent, but the receiver did not accept it (see the attempt below).',
  'resent-interrupt': 'Resent, but the receiver refused the credentials (see the attempt below).',
  'resend-unsupported': 'This delivery cannot be resent yet.',
};

function tabOf(value: unknown): Tab {
  return value === 'active' || value === 'paused' ? value : 'all';
}

/** Tools › Event Stream pages: the list, New/Edit, toggle, delete, signing secret. */
export function integrationPages(deps: { db: Kysely<Database>; secrets: SecretBox; config: Config }) {
  const { db, secrets } = deps;
  const session = (c: Context<Env>) => c.get('session')!;
  const actor = (c: Context<Env>) => session(c).user.email;

  async function listed(rows: IntegrationRow[]) {
    const stats = await integrationStats(db, rows);
    return rows.map((row) => ({ row, target: targetLabel(row), stats: stats.get(row.id)! }));
  }

  async function renderForm(c: Context<Env>, mode: 'new' | 'edit', values: IntegrationFormValues, errors: FieldErrors, row?: IntegrationRow) {
    if (Object.keys(errors).length > 0) c.status(422);
    const masks = row
      ? {
          api_key: row.api_key_enc ? maskSecret(secrets.decrypt(row.api_key_enc)) : null,
          aws_secret_access_key: row.s3_secret_access_key_enc ? maskSecret(secrets.decrypt(row.s3_secret_access_key_enc)) : null,
        }
      : undefined;
    return c.render(
      <IntegrationFormPage mode={mode} values={values} errors={errors} catalog={await listEventTypes(db)} csrfToken={session(c).csrfToken} masks={masks} />,
      { title: mode === 'new' ? 'New Integration' : `Edit ${values.id}`, section: 'event-stream' },
    );
  }

  async function existing(c: Context<Env>): Promise<IntegrationRow | Response> {
    const row = await findIntegration(db, c.req.param('id')!);
    if (row) return row;
    c.status(404);
    return c.render(ErrorPage({ status: 404, title: 'Integration not found', detail: `There is no integration "${c.req.param('id')}".` }), {
      title: 'Not found',
      section: 'event-stream',
    });
  }

  return new Hono<Env>()
    .use(requirePermission('view_tools'), requireCsrfToken())
    .get('/', async (c) => {
      const tab = tabOf(c.req.query('tab'));
      const [counts, rows] = await Promise.all([countIntegrationsByStatus(db), listIntegrations(db, TAB_STATUS[tab])]);
      const created = c.req.query('created');
      const notice = created ? `Integration “${created}” created and started.` : c.req.query('saved') ? `Integration “${c.req.query('saved')}” saved.` : c.req.query('deleted') ? `Integration “${c.req.query('deleted')}” deleted.` : undefined;
      return c.render(<EventStreamPage tab={tab} counts={counts} integrations={await listed(rows)} csrfToken={session(c).csrfToken} notice={notice} />, {
        title: 'Event Stream',
        section: 'event-stream',
      });
    })
    .get('/new', (c) => renderForm(c, 'new', formValues({}), {}))
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
    .get('/overview', async (c) => {
      const now = new Date();
      const firstMinute = Math.floor(now.getTime() / 60_000) * 60_000 - 59 * 60_000;
      const rows = await listIntegrations(db);
      const [stats, series] = await Promise.all([integrationStats(db, rows), minuteSeries(db, new Date(firstMinute))]);
      const cards = rows.map((row) => {
        const minutes = Array.from({ length: 60 }, () => ({ delivered: 0, failed: 0, rejected: 0 }));
        for (const point of series.filter((entry) => entry.integration_id === row.id)) {
          const index = Math.floor((point.minute.getTime() - firstMinute) / 60_000);
          if (index >= 0 && index < 60) minutes[index] = { delivered: point.delivered, failed: point.failed, rejected: point.rejected };
        }
        const figures = stats.get(row.id)!;
        return { id: row.id, status: row.status, minutes, backlog: figures.pending, oldestPendingAt: figures.oldest_pending_at, now };
      });
      return c.render(<OverviewPage cards={cards} />, { title: 'Overview', section: 'event-stream' });
    })
    .get('/:id/edit', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      return renderForm(c, 'edit', valuesFromRow(row), {}, row);
    })
    .post('/:id/edit', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const form = await c.req.parseBody({ all: true });
      const stored = valuesFromRow(row);
      const values = formValues(form, { id: row.id, integration_type: row.integration_type, starts_at: stored.starts_at, ends_at: stored.ends_at, target: row.target_kind });
      const parsed = updateIntegrationSchema(await catalogNames(db)).safeParse(updateBodyFromForm(form, values));
      if (!parsed.success) return renderForm(c, 'edit', values, formErrors(parsed.error), row);
      await updateIntegration(db, secrets, row.id, parsed.data);
      return c.redirect(`/tools/event-stream?saved=${encodeURIComponent(row.id)}`, 303);
    })
    .post('/:id/toggle', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const form = await c.req.parseBody();
      const tab = tabOf(form.tab);
      const starting = row.status === 'stopped';
      const updated = (await setIntegrationStatus(db, row.id, starting ? 'running' : 'stopped', starting ? 'Started in the UI' : 'Paused in the UI', actor(c)))!;
      if (!c.req.header('hx-request')) return c.redirect(tab === 'all' ? '/tools/event-stream' : `/tools/event-stream?tab=${tab}`, 303);
      const counts = await countIntegrationsByStatus(db);
      const stillListed = tab === 'all' || TAB_STATUS[tab] === updated.status;
      // A row that no longer belongs to this tab leaves it; the counts change in place either way.
      if (!stillListed) c.header('hx-reswap', 'delete');
      const [listedRow] = await listed([updated]);
      return c.html(
        <>
          {stillListed ? <IntegrationRowView integration={listedRow!} tab={tab} csrfToken={session(c).csrfToken} /> : null}
          <hx-partial hx-target="#integration-tabs" hx-swap="outerHTML">
            <Tabs tab={tab} counts={counts} />
          </hx-partial>
        </>,
      );
    })
    .get('/:id/delete', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      return c.render(<DeleteConfirmPage id={row.id} csrfToken={session(c).csrfToken} />, { title: `Delete ${row.id}`, section: 'event-stream' });
    })
    .post('/:id/delete', async (c) => {
      const id = c.req.param('id');
      await deleteIntegration(db, id);
      if (!c.req.header('hx-request')) return c.redirect(`/tools/event-stream?deleted=${encodeURIComponent(id)}`, 303);
      const counts = await countIntegrationsByStatus(db);
      const tab = tabOf(new URL(c.req.header('hx-current-url') ?? c.req.url).searchParams.get('tab'));
      return c.html(
        <hx-partial hx-target="#integration-tabs" hx-swap="outerHTML">
          <Tabs tab={tab} counts={counts} />
        </hx-partial>,
      );
    })
    .post('/:id/test', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const result = row.target_kind === 's3' ? await testS3Connection(row, secrets, deps.config.outbound) : await testWebhookConnection(row, secrets, deps.config);
      return c.html(<ConnectionTestResult result={result} />);
    })
    .post('/:id/signing-secret', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      return c.html(<SigningSecretValue secret={signingSecretOf(row, secrets)} />);
    })
    .post('/:id/signing-secret/rotate', async (c) => {
      const secret = await rotateSigningSecret(db, secrets, c.req.param('id'));
      if (!secret) return c.body(null, 404);
      return c.html(<SigningSecretValue secret={secret} rotated />);
    })
    .get('/:id/events', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const path = `/tools/event-stream/${encodeURIComponent(row.id)}/events`;
      const raw = c.req.query();
      const parsed = deliveryQuerySchema.safeParse({ ...raw, limit: '50', integration_id: undefined });
      const query = parsed.success ? parsed.data : deliveryQuerySchema.parse({ limit: '50' });
      const error = parsed.success ? undefined : `Filters ignored: ${parsed.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`).join('; ')}.`;
      const after = decodeKeyset(query.cursor, UUID_SHAPE);
      const before = decodeKeyset(query.before, UUID_SHAPE);
      const result = await listDeliveries(db, { filters: { ...filtersOf(query), integrationId: row.id }, limit: 50, after, before });

      const filterParams = new URLSearchParams();
      for (const key of ['domain_entity_id', 'status', 'event_name', 'from', 'to'] as const) if (raw[key]) filterParams.set(key, raw[key]!);
      const href = (extra: Record<string, string>) => {
        const params = new URLSearchParams(filterParams);
        for (const [key, value] of Object.entries(extra)) params.set(key, value);
        const text = params.toString();
        return text ? `${path}?${text}` : path;
      };
      const first = result.items[0];
      const last = result.items.at(-1);
      const results = {
        integrationId: row.id,
        items: result.items,
        selfHref: href({}),
        firstPage: !after && !before,
        olderHref: result.hasOlder && last ? href({ cursor: encodeKeyset(positionOf(last)) }) : undefined,
        newerHref: result.hasNewer && first ? href({ before: encodeKeyset(positionOf(first)) }) : undefined,
      };
      if (c.req.header('hx-request') && (c.req.header('hx-target') ?? '').endsWith('#events-results')) return c.html(<EventsResults {...results} />);

      const local = (ms: number) => new Date(Date.now() - ms).toISOString().slice(0, 19);
      const presets = [
        { label: 'Last hour', href: `${path}?from=${local(3_600_000)}` },
        { label: 'Last 24 hours', href: `${path}?from=${local(86_400_000)}` },
        { label: 'Last 7 days', href: `${path}?from=${local(7 * 86_400_000)}` },
      ];
      const values = {
        domain_entity_id: raw.domain_entity_id ?? '',
        status: raw.status ?? '',
        event_name: raw.event_name ?? '',
        from: raw.from ?? '',
        to: raw.to ?? '',
      };
      const eventNames = (await listEventTypes(db)).map((type) => type.name);
      const retried = c.req.query('retried');
      const retryHref = query.status === 'failure' || query.status === 'rejected' ? href({}).replace(`${path}`, `${path}/retry`) : undefined;
      return c.render(<EventsPage {...results} values={values} eventNames={eventNames} presets={presets} error={error} retryHref={retryHref} notice={retried ? `${retried} deliveries scheduled again.` : undefined} />, {
        title: `Events: ${row.id}`,
        section: 'event-stream',
      });
    })
    .get('/:id/events/retry', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const parsed = deliveryQuerySchema.safeParse({ ...c.req.query(), integration_id: undefined });
      const filters = { ...(parsed.success ? filtersOf(parsed.data) : {}), integrationId: row.id };
      const count = await countRetryable(db, filters);
      const hidden = Object.entries(c.req.query()).filter(([key, value]) => ['domain_entity_id', 'status', 'event_name', 'from', 'to'].includes(key) && value);
      return c.render(<BulkRetryPage integrationId={row.id} count={count} hidden={hidden} csrfToken={session(c).csrfToken} />, { title: 'Retry deliveries', section: 'event-stream' });
    })
    .post('/:id/events/retry', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const form = await c.req.parseBody();
      const parsed = deliveryQuerySchema.safeParse({ ...form, _csrf: undefined, integration_id: undefined });
      const filters = { ...(parsed.success ? filtersOf(parsed.data) : {}), integrationId: row.id };
      const count = await retryMatching(db, filters, new Date());
      if (count > 0) await wakeDeliveryLoops(db, [row.id]);
      return c.redirect(`/tools/event-stream/${encodeURIComponent(row.id)}/events?status=pending&retried=${count}`, 303);
    })
    .post('/:id/events/:eventId/resend', async (c) => {
      const outcome = await resendDelivery(deps, c.req.param('id'), c.req.param('eventId'));
      if (outcome.kind === 'not-found') return c.notFound();
      const notice = outcome.kind === 'sent' ? `resent-${outcome.result.attemptClass}` : 'resend-unsupported';
      return c.redirect(`/tools/event-stream/${encodeURIComponent(c.req.param('id'))}/events/${c.req.param('eventId')}?notice=${notice}`, 303);
    })
    .get('/:id/events/:eventId', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const detail = await findDeliveryDetail(db, row.id, c.req.param('eventId'));
      if (!detail) {
        c.status(404);
        return c.render(ErrorPage({ status: 404, title: 'Event not found', detail: `Integration "${row.id}" has no delivery of event ${c.req.param('eventId')}.` }), {
          title: 'Not found',
          section: 'event-stream',
        });
      }
      const { delivery, attempts } = detail;
      const envelope =
        delivery.payload !== null
          ? JSON.stringify(
              JSON.parse(envelopeJson({ id: delivery.event_id, tenant: delivery.tenant!, name: delivery.event_name, publishedAt: delivery.published_at, payloadJson: delivery.payload })),
              null,
              2,
            )
          : null;
      return c.render(
        <DeliveryDetailPage
          integrationId={row.id}
          eventId={delivery.event_id}
          eventName={delivery.event_name}
          status={delivery.status}
          domainEntity={`${delivery.domain_entity_type ?? '—'} ${delivery.domain_entity_id ?? ''}`.trim()}
          publishedAt={delivery.published_at}
          nextAttemptAt={delivery.next_attempt_at}
          objectKey={delivery.object_key}
          envelope={envelope}
          attempts={attempts}
          csrfToken={session(c).csrfToken}
          notice={RESEND_NOTICES[c.req.query('notice') ?? '']}
        />,
        { title: `Event ${delivery.event_id}`, section: 'event-stream' },
      );
    })
    .get('/:id/rejected-events.csv', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const query = deliveryQuerySchema.safeParse(c.req.query());
      const filters = query.success ? filtersOf(query.data) : {};
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', `attachment; filename="${row.id}-rejected-events.csv"`);
      return c.body(rejectedEventsCsv(db, { ...filters, integrationId: row.id }));
    })
    .get('/:id/rejected-events', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const path = `/tools/event-stream/${encodeURIComponent(row.id)}/rejected-events`;
      const raw = c.req.query();
      const parsed = deliveryQuerySchema.safeParse({ ...raw, status: undefined, integration_id: undefined });
      const query = parsed.success ? parsed.data : deliveryQuerySchema.parse({});
      const after = decodeKeyset(query.cursor, UUID_SHAPE);
      const before = decodeKeyset(query.before, UUID_SHAPE);
      const result = await listDeliveries(db, { filters: { ...filtersOf(query), integrationId: row.id, status: 'rejected' }, limit: 50, after, before });
      const responses = await lastResponses(db, row.id, result.items.map((item) => item.event_id));
      const filterParams = new URLSearchParams();
      for (const key of ['domain_entity_id', 'event_name', 'from', 'to'] as const) if (raw[key]) filterParams.set(key, raw[key]!);
      const href = (target: string, extra: Record<string, string> = {}) => {
        const params = new URLSearchParams(filterParams);
        for (const [key, value] of Object.entries(extra)) params.set(key, value);
        return params.toString() ? `${target}?${params}` : target;
      };
      const first = result.items[0];
      const last = result.items.at(-1);
      const values = { domain_entity_id: raw.domain_entity_id ?? '', status: '', event_name: raw.event_name ?? '', from: raw.from ?? '', to: raw.to ?? '' };
      return c.render(
        <RejectedEventsPage
          integrationId={row.id}
          items={result.items}
          responses={responses}
          values={values}
          eventNames={(await listEventTypes(db)).map((type) => type.name)}
          csvHref={href(`${path}.csv`)}
          olderHref={result.hasOlder && last ? href(path, { cursor: encodeKeyset(positionOf(last)) }) : undefined}
          newerHref={result.hasNewer && first ? href(path, { before: encodeKeyset(positionOf(first)) }) : undefined}
        />,
        { title: `Rejected events: ${row.id}`, section: 'event-stream' },
      );
    })
    .get('/:id/logs', async (c) => {
      const row = await existing(c);
      if (row instanceof Response) return row;
      const { entries, next } = await listIntegrationLogs(db, { integrationId: row.id, limit: 50, after: decodeKeyset(c.req.query('cursor'), LOG_ID_SHAPE) });
      const nextHref = next ? `/tools/event-stream/${encodeURIComponent(row.id)}/logs?cursor=${encodeKeyset(next)}` : undefined;
      return c.render(<LogsPage integrationId={row.id} entries={entries} nextHref={nextHref} />, { title: `Logs: ${row.id}`, section: 'event-stream' });
    });
}
