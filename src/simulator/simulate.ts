import createClient from 'openapi-fetch';
import PQueue from 'p-queue';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { paths } from '../api-client/schema.ts';
import { PlatformSimulator } from './generator.ts';

/*
 * `bun run simulate -- --url http://127.0.0.1:3000 --token T --rate 500 --duration 60`
 *
 * Posts a realistic platform event stream to Tideway at a steady rate, in
 * batches, with a live progress line on stderr and a summary at the end.
 */

const optionsSchema = z.object({
  url: z.url({ error: 'must be the Tideway base URL, e.g. http://127.0.0.1:3000' }),
  token: z.string({ error: 'is required: an API token with publish_events' }).min(1, 'is required'),
  rate: z.coerce.number({ error: 'must be a number' }).positive('must be positive').default(500),
  duration: z.coerce.number({ error: 'must be a number' }).positive('must be positive').default(60),
  batch: z.coerce.number({ error: 'must be a number' }).int().min(1).max(5000).default(100),
  concurrency: z.coerce.number({ error: 'must be a number' }).int().min(1).max(256).default(4),
  seed: z.coerce
    .number({ error: 'must be a number' })
    .int()
    .default(() => Date.now() % 1_000_000),
});
export type SimulateOptions = z.output<typeof optionsSchema>;

export interface SimulateSummary {
  sent: number;
  accepted: number;
  duplicates: number;
  failedRequests: number;
  failedEvents: number;
  errors: Record<string, number>;
  seconds: number;
  latenciesMs: number[];
}

/** Runs the simulation; `report` receives the progress line about once a second. */
export async function simulate(
  options: SimulateOptions,
  report: (line: string) => void = () => {},
  signal?: AbortSignal,
) {
  const simulator = new PlatformSimulator(options.seed);
  const queue = new PQueue({ concurrency: options.concurrency });
  // Typed by the OpenAPI document (src/api-client/schema.ts).
  const api = createClient<paths>({
    baseUrl: new URL(options.url).origin,
    headers: { authorization: `Bearer ${options.token}` },
  });
  const summary: SimulateSummary = {
    sent: 0,
    accepted: 0,
    duplicates: 0,
    failedRequests: 0,
    failedEvents: 0,
    errors: {},
    seconds: 0,
    latenciesMs: [],
  };
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let generated = 0;
  let lastReport = 0;

  const send = async (events: ReturnType<PlatformSimulator['next']>) => {
    const requestStarted = performance.now();
    try {
      const { data, error, response } = await api.POST('/api/v1/events', { body: events });
      summary.latenciesMs.push(performance.now() - requestStarted);
      if (data) {
        summary.accepted += data.accepted - data.duplicates.length;
        summary.duplicates += data.duplicates.length;
      } else {
        fail(`HTTP ${response.status}${error?.title ? ` ${error.title}` : ''}`, events.length);
      }
    } catch (error) {
      fail((error as Error).message, events.length);
    }
    summary.sent += events.length;
  };
  const fail = (reason: string, count: number) => {
    summary.failedRequests++;
    summary.failedEvents += count;
    summary.errors[reason] = (summary.errors[reason] ?? 0) + 1;
  };

  const total = Math.round(options.duration * options.rate);
  while (generated < total && !signal?.aborted) {
    const due = Math.min(Math.floor(elapsed() * options.rate), total) - generated;
    for (let left = due; left > 0; left -= options.batch) {
      const events = simulator.next(Math.min(options.batch, left));
      generated += events.length;
      // Back-pressure: never more than a few batches waiting beyond those in flight.
      if (queue.size > options.concurrency * 4) await queue.onSizeLessThan(options.concurrency * 2);
      void queue.add(() => send(events));
    }
    if (elapsed() - lastReport >= 1) {
      lastReport = elapsed();
      report(progressLine(summary, elapsed(), queue.pending));
    }
    await Bun.sleep(20);
  }
  await queue.onIdle();
  summary.seconds = elapsed();
  report(progressLine(summary, summary.seconds, 0));
  return summary;
}

function progressLine(summary: SimulateSummary, seconds: number, inFlight: number): string {
  const rate = seconds > 0 ? Math.round(summary.sent / seconds) : 0;
  return `sent ${summary.sent.toLocaleString('en')} · ${rate.toLocaleString('en')}/s · errors ${summary.failedRequests} · in flight ${inFlight}`;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function formatSummary(summary: SimulateSummary): string {
  const lines = [
    `events sent      ${summary.sent.toLocaleString('en')} in ${summary.seconds.toFixed(1)} s (${Math.round(summary.sent / summary.seconds).toLocaleString('en')}/s)`,
    `stored           ${summary.accepted.toLocaleString('en')} (duplicates ${summary.duplicates})`,
    `failed           ${summary.failedEvents} events in ${summary.failedRequests} requests`,
    `request latency  p50 ${percentile(summary.latenciesMs, 50).toFixed(1)} ms · p99 ${percentile(summary.latenciesMs, 99).toFixed(1)} ms`,
  ];
  for (const [reason, count] of Object.entries(summary.errors)) lines.push(`  ${count} × ${reason}`);
  return lines.join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(optionsSchema.shape).map((name) => [name, { type: 'string' as const }])),
    strict: true,
  });
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    process.stderr.write(
      `${parsed.error.issues.map((issue) => `--${String(issue.path[0])}: ${issue.message}`).join('\n')}\n`,
    );
    process.exit(2);
  }
  const abort = new AbortController();
  process.on('SIGINT', () => abort.abort());
  const tty = process.stderr.isTTY;
  const summary = await simulate(
    parsed.data,
    (line) => process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`),
    abort.signal,
  );
  process.stderr.write(tty ? '\n' : '');
  process.stdout.write(`${formatSummary(summary)}\n`);
  process.exit(summary.failedRequests > 0 ? 1 : 0);
}
