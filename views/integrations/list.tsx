import type { IntegrationRow } from '../../src/db/database.ts';
import type { IntegrationAlert, IntegrationStats } from '../../src/db/read-models.ts';
import { formatTime } from '../components/format.tsx';
import { Breadcrumbs, Notice, Table } from '../components/page.tsx';

/*
 * Tools › Event Stream: the integration list, and its fragments for htmx
 * (a row after a toggle, the tab counts).
 */

export type Tab = 'all' | 'active' | 'paused';

export interface ListedIntegration {
  row: IntegrationRow;
  target: string;
  /** An S3 target's object layout when it is not NewStore's plain NDJSON, e.g. "Parquet · zstd · partitioned". */
  layout?: string;
  stats: IntegrationStats;
}

export interface Counts {
  all: number;
  running: number;
  stopped: number;
}

export interface EventStreamPageProps {
  tab: Tab;
  counts: Counts;
  integrations: ListedIntegration[];
  csrfToken: string;
  notice?: string;
}

const TABS: { tab: Tab; label: string; count: (counts: Counts) => number }[] = [
  { tab: 'all', label: 'All', count: (counts) => counts.all },
  { tab: 'active', label: 'Active', count: (counts) => counts.running },
  { tab: 'paused', label: 'Paused', count: (counts) => counts.stopped },
];

export function EventStreamPage({ tab, counts, integrations, csrfToken, notice }: EventStreamPageProps) {
  return (
    <>
      <Breadcrumbs />
      <div class="page-header">
        <div>
          <h1>Event Stream</h1>
          <p class="lead">
            Integrations receive the platform's events: an HTTP webhook in near real time, or an S3 bucket in batches.
          </p>
        </div>
        <div class="actions-row">
          <a class="button" href="/tools/event-stream/overview">
            Overview
          </a>
          <a class="button" href="/tools/event-stream/notifications">
            Notifications
          </a>
          <a class="button button-primary" href="/tools/event-stream/new">
            New Integration
          </a>
        </div>
      </div>
      <Notice message={notice} />
      <Tabs tab={tab} counts={counts} />
      {integrations.length === 0 ? (
        <section class="empty-state" aria-labelledby="empty-title">
          <h2 id="empty-title">{tab === 'all' ? 'No integrations yet' : `No ${tab} integrations`}</h2>
          <p>
            {tab === 'all' ? (
              <a href="/tools/event-stream/new">Create the first integration</a>
            ) : (
              <a href="/tools/event-stream">See all integrations</a>
            )}
          </p>
        </section>
      ) : (
        <Table class="integrations">
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">Type</th>
              <th scope="col">Target</th>
              <th scope="col">Events</th>
              <th scope="col" class="numeric">
                Backlog
              </th>
              <th scope="col">Last delivery</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody id="integration-rows">
            {integrations.map((integration) => (
              <IntegrationRowView integration={integration} tab={tab} csrfToken={csrfToken} />
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}

/** The tab bar with counts; its id lets a toggle or delete refresh it in place. */
export function Tabs({ tab, counts }: { tab: Tab; counts: Counts }) {
  return (
    <nav class="tabs" id="integration-tabs" aria-label="Filter integrations">
      {TABS.map((entry) => (
        <a
          href={entry.tab === 'all' ? '/tools/event-stream' : `/tools/event-stream?tab=${entry.tab}`}
          aria-current={entry.tab === tab ? 'page' : undefined}
          data-tab={entry.tab}
        >
          {entry.label} <span class="count">{entry.count(counts)}</span>
        </a>
      ))}
    </nav>
  );
}

/** What the Events column says: all events, or the entities and single types chosen. */
export function eventsSummary(row: IntegrationRow): string {
  const entities = row.filter_entities;
  const events = row.filter_events;
  if (entities.length === 0 && events.length === 0) return 'All events';
  const parts = [];
  if (entities.length > 0) parts.push(entities.map((entity) => `${entity} (all)`).join(', '));
  if (events.length > 0) parts.push(events.length === 1 ? events[0]! : `${events.length} single events`);
  return parts.join(' + ');
}

export function IntegrationRowView({
  integration,
  tab,
  csrfToken,
}: {
  integration: ListedIntegration;
  tab: Tab;
  csrfToken: string;
}) {
  const { row, stats, target, layout } = integration;
  const base = `/tools/event-stream/${encodeURIComponent(row.id)}`;
  const active = row.status === 'running';
  return (
    <tr id={`integration-${row.id}`} data-status={row.status}>
      <th scope="row" class="mono">
        {row.id}
      </th>
      <td>
        {row.integration_type === 'temporary' ? (
          <span title={`Ends ${formatTime(row.ends_at)}`}>Temporary</span>
        ) : (
          'Permanent'
        )}
      </td>
      <td>
        <span class="target-kind">{row.target_kind === 'webhook' ? 'Webhook' : 'S3'}</span>{' '}
        <span class="mono">{target}</span>
        {layout ? (
          <>
            {' '}
            <span class="badge badge-muted" title={row.s3_key_template ?? 'NewStore’s object key'}>
              {layout}
            </span>
          </>
        ) : null}
        {row.ordering === 'by_domain_entity' ? (
          <>
            {' '}
            <span class="badge badge-muted" title="Delivered in order per domain entity">
              in order
            </span>
          </>
        ) : null}
      </td>
      <td>{eventsSummary(row)}</td>
      <td class="numeric">
        {stats.pending.toLocaleString('en')}
        {stats.alert ? (
          <>
            {' '}
            <AlertBadge alert={stats.alert} />
          </>
        ) : null}
      </td>
      <td>
        {stats.last_delivery_at ? (
          <time datetime={stats.last_delivery_at.toISOString()}>{formatTime(stats.last_delivery_at)}</time>
        ) : (
          '—'
        )}
      </td>
      <td>
        <form
          method="post"
          action={`${base}/toggle`}
          hx-post={`${base}/toggle`}
          hx-target="closest tr"
          hx-swap="outerHTML"
          class="toggle-form"
        >
          <input type="hidden" name="_csrf" value={csrfToken} />
          <input type="hidden" name="tab" value={tab} />
          <button
            type="submit"
            class={`toggle ${active ? 'toggle-on' : 'toggle-off'}`}
            role="switch"
            aria-checked={active ? 'true' : 'false'}
            aria-label={`${row.id}: ${active ? 'Active, press to pause' : 'Paused, press to start'}`}
          >
            <span class="toggle-track" aria-hidden="true"></span>
            <span class="toggle-label">{active ? 'Active' : 'Paused'}</span>
          </button>
        </form>
      </td>
      <td class="row-actions">
        <details class="menu">
          <summary>Actions</summary>
          <ul>
            <li>
              <a href={`${base}/events`}>View Events</a>
            </li>
            <li>
              <a href={`${base}/rejected-events`}>View Rejected Events</a>
            </li>
            <li>
              <a href={`${base}/logs`}>View Logs</a>
            </li>
            <li>
              <a href={`${base}/edit`}>Edit Integration Details</a>
            </li>
          </ul>
        </details>
        <a
          href={`${base}/delete`}
          class="button button-danger-quiet"
          hx-post={`${base}/delete`}
          hx-confirm={`Delete the integration "${row.id}"? Its pending deliveries, history and logs are deleted with it.`}
          hx-target="closest tr"
          hx-swap="delete"
        >
          Delete
        </a>
      </td>
    </tr>
  );
}

/**
 * The state the notifications speak of: a backlog reported delayed, or a
 * stop by the system (with its reason on hover, and in the logs).
 */
export function AlertBadge({ alert }: { alert: IntegrationAlert }) {
  if (alert.kind === 'delayed')
    return (
      <span
        class="badge badge-warning alert-badge"
        data-alert="delayed"
        title={`Delayed since ${formatTime(alert.since)}`}
      >
        Delayed
      </span>
    );
  if (alert.reason === 'completed')
    return (
      <span class="badge badge-muted alert-badge" data-alert="completed" title="A temporary integration that finished">
        Completed
      </span>
    );
  return (
    <span class="badge badge-warning alert-badge" data-alert="stopped" title={alert.reason}>
      Stopped: {alert.reason}
    </span>
  );
}

/** Confirmation page for deleting without JavaScript. */
export function DeleteConfirmPage({ id, csrfToken }: { id: string; csrfToken: string }) {
  return (
    <section class="card narrow" aria-labelledby="delete-title">
      <h1 id="delete-title">Delete “{id}”?</h1>
      <p>Its pending deliveries, delivery history and logs are deleted with it. This cannot be undone.</p>
      <form method="post" action={`/tools/event-stream/${encodeURIComponent(id)}/delete`} class="actions-row">
        <input type="hidden" name="_csrf" value={csrfToken} />
        <button type="submit" class="button button-danger">
          Delete integration
        </button>
        <a class="button" href="/tools/event-stream">
          Cancel
        </a>
      </form>
    </section>
  );
}
