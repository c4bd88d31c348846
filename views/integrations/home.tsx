import { BreakableId } from '../components/format.tsx';
import { Breadcrumbs } from '../components/page.tsx';
import { type Health, HealthView } from './health.tsx';

/*
 * An integration's home: the header its pages share (ID, health, target,
 * the switch) and the tabs Events | Rejected | Logs | Settings, so that
 * going from one to another does not pass through the list's Actions menu.
 */

export interface IntegrationSummary {
  id: string;
  status: 'running' | 'stopped';
  targetKind: 'webhook' | 's3';
  /** The whole target address: a callback URL, or s3://bucket/prefix. */
  target: string;
  health: Health;
  now: Date;
  csrfToken: string;
}

export type HomeTab = 'events' | 'rejected' | 'logs' | 'settings';

const HOME_TABS: { tab: HomeTab; label: string; path: string }[] = [
  { tab: 'events', label: 'Events', path: 'events' },
  { tab: 'rejected', label: 'Rejected', path: 'rejected-events' },
  { tab: 'logs', label: 'Logs', path: 'logs' },
  { tab: 'settings', label: 'Settings', path: 'edit' },
];

export function IntegrationHeader({ summary, current }: { summary: IntegrationSummary; current: HomeTab }) {
  const base = `/tools/event-stream/${encodeURIComponent(summary.id)}`;
  const here = `${base}/${HOME_TABS.find((entry) => entry.tab === current)!.path}`;
  const active = summary.status === 'running';
  return (
    <div class="integration-header">
      <Breadcrumbs last={{ label: summary.id }} />
      <div class="integration-header-main">
        <div>
          <h1 class="mono integration-title">
            <BreakableId id={summary.id} />
          </h1>
          <p class="integration-meta">
            <span class="target-kind">{summary.targetKind === 'webhook' ? 'Webhook' : 'S3'}</span>{' '}
            <span class="mono truncate" title={summary.target}>
              {summary.target}
            </span>
          </p>
          <div class="integration-health">
            <HealthView health={summary.health} now={summary.now} />
          </div>
        </div>
        <form method="post" action={`${base}/status`} class="toggle-form" data-busy>
          <input type="hidden" name="_csrf" value={summary.csrfToken} />
          <input type="hidden" name="status" value={active ? 'stopped' : 'running'} />
          <input type="hidden" name="return_to" value={here} />
          <button
            type="submit"
            class={`toggle ${active ? 'toggle-on' : 'toggle-off'}`}
            role="switch"
            aria-checked={active ? 'true' : 'false'}
            aria-label={`${summary.id}: ${active ? 'Active, press to pause' : 'Paused, press to start'}`}
          >
            <span class="toggle-track" aria-hidden="true"></span>
            <span class="toggle-label">{active ? 'Active' : 'Paused'}</span>
          </button>
        </form>
      </div>
      <nav class="tabs" aria-label="Integration">
        {HOME_TABS.map((entry) => (
          <a href={`${base}/${entry.path}`} aria-current={entry.tab === current ? 'page' : undefined}>
            {entry.label}
          </a>
        ))}
      </nav>
    </div>
  );
}
