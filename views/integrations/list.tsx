import type { IntegrationRow } from '../../src/db/database.ts';
import type { IntegrationStats } from '../../src/db/read-models.ts';
import { BreakableId, formatTime, Time } from '../components/format.tsx';
import { Breadcrumbs, Notice, Table } from '../components/page.tsx';
import { healthOf, HealthView } from './health.tsx';

/*
 * Tools › Event Stream: the integration list, and its fragments for htmx
 * (a row after its switch was pressed, the tab counts, the empty state).
 */

export type Tab = 'all' | 'active' | 'paused';

export interface ListedIntegration {
  row: IntegrationRow;
  target: string;
  /** The whole target address (a webhook's callback URL), shown truncated with all of it in a tooltip. */
  targetFull: string;
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
  /** What relative times are counted from. */
  now: Date;
}

const TABS: { tab: Tab; label: string; count: (counts: Counts) => number }[] = [
  { tab: 'all', label: 'All', count: (counts) => counts.all },
  { tab: 'active', label: 'Active', count: (counts) => counts.running },
  { tab: 'paused', label: 'Paused', count: (counts) => counts.stopped },
];

export function EventStreamPage({ tab, counts, integrations, csrfToken, notice, now }: EventStreamPageProps) {
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
      <div id="integration-list">
        {integrations.length === 0 ? (
          <EmptyList tab={tab} />
        ) : (
          <Table class="integrations">
            <thead>
              <tr>
                <th scope="col">Integration</th>
                <th scope="col">Target</th>
                <th scope="col">Events</th>
                <th scope="col">Health</th>
                <th scope="col" class="numeric">
                  Backlog
                </th>
                <th scope="col">Last delivery</th>
                <th scope="col">Running</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody id="integration-rows">
              {integrations.map((integration) => (
                <IntegrationRowView integration={integration} tab={tab} csrfToken={csrfToken} now={now} />
              ))}
            </tbody>
          </Table>
        )}
      </div>
    </>
  );
}

/** What the list shows when its tab has no integration, also after the last row left it in place. */
export function EmptyList({ tab }: { tab: Tab }) {
  return (
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
  now,
}: {
  integration: ListedIntegration;
  tab: Tab;
  csrfToken: string;
  now: Date;
}) {
  const { row, stats, target, targetFull, layout } = integration;
  const base = `/tools/event-stream/${encodeURIComponent(row.id)}`;
  const active = row.status === 'running';
  const health = healthOf(row, stats);
  return (
    <tr id={`integration-${row.id}`} data-status={row.status} data-health={health.state}>
      <th scope="row" class="integration-id">
        <a class="mono" href={`${base}/events`}>
          <BreakableId id={row.id} />
        </a>
        <div class="hint">
          {row.integration_type === 'temporary' ? (
            <span title={`Ends ${formatTime(row.ends_at)}`}>Temporary</span>
          ) : (
            'Permanent'
          )}
        </div>
      </th>
      <td data-label="Target" class="target-cell">
        <span class="target-kind">{row.target_kind === 'webhook' ? 'Webhook' : 'S3'}</span>{' '}
        <span class="mono truncate" title={targetFull}>
          {row.target_kind === 'webhook' ? targetFull || target : target}
        </span>
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
      <td data-label="Events">{eventsSummary(row)}</td>
      <td data-label="Health" class="health-cell">
        <HealthView health={health} now={now} />
      </td>
      <td data-label="Backlog" class="numeric">
        {stats.pending.toLocaleString('en')}
      </td>
      <td data-label="Last delivery">
        <Time value={stats.last_delivery_at} now={now} />
      </td>
      <td data-label="Running">
        <form
          method="post"
          action={`${base}/status`}
          hx-post={`${base}/status`}
          hx-target="closest tr"
          hx-swap="outerHTML"
          hx-sync="this:drop"
          class="toggle-form"
          data-busy
        >
          <input type="hidden" name="_csrf" value={csrfToken} />
          <input type="hidden" name="tab" value={tab} />
          {/* The state this press asks for: sent twice, it changes nothing more. */}
          <input type="hidden" name="status" value={active ? 'stopped' : 'running'} />
          <button
            type="submit"
            id={`switch-${row.id}`}
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
        <div class="row-actions-inner">
          <details class="menu">
            <summary aria-label={`Actions for ${row.id}`}>Actions</summary>
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
            aria-label={`Delete ${row.id}`}
            hx-post={`${base}/delete`}
            hx-confirm={`Delete the integration "${row.id}"? Its pending deliveries, history and logs are deleted with it.`}
            hx-target="closest tr"
            hx-swap="delete"
            hx-sync="this:drop"
          >
            Delete
          </a>
        </div>
      </td>
    </tr>
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
