import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import { ErrorPage } from '../../views/error.tsx';
import {
  BulkRetryPage,
  DeliveryDetailPage,
  EventsPage,
  EventsResults,
  NewEventsBar,
} from '../../views/integrations/events.tsx';
import { LogsPage } from '../../views/integrations/logs.tsx';
import { OverviewPage } from '../../views/integrations/overview.tsx';
import { healthOf } from '../../views/integrations/health.tsx';
import { RejectedEventsPage } from '../../views/integrations/rejected.tsx';
import { requireCsrfToken, requirePermission } from '../auth/session.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import {
  countRetryable,
  envelopeOf,
  findDeliveryDetail,
  lastResponses,
  listDeliveries,
  objectKeysOf,
  positionOf,
  retryMatching,
  UUID_SHAPE,
} from './published-events.repo.ts';
import { deliveryQuerySchema, filtersOf } from './published-events.schema.ts';
import { rejectedEventsCsv } from './rejected-csv.ts';
import { resendDelivery } from './resend.ts';
import { wakeDeliveryLoops } from '../db/wake.ts';
import { listEventTypes } from '../events/event-types.repo.ts';
import { linesBehindRetries } from '../events/entity-lines.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { decodeKeyset, encodeKeyset } from '../lib/keyset-cursor.ts';
import { integrationStats, listIntegrations } from '../integrations/integrations.repo.ts';
import { listIntegrationLogs, LOG_ID_SHAPE } from './logs.repo.ts';
import { minuteSeries } from './overview.repo.ts';
import { integrationSummary, type PageEnv, withIntegration } from '../integrations/pages.tsx';
import { jsonDepth } from '../lib/json-depth.ts';

/*
 * The audit pages of Tools › Event Stream: Overview, View Events (with a
 * delivery's detail, Resend and bulk retry), View Rejected Events (and its
 * CSV), View Logs. Mounted inside integrationPages, behind its sign-in,
 * permission and CSRF checks.
 */

const RESEND_NOTICES: Record<string, string> = {
  'resent-success': 'Resent: the receiver accepted it.',
  'resent-rejected': 'Resent: the receiver refused it (see the attempt below).',
  'resent-retry': 'Resent, but the receiver did not accept it (see the attempt below).',
  'resent-interrupt': 'Resent, but the receiver refused the credentials (see the attempt below).',
  'resend-s3': 'S3 deliveries go out in batches: one event cannot be resent to the bucket.',
  'resend-pruned': 'The event was pruned by retention; there is nothing to resend.',
};

/** A list page's link: its current filters (those among `keys`) plus `extra`, e.g. a cursor. */
function listHref(
  path: string,
  query: Record<string, string>,
  keys: string[],
  extra: Record<string, string> = {},
): string {
  const params = new URLSearchParams();
  for (const key of keys) if (query[key]) params.set(key, query[key]);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Larger or deeper envelopes are not pretty-printed on the page (indentation grows with the square of the depth). */
const PRINTABLE_BYTES = 64 * 1024;
const PRINTABLE_DEPTH = 16;

/** Pretty-printed when that stays small; else the start of the compact text, with what it is an excerpt of. */
function shownEnvelope(compact: string, downloadHref: string) {
  const depth = jsonDepth(compact);
  if (compact.length <= PRINTABLE_BYTES && depth <= PRINTABLE_DEPTH) {
    return { text: JSON.stringify(JSON.parse(compact), null, 2), downloadHref };
  }
  return {
    text: `${compact.slice(0, PRINTABLE_BYTES)}…`,
    excerptOf: { bytes: Buffer.byteLength(compact), depth },
    downloadHref,
  };
}

export function auditPages(deps: { db: Kysely<Database>; secrets: SecretBox; config: Config }) {
  const { db } = deps;
  const session = (c: Context<PageEnv>) => c.get('session')!;

  const integration = withIntegration(db);

  return new Hono<PageEnv>()
    .use(requirePermission('view_tools'), requireCsrfToken())
    .get('/overview', async (c) => {
      const now = new Date();
      const firstMinute = Math.floor(now.getTime() / 60_000) * 60_000 - 59 * 60_000;
      const rows = await listIntegrations(db);
      const [stats, series] = await Promise.all([integrationStats(db, rows), minuteSeries(db, new Date(firstMinute))]);
      const cards = rows.map((row) => {
        const minutes = Array.from({ length: 60 }, () => ({ delivered: 0, failed: 0, rejected: 0 }));
        for (const point of series.filter((entry) => entry.integration_id === row.id)) {
          const index = Math.floor((point.minute.getTime() - firstMinute) / 60_000);
          if (index >= 0 && index < 60)
            minutes[index] = { delivered: point.delivered, failed: point.failed, rejected: point.rejected };
        }
        const figures = stats.get(row.id)!;
        return {
          id: row.id,
          status: row.status,
          minutes,
          backlog: figures.pending,
          oldestPendingAt: figures.oldest_pending_at,
          health: healthOf(row, figures),
          now,
        };
      });
      return c.render(<OverviewPage cards={cards} />, { title: 'Overview', section: 'event-stream' });
    })
    .get('/:id/events', integration, async (c) => {
      const row = c.var.integration;
      const path = `/tools/event-stream/${encodeURIComponent(row.id)}/events`;
      const raw = c.req.query();
      const parsed = deliveryQuerySchema.safeParse({ ...raw, limit: '50', integration_id: undefined });
      const query = parsed.success ? parsed.data : deliveryQuerySchema.parse({ limit: '50' });
      const error = parsed.success
        ? undefined
        : `Filters ignored: ${parsed.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`).join('; ')}.`;
      const href = (extra: Record<string, string> = {}, target = path) =>
        listHref(target, raw, ['domain_entity_id', 'status', 'event_name', 'from', 'to'], extra);
      const newerThan = raw.newer_than;
      if (c.req.header('hx-request') && newerThan !== undefined) {
        // The new-events bar asks how many arrived since the first page was read (up to 100 are counted).
        const since = await listDeliveries(db, {
          filters: { ...filtersOf(query), integrationId: row.id },
          limit: 100,
          before: decodeKeyset(newerThan, UUID_SHAPE),
        });
        const more = newerThan ? since.hasNewer : since.hasOlder;
        return c.html(
          <NewEventsBar
            href={href({ newer_than: newerThan })}
            showHref={href()}
            count={more ? '100+' : since.items.length}
          />,
        );
      }
      const after = decodeKeyset(query.cursor, UUID_SHAPE);
      const before = decodeKeyset(query.before, UUID_SHAPE);
      const result = await listDeliveries(db, {
        filters: { ...filtersOf(query), integrationId: row.id },
        limit: 50,
        after,
        before,
      });

      const first = result.items[0];
      const last = result.items.at(-1);
      const results = {
        integrationId: row.id,
        items: result.items,
        objectKeys:
          row.target_kind === 's3'
            ? await objectKeysOf(
                db,
                row.id,
                result.items.map((item) => item.event_id),
              )
            : undefined,
        selfHref: href(),
        firstPage: !after && !before,
        newEventsHref: href({ newer_than: first ? encodeKeyset(positionOf(first)) : '' }),
        olderHref: result.hasOlder && last ? href({ cursor: encodeKeyset(positionOf(last)) }) : undefined,
        newerHref: result.hasNewer && first ? href({ before: encodeKeyset(positionOf(first)) }) : undefined,
      };
      if (c.req.header('hx-request') && (c.req.header('hx-target') ?? '').endsWith('#events-results'))
        return c.html(<EventsResults {...results} />);

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
      const retryHref =
        query.status === 'failure' || query.status === 'rejected' ? href({}, `${path}/retry`) : undefined;
      const waiting = row.ordering === 'by_domain_entity' ? await linesBehindRetries(db, row.id) : undefined;
      return c.render(
        <EventsPage
          {...results}
          ordered={row.ordering === 'by_domain_entity'}
          waiting={waiting}
          values={values}
          eventNames={eventNames}
          presets={presets}
          error={error}
          retryHref={retryHref}
          notice={retried && /^\d{1,9}$/.test(retried) ? `${Number(retried)} deliveries scheduled again.` : undefined}
          summary={await integrationSummary(db, row, session(c).csrfToken)}
        />,
        {
          title: `Events: ${row.id}`,
          section: 'event-stream',
        },
      );
    })
    .get('/:id/events/retry', integration, async (c) => {
      const row = c.var.integration;
      const parsed = deliveryQuerySchema.safeParse({ ...c.req.query(), integration_id: undefined });
      const filters = { ...(parsed.success ? filtersOf(parsed.data) : {}), integrationId: row.id };
      const count = await countRetryable(db, filters);
      const hidden = Object.entries(c.req.query()).filter(
        ([key, value]) => ['domain_entity_id', 'status', 'event_name', 'from', 'to'].includes(key) && value,
      );
      return c.render(
        <BulkRetryPage integrationId={row.id} count={count} hidden={hidden} csrfToken={session(c).csrfToken} />,
        { title: 'Retry deliveries', section: 'event-stream' },
      );
    })
    .post('/:id/events/retry', integration, async (c) => {
      const row = c.var.integration;
      const form = await c.req.parseBody();
      const parsed = deliveryQuerySchema.safeParse({ ...form, _csrf: undefined, integration_id: undefined });
      const filters = { ...(parsed.success ? filtersOf(parsed.data) : {}), integrationId: row.id };
      const count = await retryMatching(db, filters, new Date());
      if (count > 0) await wakeDeliveryLoops(db, [row.id]);
      return c.redirect(
        `/tools/event-stream/${encodeURIComponent(row.id)}/events?status=pending&retried=${count}`,
        303,
      );
    })
    .post('/:id/events/:eventId/resend', async (c) => {
      const outcome = await resendDelivery(deps, c.req.param('id'), c.req.param('eventId'));
      if (outcome.kind === 'not-found') return c.notFound();
      const notice = outcome.kind === 'sent' ? `resent-${outcome.result.attemptClass}` : `resend-${outcome.code}`;
      return c.redirect(
        `/tools/event-stream/${encodeURIComponent(c.req.param('id'))}/events/${c.req.param('eventId')}?notice=${notice}`,
        303,
      );
    })
    .get('/:id/events/:eventId', integration, async (c) => {
      const row = c.var.integration;
      const detail = await findDeliveryDetail(db, row.id, c.req.param('eventId'));
      if (!detail) {
        c.status(404);
        return c.render(
          ErrorPage({
            status: 404,
            title: 'Event not found',
            detail: `Integration "${row.id}" has no delivery of event ${c.req.param('eventId')}.`,
          }),
          {
            title: 'Not found',
            section: 'event-stream',
          },
        );
      }
      const { delivery, attempts, waitsFor, inBatch } = detail;
      const compact = envelopeOf(delivery);
      const envelope = compact === null ? null : shownEnvelope(compact, `${c.req.path}/envelope.json`);
      return c.render(
        <DeliveryDetailPage
          integrationId={row.id}
          eventId={delivery.event_id}
          eventName={delivery.event_name}
          status={delivery.status}
          domainEntity={`${delivery.domain_entity_type ?? '—'} ${delivery.domain_entity_id ?? ''}`.trim()}
          publishedAt={delivery.published_at}
          nextAttemptAt={delivery.next_attempt_at}
          waitsFor={waitsFor}
          objectKey={delivery.object_key}
          envelope={envelope}
          attempts={attempts}
          inBatch={inBatch !== undefined}
          csrfToken={session(c).csrfToken}
          notice={RESEND_NOTICES[c.req.query('notice') ?? '']}
        />,
        { title: `Event ${delivery.event_id}`, section: 'event-stream' },
      );
    })
    .get('/:id/events/:eventId/envelope.json', integration, async (c) => {
      const detail = await findDeliveryDetail(db, c.var.integration.id, c.req.param('eventId'));
      const compact = detail ? envelopeOf(detail.delivery) : null;
      if (compact === null) return c.notFound();
      return c.body(compact, 200, {
        'content-type': 'application/json',
        'content-disposition': `attachment; filename="${detail!.delivery.event_id}.json"`,
      });
    })
    .get('/:id/rejected-events.csv', integration, async (c) => {
      const row = c.var.integration;
      const query = deliveryQuerySchema.safeParse(c.req.query());
      const filters = query.success ? filtersOf(query.data) : {};
      c.header('content-type', 'text/csv; charset=utf-8');
      c.header('content-disposition', `attachment; filename="${row.id}-rejected-events.csv"`);
      return c.body(rejectedEventsCsv(db, { ...filters, integrationId: row.id }));
    })
    .get('/:id/rejected-events', integration, async (c) => {
      const row = c.var.integration;
      const path = `/tools/event-stream/${encodeURIComponent(row.id)}/rejected-events`;
      const raw = c.req.query();
      const parsed = deliveryQuerySchema.safeParse({ ...raw, status: undefined, integration_id: undefined });
      const query = parsed.success ? parsed.data : deliveryQuerySchema.parse({});
      const after = decodeKeyset(query.cursor, UUID_SHAPE);
      const before = decodeKeyset(query.before, UUID_SHAPE);
      const result = await listDeliveries(db, {
        filters: { ...filtersOf(query), integrationId: row.id, status: 'rejected' },
        limit: 50,
        after,
        before,
      });
      const responses = await lastResponses(
        db,
        row.id,
        result.items.map((item) => item.event_id),
      );
      const href = (target: string, extra: Record<string, string> = {}) =>
        listHref(target, raw, ['domain_entity_id', 'event_name', 'from', 'to'], extra);
      const first = result.items[0];
      const last = result.items.at(-1);
      const values = {
        domain_entity_id: raw.domain_entity_id ?? '',
        status: '',
        event_name: raw.event_name ?? '',
        from: raw.from ?? '',
        to: raw.to ?? '',
      };
      return c.render(
        <RejectedEventsPage
          integrationId={row.id}
          items={result.items}
          responses={responses}
          values={values}
          eventNames={(await listEventTypes(db)).map((type) => type.name)}
          csvHref={href(`${path}.csv`)}
          retryHref={href(`/tools/event-stream/${encodeURIComponent(row.id)}/events/retry`, { status: 'rejected' })}
          olderHref={result.hasOlder && last ? href(path, { cursor: encodeKeyset(positionOf(last)) }) : undefined}
          newerHref={result.hasNewer && first ? href(path, { before: encodeKeyset(positionOf(first)) }) : undefined}
          summary={await integrationSummary(db, row, session(c).csrfToken)}
        />,
        { title: `Rejected events: ${row.id}`, section: 'event-stream' },
      );
    })
    .get('/:id/logs', integration, async (c) => {
      const row = c.var.integration;
      const { entries, next } = await listIntegrationLogs(db, {
        integrationId: row.id,
        limit: 50,
        after: decodeKeyset(c.req.query('cursor'), LOG_ID_SHAPE),
      });
      const nextHref = next
        ? `/tools/event-stream/${encodeURIComponent(row.id)}/logs?cursor=${encodeKeyset(next)}`
        : undefined;
      const summary = await integrationSummary(db, row, session(c).csrfToken);
      return c.render(<LogsPage entries={entries} nextHref={nextHref} summary={summary} />, {
        title: `Logs: ${row.id}`,
        section: 'event-stream',
      });
    });
}
