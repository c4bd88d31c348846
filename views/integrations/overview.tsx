import { BreakableId, formatTime } from '../components/format.tsx';
import { Breadcrumbs } from '../components/page.tsx';
import { type Health, HealthView } from './health.tsx';

/*
 * Overview: per integration, deliveries per minute over the last hour as a
 * small server-rendered SVG bar chart (no chart library), with backlog,
 * failure rate and the oldest pending event's age.
 */

export interface OverviewCard {
  id: string;
  status: 'running' | 'stopped';
  /** 60 minutes, oldest first. */
  minutes: { delivered: number; failed: number; rejected: number }[];
  backlog: number;
  oldestPendingAt: Date | null;
  /** Active, paused (by whom), stopped by the system (why), failing (last error, next try) or delayed. */
  health: Health;
  now: Date;
}

const WIDTH = 240;
const HEIGHT = 48;

function MinuteChart({ minutes, label }: { minutes: OverviewCard['minutes']; label: string }) {
  const peak = Math.max(1, ...minutes.map((minute) => minute.delivered + minute.failed + minute.rejected));
  const barWidth = WIDTH / minutes.length;
  const total = minutes.reduce((sum, minute) => sum + minute.delivered, 0);
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      width={WIDTH}
      height={HEIGHT}
      role="img"
      aria-label={`${label}: ${total} delivered in the last hour`}
    >
      {minutes.map((minute, i) => {
        const delivered = (minute.delivered / peak) * HEIGHT;
        const failed = ((minute.failed + minute.rejected) / peak) * HEIGHT;
        return (
          <g>
            <rect
              class="bar-ok"
              x={(i * barWidth).toFixed(1)}
              y={(HEIGHT - delivered).toFixed(1)}
              width={Math.max(1, barWidth - 1).toFixed(1)}
              height={delivered.toFixed(1)}
            />
            <rect
              class="bar-bad"
              x={(i * barWidth).toFixed(1)}
              y={(HEIGHT - delivered - failed).toFixed(1)}
              width={Math.max(1, barWidth - 1).toFixed(1)}
              height={failed.toFixed(1)}
            />
          </g>
        );
      })}
    </svg>
  );
}

function age(from: Date | null, now: Date): string {
  if (!from) return '—';
  const seconds = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3_600)} h`;
}

export function OverviewPage({ cards }: { cards: OverviewCard[] }) {
  return (
    <>
      <Breadcrumbs last={{ label: 'Overview' }} />
      <h1>Overview</h1>
      <p class="lead">
        Deliveries per minute over the last hour (green delivered, red failed or rejected), refreshed every 15 seconds.
      </p>
      <div
        class="overview"
        hx-get="/tools/event-stream/overview"
        hx-trigger="every 15s"
        hx-select=".overview"
        hx-swap="outerHTML"
        hx-target="this"
      >
        {cards.length === 0 ? (
          <section class="empty-state">
            <h2>No integrations yet</h2>
          </section>
        ) : (
          cards.map((card) => {
            const delivered = card.minutes.reduce((sum, minute) => sum + minute.delivered, 0);
            const failed = card.minutes.reduce((sum, minute) => sum + minute.failed + minute.rejected, 0);
            const rate = delivered + failed > 0 ? `${((failed / (delivered + failed)) * 100).toFixed(1)} %` : '—';
            return (
              <section class="card overview-card" aria-labelledby={`overview-${card.id}`}>
                <h2 id={`overview-${card.id}`}>
                  <a class="mono" href={`/tools/event-stream/${encodeURIComponent(card.id)}/events`}>
                    <BreakableId id={card.id} />
                  </a>
                </h2>
                <div class="overview-health">
                  <HealthView health={card.health} now={card.now} />
                </div>
                <MinuteChart minutes={card.minutes} label={card.id} />
                <dl class="facts">
                  <dt>Delivered (1 h)</dt>
                  <dd>{delivered.toLocaleString('en')}</dd>
                  <dt>Failure rate (1 h)</dt>
                  <dd>{rate}</dd>
                  <dt>Backlog</dt>
                  <dd>{card.backlog.toLocaleString('en')}</dd>
                  <dt>Oldest pending</dt>
                  <dd title={card.oldestPendingAt ? formatTime(card.oldestPendingAt) : undefined}>
                    {age(card.oldestPendingAt, card.now)}
                  </dd>
                </dl>
              </section>
            );
          })
        )}
      </div>
    </>
  );
}
