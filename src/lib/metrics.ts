/*
 * This process's own measurements, in Prometheus' text format. One registry
 * per process, like any Prometheus client's default: ingest and the delivery
 * loops record into it; GET /metrics adds the database-wide figures.
 */

const counters = new Map<string, number>();
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];
const durations = { buckets: DURATION_BUCKETS.map(() => 0), count: 0, sum: 0 };

/** Adds to a counter, e.g. countMetric('events_ingested', 500). */
export function countMetric(name: string, by = 1): void {
  counters.set(name, (counters.get(name) ?? 0) + by);
}

/** Records one webhook attempt's duration. */
export function observeAttemptDuration(seconds: number): void {
  durations.count++;
  durations.sum += seconds;
  DURATION_BUCKETS.forEach((bound, i) => {
    if (seconds <= bound) durations.buckets[i]!++;
  });
}

/** Escapes a label value for the text format. */
export function labelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

export function processMetricsText(): string {
  const lines = [
    '# HELP tideway_events_ingested_total Events stored through this process.',
    '# TYPE tideway_events_ingested_total counter',
    `tideway_events_ingested_total ${counters.get('events_ingested') ?? 0}`,
    '# HELP tideway_webhook_attempts_total Webhook attempts made by this process.',
    '# TYPE tideway_webhook_attempts_total counter',
    `tideway_webhook_attempts_total ${durations.count}`,
    '# HELP tideway_webhook_attempt_duration_seconds Time webhook receivers took to answer (this process).',
    '# TYPE tideway_webhook_attempt_duration_seconds histogram',
    ...DURATION_BUCKETS.map((bound, i) => `tideway_webhook_attempt_duration_seconds_bucket{le="${bound}"} ${durations.buckets[i]}`),
    `tideway_webhook_attempt_duration_seconds_bucket{le="+Inf"} ${durations.count}`,
    `tideway_webhook_attempt_duration_seconds_sum ${durations.sum}`,
    `tideway_webhook_attempt_duration_seconds_count ${durations.count}`,
  ];
  return lines.join('\n') + '\n';
}
