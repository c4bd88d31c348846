import type { LogEntry } from '../../src/db/read-models.ts';
import { Pager } from '../components/filters.tsx';
import { formatTime } from '../components/format.tsx';
import { Table } from '../components/page.tsx';
import { IntegrationHeader, type IntegrationSummary } from './home.tsx';

/** View Logs: every start and stop of one integration, newest first. */
export function LogsPage({
  entries,
  nextHref,
  summary,
}: {
  entries: LogEntry[];
  nextHref?: string;
  summary: IntegrationSummary;
}) {
  return (
    <>
      <IntegrationHeader summary={summary} current="logs" />
      {entries.length === 0 ? (
        <section class="empty-state">
          <h2>No log entries</h2>
        </section>
      ) : (
        <Table>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Reason</th>
              <th scope="col">Actor</th>
              <th scope="col">Created at</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr>
                <td>
                  <span class={`badge ${entry.action === 'started' ? 'badge-success' : 'badge-muted'}`}>
                    {entry.action === 'started' ? 'Started' : 'Stopped'}
                  </span>
                </td>
                <td>{entry.reason}</td>
                <td>{entry.actor}</td>
                <td>
                  <time datetime={entry.created_at.toISOString()}>{formatTime(entry.created_at)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Pager olderHref={nextHref} olderLabel="Older entries" />
    </>
  );
}
