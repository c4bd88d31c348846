import type { LogEntry } from '../../src/db/read-models.ts';
import { Pager } from '../components/filters.tsx';
import { formatTime } from '../components/format.tsx';

/** View Logs: every start and stop of one integration, newest first. */
export function LogsPage({
  integrationId,
  entries,
  nextHref,
}: {
  integrationId: string;
  entries: LogEntry[];
  nextHref?: string;
}) {
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumb">
        <span>Tools</span> <span aria-hidden="true">›</span> <a href="/tools/event-stream">Event Stream</a>{' '}
        <span aria-hidden="true">›</span> <span>{integrationId}</span>
      </nav>
      <h1>Logs: {integrationId}</h1>
      {entries.length === 0 ? (
        <section class="empty-state">
          <h2>No log entries</h2>
        </section>
      ) : (
        <div class="table-wrap">
          <table class="table">
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
          </table>
        </div>
      )}
      <Pager olderHref={nextHref} olderLabel="Older entries" />
    </>
  );
}
