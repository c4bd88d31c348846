import { percentile, row } from './lib.ts';
import { held, type Fleet, type Instance } from './soak-fleet.ts';
import type { Churn, Ingest, Restarter } from './soak-load.ts';
import type { Arrivals, S3Objects } from './soak-observe.ts';

/* The results table of bench/soak.ts. */

export interface Timeline {
  startedAt: number;
  loadStoppedAt: number;
  drainedAt: number;
  kills: { at: number; worker: string; replacedBy: string }[];
  outage?: { crashAt: number; backAt: number };
  windows401: [number, number][];
}

export interface SoakResults {
  revisionAtStart: string;
  runMs: number;
  /** WEBHOOK_RETRY_SCHEDULE's length. */
  retries: number;
  rate: number;
  timeline: Timeline;
  fleet: Fleet;
  ingest: Ingest;
  api503: number;
  churn: Churn;
  restarter: Restarter;
  unauthorizedStops: [reason: string, count: number][];
  dbStatuses: [integration: string, status: string, count: number][];
  /** The flapping integration's deliveries by how many attempts they took (or have had). */
  flappingAttempts: [attempts: number, count: number][];
  watched: { id: string; wants: (name: string) => boolean }[];
  s3Id: string;
  /** The slowest delivery of each webhook integration and the lost ones, as the database has them. */
  traces: string[];
  missing: Map<string, string[]>;
  arrivals: Arrivals;
  objects: S3Objects;
  lags: number[];
  /** CPU seconds per group of the soak's processes while the load ran, and the machine's busy share. */
  cpu: { groups: Record<string, number>; machineBusy: number };
  /** The soak's PostgreSQL's own log. */
  pgLog: string;
  /** A worker's /metrics after the drain, median ms. */
  idleScrapeMs: number;
}

const DELIVERY_CONCURRENCY = 256;
const OUTAGE_BEFORE_MS = 2_000;
const OUTAGE_AFTER_MS = 10_000;
const KILL_AROUND_MS = 5_000;

const title = (text: string) => console.log(`\n${text}\n${'-'.repeat(text.length)}`);
const seconds = (at: number, r: SoakResults) => ((at - r.timeline.startedAt) / 1000).toFixed(1);
const mib = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));

/** Which Tideway was measured: the commit, and whether src/ differed from it (read-only git commands). */
export function revision(): string {
  const git = (...args: string[]) =>
    Bun.spawnSync(['git', ...args], { cwd: `${import.meta.dir}/..` })
      .stdout.toString()
      .trim();
  return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', 'src', 'migrations') ? ' + uncommitted changes in src/' : ''}`;
}

/** Prints every section; returns how many wanted events never arrived. */
export function printReport(r: SoakResults): number {
  const now = revision();
  // Workers are started all along: a change to src/ meanwhile is run by the later ones.
  console.log(
    `\nsoak of Tideway ${r.revisionAtStart === now ? now : `${r.revisionAtStart} (at the start) → ${now} (at the end)`}: ${(r.runMs / 60_000).toFixed(1)} min, ${r.rate} events/s offered (batches of 10, 4 clients), own PostgreSQL 15, 1 web + 2 worker processes, receivers and s3rver in processes of their own`,
  );
  console.log(
    `kills: ${r.timeline.kills.map((kill) => `${seconds(kill.at, r)} s`).join(', ') || 'none'}; PostgreSQL down ${r.timeline.outage ? `${seconds(r.timeline.outage.crashAt, r)}–${seconds(r.timeline.outage.backAt, r)} s` : 'never'}; 401 windows at ${r.timeline.windows401.map(([from]) => `${seconds(from, r)} s`).join(', ') || 'none'}; drained ${((r.timeline.drainedAt - r.timeline.loadStoppedAt) / 1000).toFixed(1)} s after the load stopped`,
  );
  ingestSection(r);
  const lost = deliverySection(r);
  duplicatesSection(r);
  latencySection(r);
  rssSection(r);
  cpuSection(r);
  controlSection(r);
  logSection(r);
  return lost;
}

function ingestSection(r: SoakResults) {
  title('ingest (POST /api/v1/events)');
  const widths = [34, 10];
  const runSeconds = (r.timeline.loadStoppedAt - r.timeline.startedAt) / 1000;
  console.log(row(['requests', r.ingest.requests], widths));
  console.log(row(['accepted events (202)', r.ingest.accepted.size], widths));
  console.log(row(['accepted events/s over the run', (r.ingest.accepted.size / runSeconds).toFixed(0)], widths));
  if (r.timeline.outage) {
    // Outside the outage and the 503 retries after it: what Tideway sustains.
    const from = r.timeline.outage.crashAt - OUTAGE_BEFORE_MS;
    const to = r.timeline.outage.backAt + OUTAGE_AFTER_MS;
    const outside = [...r.ingest.accepted.values()].filter(([, at]) => at < from || at > to).length;
    console.log(
      row(['accepted events/s outside PG outage', (outside / (runSeconds - (to - from) / 1000)).toFixed(0)], widths),
    );
  }
  console.log(row(['503 answers (retried, same ids)', r.ingest.answers503], widths));
  console.log(
    row(
      [
        'other non-202 answers',
        Object.entries(r.ingest.other)
          .map(([status, n]) => `${status}: ${n}`)
          .join(', ') || 0,
      ],
      widths,
    ),
  );
}

function duplicatesOf(r: SoakResults, id: string): number {
  if (id === r.s3Id) return [...r.objects.ids.values()].reduce((sum, n) => sum + n - 1, 0);
  return [...r.arrivals.of(id).values()].reduce((sum, seen) => sum + seen.count - 1, 0);
}

function deliverySection(r: SoakResults): number {
  title('deliveries per integration');
  const widths = [14, 9, 10, 6, 11, 30];
  console.log(row(['integration', 'wanted', 'delivered', 'lost', 'duplicates', 'database: status → count'], widths));
  let lostTotal = 0;
  for (const integration of r.watched) {
    const accepted = new Set([...r.ingest.accepted].filter(([, [name]]) => integration.wants(name)).map(([id]) => id));
    const got = integration.id === r.s3Id ? r.objects.ids : r.arrivals.of(integration.id);
    const delivered = [...got.keys()].filter((id) => accepted.has(id)).length;
    const lost = r.missing.get(integration.id)!.length;
    lostTotal += lost;
    const db = r.dbStatuses
      .filter(([id]) => id === integration.id)
      .map(([, status, n]) => `${status} ${n}`)
      .join(', ');
    console.log(row([integration.id, accepted.size, delivered, lost, duplicatesOf(r, integration.id), db], widths));
  }
  console.log(
    `s3: ${r.objects.keys.size} objects${r.objects.badLines ? `, ${r.objects.badLines} lines not JSON` : ''}; churn receivers got ${r.arrivals.of('churn').size} distinct events (not counted)`,
  );
  console.log(
    `flapping deliveries by attempts made: ${r.flappingAttempts.map(([attempts, n]) => `${attempts}: ${n}`).join(', ')} (the schedule allows 1 + ${r.retries})`,
  );
  for (const [id, ids] of r.missing)
    if (ids.length > 0) console.log(`LOST ${id}: ${ids.length}, e.g. ${ids.slice(0, 5).join(', ')}`);
  return lostTotal;
}

/** The last scrape of `instance` at or before `at`. */
const lastBefore = (instance: Instance, at: number) => instance.scrapes.filter((scrape) => scrape.at <= at).at(-1);

function duplicatesSection(r: SoakResults) {
  title('duplicates against what was leased (inflight + unrecorded + claimed waiting, last scrape before)');
  const widths = [24, 10, 8, 10, 10, 8, 12];
  console.log(row(['event', 'at s', 'held', 'inflight', 'unrecorded', 'waiting', 'scrape age ms'], widths));
  let killed = 0;
  for (const kill of r.timeline.kills) {
    const instance = r.fleet.instances.find((candidate) => candidate.label === kill.worker)!;
    const scrape = lastBefore(instance, kill.at);
    killed += held(scrape);
    console.log(
      row(
        [
          `SIGKILL ${kill.worker}`,
          seconds(kill.at, r),
          held(scrape),
          scrape?.inflight ?? '-',
          scrape?.unrecorded ?? '-',
          scrape?.waiting ?? '-',
          scrape ? kill.at - scrape.at : '-',
        ],
        widths,
      ),
    );
  }
  let crash = 0;
  if (r.timeline.outage) {
    const { crashAt, backAt } = r.timeline.outage;
    const alive = r.fleet.instances.filter(
      (instance) =>
        instance.role === 'worker' && instance.startedAt < crashAt && (instance.killedAt ?? Infinity) > backAt,
    );
    const before = alive.reduce((sum, instance) => sum + held(lastBefore(instance, crashAt)), 0);
    const after = alive.reduce(
      (sum, instance) =>
        sum +
        Math.max(
          0,
          ...instance.scrapes.filter((scrape) => scrape.at >= backAt && scrape.at <= backAt + 15_000).map(held),
        ),
      0,
    );
    crash = Math.max(before, after);
    console.log(
      row(['PostgreSQL crash', seconds(crashAt, r), before, '', '', '', `max ${after} in 15 s after`], widths),
    );
  }
  const webhookDuplicates = r.watched
    .filter((integration) => integration.id !== r.s3Id)
    .reduce((sum, integration) => sum + duplicatesOf(r, integration.id), 0);
  const verdict = webhookDuplicates <= killed + crash ? 'within' : 'BEYOND';
  console.log(
    `held at kills ${killed} + around the crash ${crash} = ${killed + crash}; webhook duplicates ${webhookDuplicates}: ${verdict} what was leased (S3 duplicates ${duplicatesOf(r, r.s3Id)}: must be 0, a batch is sealed before upload)`,
  );

  const scrapes = r.fleet.instances.flatMap((instance) => instance.scrapes);
  const maxUnrecorded = Math.max(0, ...scrapes.map((scrape) => scrape.unrecorded));
  const maxPeak = Math.max(0, ...scrapes.map((scrape) => scrape.peak));
  const bound = 2 * DELIVERY_CONCURRENCY;
  // When each worker's peak was reached: to line it up with kills, the crash or a deadlock.
  const peaks = r.fleet.instances
    .map((instance) => ({ instance, peak: Math.max(0, ...instance.scrapes.map((scrape) => scrape.peak)) }))
    .filter(({ peak }) => peak >= maxPeak / 2 && peak > 0)
    .map(
      ({ instance, peak }) =>
        `${instance.label} ${peak} by ${seconds(instance.scrapes.find((scrape) => scrape.peak === peak)!.at, r)} s`,
    );
  console.log(
    `max unrecorded attempts: ${maxUnrecorded} (gauge), ${maxPeak} (peak gauge) — bound 2 × DELIVERY_CONCURRENCY = ${bound}: ${Math.max(maxUnrecorded, maxPeak) <= bound ? 'within' : 'EXCEEDED'}; peaks: ${peaks.join(', ')}`,
  );
  const scrapeMs = r.fleet.instances.flatMap((instance) => instance.scrapeMs);
  const failures = r.fleet.instances.reduce((sum, instance) => sum + instance.scrapeFailures, 0);
  console.log(
    `scrapes: ${scrapes.length} ok, ${failures} failed (the page needs the database); p50 ${percentile(scrapeMs, 50).toFixed(0)} ms, p99 ${percentile(scrapeMs, 99).toFixed(0)} ms under load, ${r.idleScrapeMs.toFixed(0)} ms after the drain`,
  );
}

function latencySection(r: SoakResults) {
  title('healthy: ms from the 202 answer to arrival at the receiver (first arrival)');
  const excluded = (at: number) =>
    (r.timeline.outage !== undefined &&
      at >= r.timeline.outage.crashAt - OUTAGE_BEFORE_MS &&
      at <= r.timeline.outage.backAt + OUTAGE_AFTER_MS) ||
    r.timeline.kills.some((kill) => Math.abs(at - kill.at) <= KILL_AROUND_MS);
  const all: number[] = [];
  const steady: number[] = [];
  const healthy = r.arrivals.of('healthy');
  for (const [id, [, answeredAt]] of r.ingest.accepted) {
    const seen = healthy.get(id);
    if (!seen) continue;
    all.push(seen.first - answeredAt);
    if (!excluded(answeredAt)) steady.push(seen.first - answeredAt);
  }
  const widths = [48, 9, 8, 8, 8, 9];
  console.log(row(['', 'events', 'p50', 'p90', 'p99', 'max'], widths));
  for (const [label, values] of [
    ['unfiltered', all],
    [
      `excluding PG down −${OUTAGE_BEFORE_MS / 1000} s…+${OUTAGE_AFTER_MS / 1000} s, kills ±${KILL_AROUND_MS / 1000} s`,
      steady,
    ],
  ] as const) {
    console.log(
      row(
        [
          label,
          values.length,
          percentile(values, 50),
          percentile(values, 90),
          percentile(values, 99),
          Math.max(...values),
        ],
        widths,
      ),
    );
  }
  console.log(
    `(exclusion by the time the 202 was answered; soak process event-loop lag p99 ${percentile(r.lags, 99).toFixed(0)} ms, max ${Math.max(...r.lags).toFixed(0)} ms)`,
  );
  title('traced deliveries: the slowest per webhook integration, and lost ones (their rows and attempts)');
  for (const trace of r.traces) console.log(trace);
}

function rssSection(r: SoakResults) {
  title('RSS MiB (/proc VmRSS, every 5 s)');
  const widths = [12, 8, 10, 10, 8, 8, 40];
  console.log(row(['process', 'start', 'end', 'max', 'from s', 'to s', 'exit'], widths));
  const lines = r.fleet.logLines();
  for (const instance of r.fleet.instances) {
    const samples = instance.rss.map((sample) => sample.mib);
    const shutdown = lines.find(
      ({ instance: label, line }) => label === instance.label && line.msg === 'shutting down',
    )?.line;
    const told = shutdown
      ? `, on ${String(shutdown.signal)} at ${seconds(Date.parse(String(shutdown.time)), r)} s`
      : '';
    const exit = instance.killedAt
      ? 'SIGKILL (by the soak)'
      : instance.diedAt
        ? `EXITED unasked (${instance.exitCode}${told})`
        : `code ${instance.exitCode}${told}`;
    console.log(
      row(
        [
          instance.label,
          mib(samples[0]),
          mib(samples.at(-1)),
          mib(Math.max(...samples)),
          seconds(instance.startedAt, r),
          seconds(instance.killedAt ?? instance.rss.at(-1)?.at ?? 0, r),
          exit,
        ],
        widths,
      ),
    );
  }
  const load = r.fleet.web.rss.filter((sample) => sample.at <= r.timeline.loadStoppedAt).map((sample) => sample.mib);
  const third = Math.max(1, Math.floor(load.length / 3));
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const first = mean(load.slice(0, third));
  const last = mean(load.slice(-third));
  console.log(
    `web under load: first third ${first.toFixed(0)} MiB, last third ${last.toFixed(0)} MiB (${last - first >= 0 ? '+' : ''}${(last - first).toFixed(0)}): ${last - first > 0.1 * first ? 'rising' : 'no clear upward trend'}`,
  );
}

function cpuSection(r: SoakResults) {
  title("CPU while the load ran (the soak's own processes, /proc)");
  const loadSeconds = (r.timeline.loadStoppedAt - r.timeline.startedAt) / 1000;
  const groups = Object.entries(r.cpu.groups);
  const widths = [12, 10, 14];
  console.log(row(['', 'CPU s', '% of one core'], widths));
  for (const [group, cpuSeconds] of [
    ...groups,
    ['total', groups.reduce((sum, [, value]) => sum + value, 0)] as const,
  ]) {
    console.log(row([group, cpuSeconds.toFixed(1), ((cpuSeconds / loadSeconds) * 100).toFixed(0)], widths));
  }
  console.log(
    `machine: ${(r.cpu.machineBusy * 100).toFixed(0)}% busy over ${navigator.hardwareConcurrency} cores (anything else running included)`,
  );
}

function controlSection(r: SoakResults) {
  title('configuration API');
  const ops = Object.entries(r.churn.ok)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
  console.log(`churn: ${r.churn.created} integrations; succeeded: ${ops}; failed: ${r.churn.failures.length}`);
  for (const failure of r.churn.failures.slice(0, 10)) console.log(`  ${failure}`);
  console.log(`API 503 answers retried (churn, restarts): ${r.api503}`);
  console.log(
    `unauthorized: stopped by Tideway ${r.unauthorizedStops.map(([reason, n]) => `${n}× "${reason}"`).join(', ') || 'never'}; restarted by the soak ${r.restarter.restarts}×${r.restarter.failures.length ? `; restart failures: ${r.restarter.failures.join('; ')}` : ''}`,
  );
  console.log(
    `receiver answers: ${Object.entries(r.arrivals.answers)
      .sort()
      .map(([key, n]) => `${key}: ${n}`)
      .join(', ')}`,
  );
}

function logSection(r: SoakResults) {
  const lines = r.fleet.logLines();
  for (const level of ['error', 'warn']) {
    title(`${level} lines logged`);
    const byMessage = new Map<string, { count: number; instances: Set<string>; example: string }>();
    for (const { instance, line } of lines.filter(({ line }) => line.level === level)) {
      const message = String(line.msg);
      const entry = byMessage.get(message) ?? {
        count: 0,
        instances: new Set(),
        example: JSON.stringify(line).slice(0, 400),
      };
      entry.count++;
      entry.instances.add(instance);
      byMessage.set(message, entry);
    }
    if (byMessage.size === 0) console.log('none');
    for (const [message, entry] of [...byMessage].sort((a, b) => b[1].count - a[1].count)) {
      console.log(row([message, entry.count, [...entry.instances].join(' ')], [64, 6, 40]));
      if (level === 'error') console.log(`    e.g. ${entry.example}`);
    }
  }
  postgresSection(r);
  for (const instance of r.fleet.instances) {
    // The first start prints the generated admin password: expected, and not worth repeating.
    const text = instance.running.stderr.text.replace(/Created the first admin\.[\s\S]*?keep it safe\.\n?/, '').trim();
    if (text !== '') console.log(`stderr of ${instance.label}: ${text.slice(0, 600)}`);
  }
}

/** PostgreSQL's ERROR lines by message (the crash's FATALs are expected), and the first deadlock's report in full. */
function postgresSection(r: SoakResults) {
  title('PostgreSQL ERROR lines (its own log)');
  const entries = r.pgLog.split(/\n(?=\d{4}-\d\d-\d\d )/);
  const errors = new Map<string, string[]>();
  for (const entry of entries) {
    const message = /\] ERROR:\s+(.*)/.exec(entry)?.[1];
    const at = Date.parse(`${entry.slice(0, 23).replace(' ', 'T')}Z`);
    if (message) errors.set(message, [...(errors.get(message) ?? []), `${seconds(at, r)} s`]);
  }
  if (errors.size === 0) console.log('none');
  for (const [message, times] of errors)
    console.log(`${row([message, times.length], [40, 6])}  at ${times.slice(0, 12).join(', ')}`);
  const deadlock = entries.findIndex((entry) => entry.includes('ERROR:  deadlock detected'));
  if (deadlock >= 0)
    console.log(
      `first deadlock, as logged:\n${entries
        .slice(deadlock, deadlock + 4)
        .join('\n')
        .replace(/[ \t]+/g, ' ')
        .slice(0, 2_500)}`,
    );
}
