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
}) {
  const path = `/tools/event-stream/${encodeURIComponent(props.integrationId)}/rejected-events`;
  return (
    <>
      <IntegrationHeader summary={props.summary} current="rejected" />
      <div class="page-header">
        <h2>Rejected events</h2>
        <a class="button" href={props.csvHref} download>
          Export CSV
        </a>
      </div>
      <search>
        <form method="get" action={path} class="filters">
          <FilterFields values={props.values} eventNames={props.eventNames} withStatus={false} />
          <div class="field">
            <button type="submit" class="button">
              Apply
            </button>
          </div>
        </form>
      </search>
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
    </>
  );
}
