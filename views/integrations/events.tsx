import type { AheadInLine, DeliveryListItem } from '../../src/db/read-models.ts';
import { FilterFields, Pager, STATUS_LABELS, type EventFilterValues } from '../components/filters.tsx';
import { formatTime } from '../components/format.tsx';
import { Breadcrumbs, Notice, Table } from '../components/page.tsx';
import { IntegrationHeader, type IntegrationSummary } from './home.tsx';

/*
 * View Events: one integration's deliveries with filters that live in the
 * URL, keyset paging, and a results block that refreshes itself while the
 * first page is open. Plus the detail of one delivery.
 */

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{STATUS_LABELS[status] ?? status}</span>;
}

export interface EventsResultsProps {
  integrationId: string;
  items: DeliveryListItem[];
  /** The page's own URL: refreshed in place while it is the first page. */
  selfHref: string;
  newerHref?: string;
  olderHref?: string;
  firstPage: boolean;
  /** An S3 integration's delivered events: the key of the object that holds each, by event id. */
  objectKeys?: Map<string, string>;
  /** The first page: where to ask how many events arrived since it was read. */
  newEventsHref?: string;
}

/**
 * New events collect behind this bar instead of moving the rows being read:
 * it asks every 5 s how many arrived since, and "show" reloads the results.
 */
export function NewEventsBar({ href, showHref, count }: { href: string; showHref: string; count: number | '100+' }) {
  return (
    <div
      id="new-events"
      class="new-events"
      hx-get={href}
      hx-trigger="every 5s"
      hx-target="this"
      hx-swap="outerHTML"
      aria-live="polite"
    >
      {count === 0 ? null : (
        <a
          class="button new-events-show"
          href={showHref}
          hx-get={showHref}
          hx-target="#events-results"
          hx-swap="outerHTML"
        >
          {count === 1 ? '1 new event' : `${count} new events`} — show
        </a>
      )}
    </div>
  );
}

export function EventsResults({
  integrationId,
  items,
  selfHref,
  newerHref,
  olderHref,
  firstPage,
  objectKeys,
  newEventsHref,
}: EventsResultsProps) {
  return (
    <section id="events-results">
      {firstPage && newEventsHref ? <NewEventsBar href={newEventsHref} showHref={selfHref} count={0} /> : null}
      {items.length === 0 ? (
        <section class="empty-state">
          <h2>No events match</h2>
          <p>Change the filters, or wait for events to arrive: new ones are announced above.</p>
        </section>
      ) : (
        <Table>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Domain Entity ID</th>
              <th scope="col">Status</th>
              <th scope="col">Attempted at</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr>
                <td>
                  <a
                    class="mono"
                    href={`/tools/event-stream/${encodeURIComponent(integrationId)}/events/${item.event_id}`}
                  >
                    {item.event_id}
                  </a>
                  <div class="hint mono">{item.event_name}</div>
                </td>
                <td class="mono">{item.domain_entity_id ?? '—'}</td>
                <td>
                  <StatusBadge status={item.status} />
                  {objectKeys?.has(item.event_id) ? (
                    <div class="hint mono object-key" title="The S3 object that holds it">
                      {objectKeys.get(item.event_id)}
                    </div>
                  ) : null}
                </td>
                <td>
                  {item.last_attempted_at ? (
                    <time datetime={item.last_attempted_at.toISOString()}>{formatTime(item.last_attempted_at)}</time>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Pager newerHref={newerHref} olderHref={olderHref} />
    </section>
  );
}

export function EventsPage(
  props: EventsResultsProps & {
    values: EventFilterValues;
    eventNames: string[];
    presets: { label: string; href: string }[];
    error?: string;
    retryHref?: string;
    notice?: string;
    /** An ordered integration (by domain entity), with how much waits behind heads being retried. */
    ordered?: boolean;
    waiting?: { entities: number; deliveries: number };
    /** The integration's shared header (its home). */
    summary: IntegrationSummary;
  },
) {
  const path = `/tools/event-stream/${encodeURIComponent(props.integrationId)}/events`;
  const live = {
    'hx-get': path,
    'hx-target': '#events-results',
    'hx-swap': 'outerHTML',
    'hx-trigger': 'change, input delay:400ms',
    'hx-push-url': 'true',
  };
  return (
    <>
      <IntegrationHeader summary={props.summary} current="events" />
      <search>
        <form method="get" action={path} class="filters" {...live}>
          <FilterFields values={props.values} eventNames={props.eventNames} withStatus />
          <noscript>
            <button type="submit" class="button">
              Apply
            </button>
          </noscript>
        </form>
      </search>
      <p class="presets">
        {props.presets.map((preset) => (
          <a href={preset.href}>{preset.label}</a>
        ))}
        <a href={path}>Clear filters</a>
      </p>
      {props.error ? (
        <p class="alert alert-error" role="alert">
          {props.error}
        </p>
      ) : null}
      <Notice message={props.notice} />
      {props.ordered ? <OrderedNote waiting={props.waiting} /> : null}
      {props.retryHref ? (
        <p>
          <a class="button" href={props.retryHref}>
            Retry all matching…
          </a>
        </p>
      ) : null}
      <EventsResults {...props} />
    </>
  );
}

export interface AttemptView {
  attempted_at: Date;
  duration_ms: number;
  outcome: string;
  trigger: string;
  status_code: number | null;
  error_class: string | null;
  error_message: string | null;
  response_body: string | null;
}

function OrderedNote({ waiting }: { waiting?: { entities: number; deliveries: number } }) {
  const count = (n: number, one: string, many: string) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
  return (
    <p class="ordered-note">
      Delivered in order per domain entity.{' '}
      {waiting && waiting.entities > 0
        ? `${count(waiting.entities, 'entity waits', 'entities wait')} behind an event being retried (${count(waiting.deliveries, 'delivery', 'deliveries')} held back).`
        : 'No entity waits behind an event being retried.'}
    </p>
  );
}

/** "retrying: 2 attempts, next 2026-12-01 10:00:05" */
function aheadState(ahead: AheadInLine): string {
  if (ahead.in_flight) return 'being sent now';
  if (ahead.attempts === 0) return ahead.next_attempt_at ? 'due to be sent' : 'waiting in line itself';
  const attempts = `${ahead.attempts} attempt${ahead.attempts === 1 ? '' : 's'}`;
  return ahead.next_attempt_at
    ? `retrying (${attempts}), next ${formatTime(ahead.next_attempt_at)}`
    : `retrying (${attempts})`;
}

export function DeliveryDetailPage(props: {
  integrationId: string;
  eventId: string;
  eventName: string;
  status: string;
  domainEntity: string;
  publishedAt: Date;
  nextAttemptAt: Date | null;
  /** An ordered delivery's wait: the first pending one ahead of it in its entity's line. */
  waitsFor?: AheadInLine;
  objectKey?: string | null;
  /** The envelope as shown: pretty-printed, or an excerpt of the compact text when it is too large or deep to print. */
  envelope: { text: string; excerptOf?: { bytes: number; depth: number }; downloadHref: string } | null;
  attempts: AttemptView[];
  csrfToken: string;
  notice?: string;
  /** An S3 event in a sealed batch: its attempts are the batch's uploads. */
  inBatch?: boolean;
}) {
  return (
    <>
      <Breadcrumbs
        last={{
          label: props.integrationId,
          href: `/tools/event-stream/${encodeURIComponent(props.integrationId)}/events`,
        }}
      />
      <h1 class="mono">{props.eventId}</h1>
      <Notice message={props.notice} />
      <form
        method="post"
        action={`/tools/event-stream/${encodeURIComponent(props.integrationId)}/events/${props.eventId}/resend`}
        class="actions-row"
        data-busy
      >
        <input type="hidden" name="_csrf" value={props.csrfToken} />
        <button type="submit" class="button button-primary">
          Resend
        </button>
        <span class="hint">Sends it again now; the attempt is recorded as manual.</span>
      </form>
      <dl class="facts card">
        <dt>Type</dt>
        <dd class="mono">{props.eventName}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={props.status} />
          {props.status === 'pending' && props.nextAttemptAt && !props.waitsFor ? (
            <span class="hint"> next attempt {formatTime(props.nextAttemptAt)}</span>
          ) : null}
        </dd>
        {props.waitsFor ? (
          <>
            <dt>Waits for</dt>
            <dd class="waits-for">
              <a
                class="mono"
                href={`/tools/event-stream/${encodeURIComponent(props.integrationId)}/events/${props.waitsFor.event_id}`}
              >
                {props.waitsFor.event_name}
              </a>{' '}
              of the same entity, published {formatTime(props.waitsFor.published_at)}: {aheadState(props.waitsFor)}.
              <span class="hint"> This integration delivers each entity’s events in order.</span>
            </dd>
          </>
        ) : null}
        <dt>Domain entity</dt>
        <dd class="mono">{props.domainEntity}</dd>
        <dt>Published at</dt>
        <dd>{formatTime(props.publishedAt)}</dd>
        {props.objectKey ? (
          <>
            <dt>S3 object</dt>
            <dd class="mono">{props.objectKey}</dd>
          </>
        ) : null}
      </dl>
      <section class="card" aria-labelledby="payload-title">
        <h2 id="payload-title">Envelope</h2>
        {props.envelope ? (
          <>
            {props.envelope.excerptOf ? (
              <p class="hint">
                The envelope is {Math.ceil(props.envelope.excerptOf.bytes / 1024)} KiB, nested{' '}
                {props.envelope.excerptOf.depth} levels deep: too large or deep to print here. The start of it is below;{' '}
                <a href={props.envelope.downloadHref} download>
                  download the whole envelope
                </a>
                .
              </p>
            ) : null}
            <pre class="mono code-block" tabindex={0}>
              {props.envelope.text}
            </pre>
            {props.envelope.excerptOf ? null : (
              <p class="hint">
                <a href={props.envelope.downloadHref} download>
                  Download the envelope
                </a>{' '}
                (the bytes a receiver gets).
              </p>
            )}
          </>
        ) : (
          <p class="hint">The event was pruned by retention.</p>
        )}
      </section>
      <section class="card" aria-labelledby="attempts-title">
        <h2 id="attempts-title">Attempts</h2>
        {props.inBatch ? (
          <p class="hint">
            It waits in an S3 batch that is not uploaded yet: these are the batch’s upload attempts
            {props.nextAttemptAt ? <>; the next one is {formatTime(props.nextAttemptAt)}</> : null}.
          </p>
        ) : null}
        {props.attempts.length === 0 ? (
          <p class="hint">Not attempted yet.</p>
        ) : (
          <Table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Outcome</th>
                <th scope="col">Answer</th>
                <th scope="col" class="numeric">
                  Duration
                </th>
                <th scope="col">Response</th>
              </tr>
            </thead>
            <tbody>
              {props.attempts.map((attempt) => (
                <tr>
                  <td>{formatTime(attempt.attempted_at)}</td>
                  <td>
                    {attempt.outcome}
                    {attempt.trigger !== 'scheduled' ? <span class="hint"> ({attempt.trigger})</span> : null}
                  </td>
                  <td>
                    {attempt.status_code !== null
                      ? `HTTP ${attempt.status_code}`
                      : `${attempt.error_class ?? ''}${attempt.error_message ? `: ${attempt.error_message}` : ''}`}
                  </td>
                  <td class="numeric">{attempt.duration_ms} ms</td>
                  <td>
                    {attempt.response_body ? (
                      <pre class="mono response-excerpt" tabindex={0}>
                        {attempt.response_body.slice(0, 2000)}
                      </pre>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>
    </>
  );
}

/** Bulk retry's confirmation: how many deliveries it will send again. */
export function BulkRetryPage({
  integrationId,
  count,
  hidden,
  csrfToken,
}: {
  integrationId: string;
  count: number;
  hidden: [string, string][];
  csrfToken: string;
}) {
  const path = `/tools/event-stream/${encodeURIComponent(integrationId)}/events`;
  return (
    <section class="card narrow" aria-labelledby="retry-title">
      <h1 id="retry-title">Retry {count.toLocaleString('en')} deliveries?</h1>
      <p>
        Every failed or rejected delivery of <span class="mono">{integrationId}</span> that matches the filters goes
        back to pending with a fresh retry schedule, and is sent again shortly.
      </p>
      <form method="post" action={`${path}/retry`} class="actions-row" data-busy>
        <input type="hidden" name="_csrf" value={csrfToken} />
        {hidden.map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit" class="button button-primary" disabled={count === 0}>
          Retry {count.toLocaleString('en')}
        </button>
        <a class="button" href={path}>
          Cancel
        </a>
      </form>
    </section>
  );
}
