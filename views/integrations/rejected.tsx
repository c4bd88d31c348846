import type { DeliveryListItem, LastResponse } from '../../src/db/read-models.ts';
import { formatTime } from '../components/format.tsx';
import { FilterFields, Pager, type EventFilterValues } from '../components/filters.tsx';
import { Table } from '../components/page.tsx';
import { IntegrationHeader, type IntegrationSummary } from './home.tsx';

/** View Rejected Events: what the consumer refused, with its answer; CSV export of the same filters. */
export function RejectedEventsPage(props: {
  integrationId: string;
  items: DeliveryListItem[];
  responses: Map<string, LastResponse>;
  values: EventFilterValues;
  eventNames: string[];
  csvHref: string;
  newerHref?: string;
  olderHref?: string;
  summary: IntegrationSummary;
  /** The bulk retry of the rejected deliveries these filters match (it confirms how many first). */
  retryHref: string;
}) {
  const path = `/tools/event-stream/${encodeURIComponent(props.integrationId)}/rejected-events`;
  return (
    <>
      <IntegrationHeader summary={props.summary} current="rejected" />
      <h2>Rejected events</h2>
      <search>
        {/* Applies as you type; the results, the export and the retry follow the filters. */}
        <form
          method="get"
          action={path}
          class="filters"
          hx-get={path}
          hx-trigger="change, input delay:400ms"
          hx-target="#rejected-results"
          hx-select="#rejected-results"
          hx-swap="outerHTML"
          hx-push-url="true"
        >
          <FilterFields values={props.values} eventNames={props.eventNames} withStatus={false} />
          <div class="field">
            <button type="submit" class="button">
              Apply
            </button>
          </div>
        </form>
      </search>
      <section id="rejected-results" aria-label="Rejected events">
        <div class="actions-row results-actions">
          <a class="button" href={props.csvHref} download>
            Export CSV
          </a>
          {props.items.length > 0 ? (
            <a class="button" href={props.retryHref}>
              Retry all matching…
            </a>
          ) : null}
        </div>
        {props.items.length === 0 ? (
          <section class="empty-state">
            <h2>No rejected events</h2>
          </section>
        ) : (
          <Table>
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">Event type</th>
                <th scope="col">Domain Entity ID</th>
                <th scope="col">Created at</th>
                <th scope="col">Response</th>
              </tr>
            </thead>
            <tbody>
              {props.items.map((item) => {
                const answer = props.responses.get(item.event_id);
                return (
                  <tr>
                    <td>
                      <a
                        class="mono"
                        href={`/tools/event-stream/${encodeURIComponent(props.integrationId)}/events/${item.event_id}`}
                      >
                        {item.event_id}
                      </a>
                    </td>
                    <td class="mono">{item.event_name}</td>
                    <td class="mono">{item.domain_entity_id ?? '—'}</td>
                    <td>{formatTime(item.last_attempted_at)}</td>
                    <td>
                      {answer?.status_code ? `HTTP ${answer.status_code} ` : ''}
                      {answer?.response_body || answer?.error_message ? (
                        <pre class="mono response-excerpt" tabindex={0}>
                          {(answer.response_body ?? answer.error_message ?? '').slice(0, 500)}
                        </pre>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
        )}
        <Pager newerHref={props.newerHref} olderHref={props.olderHref} />
      </section>
    </>
  );
}
