import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createApiToken } from '../src/auth/api-tokens.repo.ts';
import { openPostgres, type DatabaseHandle } from '../src/db/client.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { createSecretBox } from '../src/lib/crypto.ts';
import { startTideway, stopTideway, type RunningTideway } from '../test/helpers/process.ts';

/** Shared pieces of the delivery benchmarks: a fresh Postgres database, Tideway as a process, latency maths. */

export interface BenchDeployment {
  url: string;
  handle: DatabaseHandle;
  secretKey: string;
  secrets: ReturnType<typeof createSecretBox>;
  publishToken: string;
  start(env?: Record<string, string>): Promise<RunningTideway>;
  close(): Promise<void>;
}

export async function benchDeployment(base = 'postgres://postgres@127.0.0.1:5432'): Promise<BenchDeployment> {
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  const name = `tideway_bench_${Date.now()}_${process.pid}`;
  await admin.query(`create database ${name}`);
  const url = `${base}/${name}`;
  const handle = openPostgres(url);
  await migrateToLatest(handle.db);
  const secretKey = randomBytes(32).toString('hex');
  const keyDir = mkdtempSync(join(tmpdir(), 'tideway-bench-'));
  const publishToken = (await createApiToken(handle.db, { name: 'bench', permissions: ['publish_events'] })).token;
  const running: RunningTideway[] = [];
  return {
    url,
    handle,
    secretKey,
    secrets: createSecretBox(secretKey),
    publishToken,
    async start(env = {}) {
      const server = await startTideway({
        DATABASE_URL: url,
        DATA_DIR: keyDir,
        SECRET_KEY: secretKey,
        ALLOW_PRIVATE_TARGETS: 'true',
        ...env,
      });
      running.push(server);
      return server;
    },
    async close() {
      for (const server of running) if (server.proc.exitCode === null) await stopTideway(server);
      await handle.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Posts `rate` events a second for `seconds` in small batches, and returns
 * when each event's ingest request was answered (ms since the epoch, by id).
 * Each event is about an order of its own, or one of `orders` in turn.
 */
export async function steadyIngest(
  baseUrl: string,
  token: string,
  rate: number,
  seconds: number,
  name = 'order.created',
  orders = Number.POSITIVE_INFINITY,
) {
  const answeredAt = new Map<string, number>();
  const tickMs = 10;
  const perTick = rate / (1000 / tickMs);
  const started = performance.now();
  let sent = 0;
  const inFlight: Promise<void>[] = [];
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate) - sent;
    if (due > 0) {
      const events = Array.from({ length: due }, (_, i) => ({
        id: randomUUID(),
        name,
        payload: { id: `o-${(sent + i) % orders}`, note: 'x'.repeat(300) },
      }));
      sent += due;
      inFlight.push(
        fetch(`${baseUrl}/api/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(events),
        }).then(async (response) => {
          await response.arrayBuffer();
          const at = Date.now();
          if (response.status === 202) for (const event of events) answeredAt.set(event.id, at);
        }),
      );
    }
    await Bun.sleep(Math.max(1, tickMs - perTick * 0));
  }
  await Promise.all(inFlight);
  return answeredAt;
}

/** A line of a results table. */
export function row(cells: (string | number)[], widths: number[]): string {
  return cells
    .map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]!) : String(cell).padStart(widths[i]!)))
    .join('  ');
}

/**
 * CPU seconds (user + system) used by processes whose command line contains
 * one of `patterns` (Linux /proc), summed per pattern, from now until
 * `stop()`: where a benchmark's time goes when the database, the target and
 * Tideway share the machine's cores. Samples every 200 ms so that processes
 * that exit meanwhile (autovacuum workers, closed connections) still count
 * up to their last sample.
 */
export function cpuMeter(patterns: Record<string, string>) {
  const last = new Map<string, { name: string; seconds: number }>();
  const sample = () => {
    for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
      let command: string;
      let stat: string;
      try {
        command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      const name = Object.keys(patterns).find((key) => command.includes(patterns[key]!));
      if (!name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
      last.set(pid, { name, seconds });
    }
  };
  sample();
  // Processes already running count from here; later ones from their start.
  const baseline = new Map([...last].map(([pid, { seconds }]) => [pid, seconds]));
  const timer = setInterval(sample, 200);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      sample();
      const totals: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((name) => [name, 0]));
      for (const [pid, { name, seconds }] of last) totals[name]! += seconds - (baseline.get(pid) ?? 0);
      return totals;
    },
  };
}
