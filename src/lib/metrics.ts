import client from 'prom-client';

/*
 * This process's own measurements, exposed through prom-client. One
 * registry per process, like any Prometheus client's default: ingest and
 * the delivery loops record into it, the loops report their state when
 * scraped, and GET /metrics adds the database-wide figures.
 */

export const processRegistry = new client.Registry();
// CPU, resident memory, open files, event-loop lag, heap.
client.collectDefaultMetrics({ register: processRegistry });
// Gauges that prom-client names like counters (promtool check metrics
// refuses them), counting libuv handles that Bun does not have anyway.
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
  processRegistry.removeSingleMetric(name);

const eventsIngested = new client.Counter({
  name: 'tideway_events_ingested_total',
  help: 'Events stored through this process.',
  registers: [processRegistry],
});

const attemptDuration = new client.Histogram({
  name: 'tideway_webhook_attempt_duration_seconds',
  help: 'Time webhook receivers took to answer (this process).',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
  registers: [processRegistry],
});

const attempts = new client.Counter({
  name: 'tideway_webhook_attempts_total',
  help: 'Webhook attempts made by this process.',
  registers: [processRegistry],
});

// Bun reports no garbage-collection timings (nodejs_gc_duration_seconds
// stays empty), so collections are counted as they are observed: an object
// registered for finalisation is reclaimed by each collection that reaches it.
const collections = new client.Counter({
  name: 'tideway_gc_collections_observed_total',
  help: 'Garbage collections observed in this process (a sentinel object reclaimed).',
  registers: [processRegistry],
});
const sentinel = new FinalizationRegistry<undefined>(() => {
  collections.inc();
  plantSentinel();
});
function plantSentinel() {
  sentinel.register({}, undefined);
}
plantSentinel();

/** Counts events stored by ingest. */
export function countIngested(events: number): void {
  eventsIngested.inc(events);
}

/** Records one webhook attempt's duration. */
export function observeAttemptDuration(seconds: number): void {
  attempts.inc();
  attemptDuration.observe(seconds);
}

/** What the background loops of this process report when scraped. */
export interface LoopReport {
  heartbeats: { loop: string; ageSeconds: number }[];
  webhook?: { inFlight: number; unrecorded: number; peakUnrecorded: number; waiting: number };
  s3Uploading?: number;
}

let loopReport: () => LoopReport = () => ({ heartbeats: [] });

/** Tells the metrics where this process's loops report from (main.ts, once). */
export function reportLoopsFrom(source: () => LoopReport): void {
  loopReport = source;
}

/** A gauge whose value is read from the loops' report at each scrape. */
function loopGauge(name: string, help: string, read: (report: LoopReport) => number | undefined) {
  return new client.Gauge({
    name,
    help,
    registers: [processRegistry],
    collect() {
      const value = read(loopReport());
      if (value !== undefined) this.set(value);
    },
  });
}

new client.Gauge({
  name: 'tideway_loop_heartbeat_age_seconds',
  help: 'Seconds since each background loop last showed progress; /readyz fails past 60.',
  labelNames: ['loop'],
  registers: [processRegistry],
  collect() {
    this.reset();
    for (const beat of loopReport().heartbeats) this.set({ loop: beat.loop }, beat.ageSeconds);
  },
});
loopGauge(
  'tideway_webhook_inflight',
  'Webhook requests on the wire from this process.',
  (report) => report.webhook?.inFlight,
);
loopGauge(
  'tideway_webhook_unrecorded_attempts',
  'Webhook attempts sent and not yet recorded (bounded by 2 × DELIVERY_CONCURRENCY).',
  (report) => report.webhook?.unrecorded,
);
loopGauge(
  'tideway_webhook_unrecorded_attempts_peak',
  'The most webhook attempts ever sent and not yet recorded at once, since start.',
  (report) => report.webhook?.peakUnrecorded,
);
loopGauge(
  'tideway_webhook_claimed_waiting',
  'Deliveries claimed and waiting for a free slot.',
  (report) => report.webhook?.waiting,
);
loopGauge(
  'tideway_s3_batches_uploading',
  'S3 batch uploads under way in this process.',
  (report) => report.s3Uploading,
);
