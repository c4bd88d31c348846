import type { IntegrationRow } from '../../src/db/database.ts';
import type { IntegrationStats } from '../../src/db/read-models.ts';
import { Time } from '../components/format.tsx';

/*
 * An integration's health, as the list and the Overview show it: one state
 * an operator tells apart at a glance, and the line that explains it.
 */

/** One of the states an operator tells apart at a glance, with what explains it. */
export type Health =
  | { state: 'active' }
  | { state: 'paused'; by: string | null; at: Date | null }
  | { state: 'stopped'; reason: string; at: Date | null }
  | { state: 'completed'; at: Date | null }
  | { state: 'failing'; rate: number | null; error: IntegrationStats['last_error'] }
  | { state: 'delayed'; oldestPendingAt: Date | null; since: Date };

/** Where an integration stands: paused by hand or stopped by the system, else failing, delayed or active. */
export function healthOf(row: IntegrationRow, stats: IntegrationStats): Health {
  const change = stats.last_change;
  if (row.status === 'stopped') {
    if (stats.alert?.kind === 'stopped_by_system')
      return stats.alert.reason === 'completed'
        ? { state: 'completed', at: change?.at ?? null }
        : { state: 'stopped', reason: stats.alert.reason, at: change?.at ?? null };
    return { state: 'paused', by: change?.actor ?? null, at: change?.at ?? null };
  }
  if (stats.last_error || row.failing_since)
    return { state: 'failing', rate: stats.failure_rate, error: stats.last_error };
  if (stats.alert?.kind === 'delayed')
    return { state: 'delayed', oldestPendingAt: stats.oldest_pending_at, since: stats.alert.since };
  return { state: 'active' };
}

const HEALTH_LABELS: Record<Health['state'], string> = {
  active: 'Active',
  paused: 'Paused',
  stopped: 'Stopped by the system',
  completed: 'Completed',
  failing: 'Failing',
  delayed: 'Delayed',
};
const HEALTH_BADGES: Record<Health['state'], string> = {
  active: 'badge-success',
  paused: 'badge-muted',
  stopped: 'badge-danger',
  completed: 'badge-muted',
  failing: 'badge-danger',
  delayed: 'badge-warning',
};

/** The health badge and the line under it: by whom, why, the failure rate and last error, or how old the backlog is. */
export function HealthView({ health, now }: { health: Health; now: Date }) {
  return (
    <>
      <span class={`badge health-badge ${HEALTH_BADGES[health.state]}`} data-health={health.state}>
        {HEALTH_LABELS[health.state]}
      </span>
      <HealthDetail health={health} now={now} />
    </>
  );
}

function HealthDetail({ health, now }: { health: Health; now: Date }) {
  switch (health.state) {
    case 'active':
      return null;
    case 'paused':
      return (
        <div class="health-detail">
          {health.by ? `by ${health.by === 'system' ? 'the system' : health.by}` : 'by hand'}
          {health.at ? (
            <>
              , <Time value={health.at} now={now} />
            </>
          ) : null}
        </div>
      );
    case 'completed':
      return <div class="health-detail">A temporary integration that reached its end</div>;
    case 'stopped':
      return (
        <div class="health-detail">
          <span class="health-reason">{health.reason}</span>
          {health.at ? (
            <>
              {' '}
              (<Time value={health.at} now={now} />)
            </>
          ) : null}
        </div>
      );
    case 'failing':
      return (
        <div class="health-detail">
          {health.rate !== null ? (
            <span>{Math.round(health.rate * 100)} % of attempts failed in the last hour. </span>
          ) : null}
          {health.error ? (
            <>
              <span class="health-reason">Last error: {health.error.message}</span>
              {health.error.at ? (
                <>
                  {' '}
                  (<Time value={health.error.at} now={now} />)
                </>
              ) : null}
              {health.error.next_try_at ? (
                <>
                  . Next try <Time value={health.error.next_try_at} now={now} />
                </>
              ) : null}
            </>
          ) : null}
        </div>
      );
    case 'delayed':
      return (
        <div class="health-detail">
          Oldest pending event published <Time value={health.oldestPendingAt ?? health.since} now={now} />
        </div>
      );
  }
}
