/*
 * bench/soak.ts — Tideway under steady load while things go wrong (not CI).
 *
 *   bun bench/soak.ts [--minutes 10] [--rate 300]
 *
 * A PostgreSQL of its own; one web process and two worker processes; four
 * webhook integrations to receivers in a process of their own (healthy,
 * slow: 2 s, flapping: 503 10 s / 200 15 s, unauthorized: 401 for 4 s every
 * 150 s, which stops the integration until the soak starts it again) and
 * one S3 integration to s3rver (its own process, small batches). Meanwhile:
 * ingest at --rate events/s in batches of 10 from 4 clients, a short-lived
 * integration created → paused → resumed → edited → deleted every 5 s, a
 * worker SIGKILLed and replaced every 30 s, PostgreSQL crashed and
 * restarted once mid-run. Then, the receivers calm, it waits up to 3
 * minutes for everything accepted to arrive and prints what was lost (must
 * be 0), what came twice and whether that stays within what the killed
 * workers held, unrecorded attempts against their bound, latency, RSS, CPU
 * and every error and warn line logged (Tideway's and PostgreSQL's). Exit
 * code 0 when nothing is lost; every process's log is kept in
 * $TMPDIR/tideway-soak-logs-<start>.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { sql, type ExpressionBuilder } from 'kysely';
import { createApiToken } from '../src/auth/api-tokens.repo.ts';
import { openPostgres } from '../src/db/client.ts';
import type { Database } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { startOwnPostgres } from '../test/helpers/own-postgres.ts';
import { Output, ROOT } from '../test/helpers/process.ts';
import { Fleet } from './soak-fleet.ts';
import { Api, Churn, Ingest, Restarter } from './soak-load.ts';
import { Arrivals, cpuMeter, eventLoopLag, machineCpu, postgresLog, postgresPids, S3Objects } from './soak-observe.ts';
import { percentile } from './lib.ts';
import { printReport, revision, type Timeline } from './soak-report.ts';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '10' }, rate: { type: 'string', default: '300' } },
});
const RUN_MS = Number(values.minutes) * 60_000;
const RATE = Number(values.rate);
const DRAIN_MS = 180_000;
const KILL_EVERY_MS = 30_000;
const PG_DOWN_MS = 5_000;
const FIRST_401_MS = 20_000;
const EVERY_401_MS = 150_000;
const WINDOW_401_MS = 4_000;
// Short, so that the flapping integration's retries come back within the run; and 15 of them,
// not 10: kills (a 15 s lease) and the outage line retries up with the receiver's 503 half now
// and then, and with 10, one delivery in a 5-minute run needed its last.
const RETRY_SCHEDULE = '1,2,5,10,20,30,60,60,60,60,60,60,60,60,60';

/** The integrations whose deliveries are counted, and which events each wants (what its filter says). */
const S3_ID = 's3-lake';
const WATCHED: { id: string; filter?: { events?: string[]; entities?: string[] }; wants: (name: string) => boolean }[] =
  [
    { id: 'healthy', wants: () => true },
    { id: 'slow', filter: { events: ['order.cancelled'] }, wants: (name) => name === 'order.cancelled' },
    {
      id: 'flapping',
      filter: { entities: ['fulfillment_request'] },
      wants: (name) => name.startsWith('fulfillment_request.'),
    },
    {
      id: 'unauthorized',
      filter: { events: ['order.created', 'order.opened'] },
      wants: (name) => name === 'order.created' || name === 'order.opened',
    },
    {
      id: S3_ID,
      filter: { entities: ['order', 'inventory_transaction'] },
      wants: (name) => name.startsWith('order.') || name.startsWith('inventory_transaction.'),
    },
  ];

const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const sleepUntil = (at: number) => Bun.sleep(Math.max(0, at - Date.now()));

/** What to undo, last first, however the soak ends (it starts servers that outlive it otherwise). */
const cleanups: (() => unknown)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0)
    await Promise.resolve()
      .then(cleanups.pop()!)
      .catch((error) => console.error('cleanup:', error));
}

/** A helper process that prints `{"msg": ready, "port": …}` when it listens. */
async function helperProcess(script: string, ready: string, env: Record<string, string> = {}) {
  const proc = Bun.spawn(['bun', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: 'pipe',
    stderr: 'inherit',
  });
  cleanups.push(() => proc.kill());
  const out = new Output(proc.stdout);
  while (!out.logLines().some((line) => line.msg === ready)) {
    if (proc.exitCode !== null) throw new Error(`${script} exited with ${proc.exitCode}`);
    await Bun.sleep(20);
  }
  return { proc, url: `http://127.0.0.1:${out.logLines().find((line) => line.msg === ready)!.port}` };
}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** PostgreSQL, receivers, s3rver, the web process with the integrations, two workers. */
async function setUp() {
  const postgres = await startOwnPostgres();
  cleanups.push(() => postgres.destroy());
  const setup = openPostgres(postgres.url);
  await migrateToLatest(setup.db);
  const token = (await createApiToken(setup.db, { name: 'soak', permissions: ['publish_events', 'view_tools'] })).token;
  await setup.close();

  const dataDir = tempDir('tideway-soak-');
  const receiver = await helperProcess('bench/soak-receiver.ts', 'receiver listening');
  const s3rver = await helperProcess('bench/s3rver.ts', 's3rver listening', { DIR: tempDir('tideway-soak-s3-') });
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: s3rver.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'soak' }));

  const fleet = new Fleet(
    {
      DATABASE_URL: postgres.url,
      SECRET_KEY: randomBytes(32).toString('hex'),
      DATA_DIR: dataDir,
      ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_TIMEOUT_MS: '5000',
      WEBHOOK_RETRY_SCHEDULE: RETRY_SCHEDULE,
      S3_BATCH_MAX_BYTES: '200000',
      S3_BATCH_INTERVAL_MS: '2000',
      LOG_LEVEL: 'info',
    },
    token,
  );
  cleanups.push(() => fleet.killAll());
  const web = await fleet.start('web');
  const api = new Api(web.running.url, token);
  for (const integration of WATCHED) {
    const target =
      integration.id === S3_ID
        ? {
            s3_parameters: {
              aws_access_key_id: 'S3RVER',
              aws_secret_access_key: 'S3RVER',
              aws_region: 'us-east-1',
              bucket: 'soak',
              key_prefix: 'soak',
              endpoint: s3rver.url,
            },
          }
        : { callback_parameters: { callback_url: `${receiver.url}/${integration.id}` } };
    const created = await api.call('POST', '/api/v1/org/integrations/eventstream', {
      id: integration.id,
      integration_type: 'permanent',
      filter_conditions: integration.filter,
      ...target,
    });
    if (created.status !== 201)
      throw new Error(`creating ${integration.id}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
  }
  await Promise.all([fleet.start('worker'), fleet.start('worker')]);
  fleet.watch();
  return { postgres, receiver, s3rver, s3, fleet, api, token };
}
type Deployment = Awaited<ReturnType<typeof setUp>>;

/**
 * When things happen, in ms from the start of the load: a kill every 30 s;
 * the crash 12 s after the kill nearest the middle (a worker must not be
 * starting while the database is away); 401 windows every 150 s from 20 s,
 * moved off the outage (without deliveries nobody gets a 401).
 */
function schedule() {
  const crash = Math.max(12_000, Math.round((RUN_MS / 2 - 12_000) / KILL_EVERY_MS) * KILL_EVERY_MS + 12_000);
  const kills: number[] = [];
  for (let at = KILL_EVERY_MS; at < RUN_MS; at += KILL_EVERY_MS) kills.push(at);
  const windows: number[] = [];
  for (let at = FIRST_401_MS; at + WINDOW_401_MS < RUN_MS; at += EVERY_401_MS) {
    const moved = at > crash - 10_000 && at < crash + PG_DOWN_MS + 15_000 ? crash + PG_DOWN_MS + 15_000 : at;
    if (moved + WINDOW_401_MS < RUN_MS) windows.push(moved);
  }
  return { crash: crash < RUN_MS ? crash : undefined, kills, windows };
}

/** The receiver of "unauthorized" answers 401 for a few seconds now and then. */
async function unauthorizedWindows(d: Deployment, timeline: Timeline, refusing: { now: boolean }): Promise<void> {
  const control = (on: boolean) =>
    fetch(`${d.receiver.url}/__control`, { method: 'POST', body: JSON.stringify({ unauthorized: on }) });
  for (const offset of schedule().windows) {
    await sleepUntil(timeline.startedAt + offset);
    refusing.now = true;
    await control(true);
    await Bun.sleep(WINDOW_401_MS);
    await control(false);
    refusing.now = false;
    timeline.windows401.push([timeline.startedAt + offset, Date.now()]);
    log(`unauthorized: answered 401 for ${WINDOW_401_MS / 1000} s`);
  }
}

/** The kills (the oldest worker each time, so that the two alternate) and the crash, one after the other. */
async function killsAndCrash(d: Deployment, timeline: Timeline): Promise<void> {
  const { crash, kills } = schedule();
  const plan = [
    ...kills.map((at) => ({ at, crash: false })),
    ...(crash === undefined ? [] : [{ at: crash, crash: true }]),
  ].sort((a, b) => a.at - b.at);
  for (const step of plan) {
    await sleepUntil(timeline.startedAt + step.at);
    if (step.crash) {
      const crashAt = Date.now();
      await d.postgres.crash();
      log('PostgreSQL crashed');
      await Bun.sleep(PG_DOWN_MS);
      await d.postgres.start();
      timeline.outage = { crashAt, backAt: Date.now() };
      log(`PostgreSQL back after ${((Date.now() - crashAt) / 1000).toFixed(1)} s`);
      continue;
    }
    const victim = d.fleet.workers()[0]!;
    await d.fleet.kill(victim);
    const replacement = await d.fleet.start('worker');
    timeline.kills.push({ at: victim.killedAt!, worker: victim.label, replacedBy: replacement.label });
    log(`killed ${victim.label}, started ${replacement.label}`);
  }
}

/** Accepted events each integration wanted and has not got (yet). */
function missingOf(ingest: Ingest, arrivals: Arrivals, objects: S3Objects): Map<string, string[]> {
  const result = new Map<string, string[]>(WATCHED.map((integration) => [integration.id, []]));
  for (const [id, [name]] of ingest.accepted) {
    for (const integration of WATCHED) {
      if (!integration.wants(name)) continue;
      const got = integration.id === S3_ID ? objects.ids.has(id) : arrivals.of(integration.id).has(id);
      if (!got) result.get(integration.id)!.push(id);
    }
  }
  return result;
}

/** A delivery to look up in the database at the end: the slowest of each webhook integration, and lost ones. */
interface Traced {
  why: string;
  integration: string;
  id: string;
  answeredAt: number;
}

/** Per webhook integration, the accepted event that took longest to arrive; and up to 5 lost per integration. */
function toTrace(ingest: Ingest, arrivals: Arrivals, missing: Map<string, string[]>): Traced[] {
  const traced: Traced[] = [];
  for (const integration of WATCHED.filter((candidate) => candidate.id !== S3_ID)) {
    let slowest: Traced | undefined;
    let slowestMs = -Infinity;
    for (const [id, seen] of arrivals.of(integration.id)) {
      const answeredAt = ingest.accepted.get(id)?.[1];
      if (answeredAt === undefined || seen.first - answeredAt <= slowestMs) continue;
      slowestMs = seen.first - answeredAt;
      slowest = { why: `slowest, ${(slowestMs / 1000).toFixed(1)} s`, integration: integration.id, id, answeredAt };
    }
    if (slowest) traced.push(slowest);
  }
  for (const [integration, ids] of missing) {
    for (const id of ids.slice(0, 5))
      traced.push({ why: 'LOST', integration, id, answeredAt: ingest.accepted.get(id)![1] });
  }
  return traced;
}

/**
 * What the database says: each watched integration's deliveries by status
 * (tells a failure — retries used up — from a loss), the unauthorized
 * integration's stops, and the row and attempts of each traced delivery.
 */
async function diagnose(url: string, traced: Traced[]) {
  const check = openPostgres(url);
  const since = (at: Date | null, answeredAt: number) =>
    at ? `+${((at.getTime() - answeredAt) / 1000).toFixed(1)} s` : '-';
  try {
    const pairs = (eb: ExpressionBuilder<Database, 'deliveries' | 'delivery_attempts'>) =>
      eb.or(
        traced.map((trace) => eb.and([eb('integration_id', '=', trace.integration), eb('event_id', '=', trace.id)])),
      );
    const attempts =
      traced.length === 0
        ? []
        : await check.db
            .selectFrom('delivery_attempts')
            .select(['integration_id', 'event_id', 'attempted_at', 'status_code', 'error_class'])
            .where(pairs)
            .orderBy('attempted_at')
            .execute();
    const deliveries =
      traced.length === 0 ? [] : await check.db.selectFrom('deliveries').selectAll().where(pairs).execute();
    const { rows: statuses } = await sql<{ integration_id: string; status: string; n: string }>`
      select integration_id, status, count(*) as n from deliveries where integration_id in (${sql.join(WATCHED.map((integration) => integration.id))}) group by 1, 2`.execute(
      check.db,
    );
    const { rows: flapping } = await sql<{ attempts: number; n: string }>`
      select attempts, count(*) as n from deliveries where integration_id = 'flapping' group by 1 order by 1`.execute(
      check.db,
    );
    const { rows: stops } = await sql<{ reason: string; n: string }>`
      select reason, count(*) as n from integration_logs where integration_id = 'unauthorized' and action = 'stopped' group by 1`.execute(
      check.db,
    );
    return {
      dbStatuses: statuses.map((row): [string, string, number] => [row.integration_id, row.status, Number(row.n)]),
      unauthorizedStops: stops.map((row): [string, number] => [row.reason, Number(row.n)]),
      flappingAttempts: flapping.map((row): [number, number] => [row.attempts, Number(row.n)]),
      traces: traced.map((trace) => {
        const row = deliveries.find(
          (delivery) => delivery.integration_id === trace.integration && delivery.event_id === trace.id,
        );
        const tried = attempts.filter(
          (attempt) => attempt.integration_id === trace.integration && attempt.event_id === trace.id,
        );
        const state = row
          ? `${row.status}, ${row.attempts} attempts, next ${since(row.next_attempt_at, trace.answeredAt)}, lease ${row.lease_owner ?? 'none'} until ${since(row.lease_expires_at, trace.answeredAt)}${row.batch_id ? `, batch ${row.batch_id}` : ''}`
          : 'no delivery row';
        return `${trace.integration} ${trace.id} (${trace.why}; times from its 202): ${state}; attempts: ${tried.map((attempt) => `${since(attempt.attempted_at, trace.answeredAt)} ${attempt.status_code ?? attempt.error_class}`).join(', ') || 'none'}`;
      }),
    };
  } finally {
    await check.close();
  }
}

/** Until nothing is missing or `deadline`: reads what arrived, every 2 s, and says what is still missing every 15 s. */
async function drain(
  missing: () => Map<string, string[]>,
  pull: () => Promise<unknown>,
  deadline: number,
): Promise<void> {
  let lastReport = Date.now();
  for (;;) {
    await pull();
    const left = [...missing()].filter(([, ids]) => ids.length > 0);
    if (left.length === 0 || Date.now() > deadline) return;
    if (Date.now() - lastReport > 15_000) {
      log(`still missing: ${left.map(([id, ids]) => `${id} ${ids.length}`).join(', ')}`);
      lastReport = Date.now();
    }
    await Bun.sleep(2_000);
  }
}

/** How long /metrics takes with the load gone (median of 5): its database part, without a busy event loop. */
async function idleScrapeMs(d: Deployment, token: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await (
      await fetch(`${d.fleet.workers()[0]!.running.metricsUrl}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).text();
    times.push(performance.now() - started);
  }
  return percentile(times, 50);
}

async function soak(): Promise<number> {
  const revisionAtStart = revision();
  const d = await setUp();
  const timeline: Timeline = { startedAt: Date.now(), loadStoppedAt: 0, drainedAt: 0, kills: [], windows401: [] };
  const lag = eventLoopLag();
  const machine = machineCpu();
  const cpu = cpuMeter(() => ({
    web: [d.fleet.web.running.proc.pid],
    workers: d.fleet.instances
      .filter((instance) => instance.role === 'worker')
      .map((instance) => instance.running.proc.pid),
    postgres: postgresPids(d.postgres.port),
    s3rver: [d.s3rver.proc.pid],
    receivers: [d.receiver.proc.pid],
    soak: [process.pid],
  }));
  const arrivals = new Arrivals(d.receiver.url);
  const objects = new S3Objects(d.s3, 'soak');
  const refusing = { now: false };
  const ingest = new Ingest(d.api, RATE);
  const churn = new Churn(d.api, d.receiver.url);
  const restarter = new Restarter(d.api, 'unauthorized', () => refusing.now);
  // Pulled as they come, so that the drain at the end has little left to read.
  const pullers = [
    setInterval(() => void arrivals.pull().catch(() => {}), 2_000),
    setInterval(() => void objects.pull().catch(() => {}), 10_000),
  ];
  log(`load: ${RATE} events/s in batches of 10 from 4 clients for ${RUN_MS / 60_000} min`);
  await Promise.all([
    unauthorizedWindows(d, timeline, refusing),
    killsAndCrash(d, timeline),
    sleepUntil(timeline.startedAt + RUN_MS),
  ]);

  await Promise.all([ingest.stop(), churn.stop()]);
  timeline.loadStoppedAt = Date.now();
  const cpuUnderLoad = { groups: cpu.stop(), machineBusy: machine.busy() };
  for (const timer of pullers) clearInterval(timer);
  // The receivers' troubles end with the load, so that what waits for a retry arrives at its next attempt.
  await fetch(`${d.receiver.url}/__control`, {
    method: 'POST',
    body: JSON.stringify({ unauthorized: false, flapping: false }),
  });
  log(`load stopped: ${ingest.accepted.size} events accepted; waiting up to ${DRAIN_MS / 1000} s for every delivery`);
  await drain(
    () => missingOf(ingest, arrivals, objects),
    () => Promise.all([arrivals.pull(), objects.pull(), restarter.check()]),
    timeline.loadStoppedAt + DRAIN_MS,
  );
  timeline.drainedAt = Date.now();
  restarter.stop();
  lag.stop();
  const database = await diagnose(d.postgres.url, toTrace(ingest, arrivals, missingOf(ingest, arrivals, objects)));
  const idleScrape = await idleScrapeMs(d, d.token);
  await d.fleet.stopAll();
  const logDir = join(tmpdir(), `tideway-soak-logs-${timeline.startedAt}`);
  d.fleet.saveLogs(logDir);
  const pgLog = postgresLog(d.postgres.port);
  writeFileSync(join(logDir, 'postgres.log'), pgLog);
  // [answered at, ms to the healthy receiver] per accepted event: latency over time, for a closer look.
  const healthy = arrivals.of('healthy');
  writeFileSync(
    join(logDir, 'healthy-latency.json'),
    JSON.stringify(
      [...ingest.accepted].flatMap(([id, [, at]]) => (healthy.has(id) ? [[at, healthy.get(id)!.first - at]] : [])),
    ),
  );

  const lost = printReport({
    revisionAtStart,
    runMs: RUN_MS,
    retries: RETRY_SCHEDULE.split(',').length,
    rate: RATE,
    timeline,
    fleet: d.fleet,
    ingest,
    api503: d.api.answers503,
    churn,
    restarter,
    ...database,
    watched: WATCHED,
    s3Id: S3_ID,
    missing: missingOf(ingest, arrivals, objects),
    arrivals,
    objects,
    lags: lag.lags,
    cpu: cpuUnderLoad,
    pgLog,
    idleScrapeMs: idleScrape,
  });
  console.log(`\nevery process's log: ${logDir}`);
  return lost === 0 ? 0 : 1;
}

process.on('SIGINT', () => void cleanUp().then(() => process.exit(130)));
const code = await soak().catch((error) => {
  console.error(error);
  return 2;
});
await cleanUp();
process.exit(code);
