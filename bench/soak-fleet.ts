import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTideway, type RunningTideway } from '../test/helpers/process.ts';

/*
 * The Tideway processes of bench/soak.ts: one web process and two workers
 * that are killed and replaced, each watched from outside — its /metrics
 * (workers, every 500 ms), its RSS (/proc, every 5 s) and its log lines —
 * so that what a killed worker held, and what it logged up to its death,
 * is still there to report.
 */

/** One scrape of a worker's delivery gauges. */
export interface Scrape {
  at: number;
  inflight: number;
  unrecorded: number;
  peak: number;
  waiting: number;
}

export interface Instance {
  label: string;
  role: 'web' | 'worker';
  running: RunningTideway;
  startedAt: number;
  killedAt?: number;
  /** When it was found to have exited without being told to (a bug). */
  diedAt?: number;
  exitCode?: number | null;
  rss: { at: number; mib: number }[];
  scrapes: Scrape[];
  scrapeFailures: number;
  scrapeMs: number[];
}

export const held = (scrape: Scrape | undefined) => (scrape ? scrape.inflight + scrape.unrecorded + scrape.waiting : 0);

/** The gauges of a Prometheus text page, by name (unlabelled series only). */
export function parseGauges(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+) (\S+)$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

function rssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined; // exited meanwhile
  }
}

export class Fleet {
  readonly instances: Instance[] = [];
  #timers: ReturnType<typeof setInterval>[] = [];
  #workerCount = 0;

  constructor(
    private readonly env: Record<string, string>,
    private readonly token: string,
  ) {}

  get web(): Instance {
    return this.instances.find((instance) => instance.role === 'web')!;
  }

  /** Workers alive now, oldest first. */
  workers(): Instance[] {
    return this.instances.filter(
      (instance) => instance.role === 'worker' && instance.killedAt === undefined && instance.exitCode === undefined,
    );
  }

  async start(role: 'web' | 'worker'): Promise<Instance> {
    const running = await startTideway(this.env, 45_000, ['--role', role]);
    const instance: Instance = {
      label: role === 'web' ? 'web' : `worker-${++this.#workerCount}`,
      role,
      running,
      startedAt: Date.now(),
      rss: [],
      scrapes: [],
      scrapeFailures: 0,
      scrapeMs: [],
    };
    this.instances.push(instance);
    this.#sampleRss(instance);
    return instance;
  }

  /** SIGKILL, after one last scrape so that what it held is as fresh as can be. */
  async kill(instance: Instance): Promise<void> {
    await this.#scrape(instance);
    this.#sampleRss(instance);
    instance.killedAt = Date.now();
    instance.running.proc.kill('SIGKILL');
    instance.exitCode = await instance.running.proc.exited;
  }

  /** Scrapes every live worker every 500 ms and samples every RSS every 5 s. */
  watch(): void {
    const busy = new Set<Instance>();
    this.#timers.push(
      setInterval(() => {
        for (const worker of this.workers()) {
          if (busy.has(worker)) continue; // the last scrape has not answered yet (a database outage)
          busy.add(worker);
          void this.#scrape(worker).finally(() => busy.delete(worker));
        }
      }, 500),
      setInterval(() => {
        for (const instance of this.instances.filter((candidate) => candidate.exitCode === undefined)) {
          if (instance.running.proc.exitCode !== null && instance.killedAt === undefined) {
            instance.diedAt = Date.now();
            instance.exitCode = instance.running.proc.exitCode;
          } else this.#sampleRss(instance);
        }
      }, 5_000),
    );
  }

  /** SIGTERM to everything still running; the exit codes are kept on the instances. */
  async stopAll(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    const live = this.instances.filter((instance) => instance.exitCode === undefined);
    for (const instance of live) this.#sampleRss(instance);
    await Promise.all(
      live.map(async (instance) => {
        instance.running.proc.kill('SIGTERM');
        const timeout = Bun.sleep(30_000).then(() => 'timeout' as const);
        const code = await Promise.race([instance.running.proc.exited, timeout]);
        if (code === 'timeout') instance.running.proc.kill('SIGKILL');
        instance.exitCode = code === 'timeout' ? null : code;
      }),
    );
    // Let the pipes deliver the last lines.
    await Promise.all(
      this.instances.map((instance) => Promise.race([instance.running.stdout.closed, Bun.sleep(2_000)])),
    );
  }

  /** For a soak that failed: SIGKILL whatever still runs. */
  killAll(): void {
    for (const timer of this.#timers) clearInterval(timer);
    for (const instance of this.instances)
      if (instance.running.proc.exitCode === null) instance.running.proc.kill('SIGKILL');
  }

  /** Writes each process's stdout and stderr into `dir` (LABEL.log, LABEL.stderr; workers' scrapes as LABEL.scrapes.json), for a closer look. */
  saveLogs(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const instance of this.instances) {
      writeFileSync(join(dir, `${instance.label}.log`), instance.running.stdout.text);
      writeFileSync(join(dir, `${instance.label}.stderr`), instance.running.stderr.text);
      if (instance.role === 'worker')
        writeFileSync(join(dir, `${instance.label}.scrapes.json`), JSON.stringify(instance.scrapes));
    }
  }

  /** Every log line of every process, parsed; a line cut short by SIGKILL is skipped. */
  logLines(): { instance: string; line: Record<string, unknown> }[] {
    return this.instances.flatMap((instance) =>
      instance.running.stdout.text.split('\n').flatMap((text) => {
        if (!text.startsWith('{')) return [];
        try {
          return [{ instance: instance.label, line: JSON.parse(text) as Record<string, unknown> }];
        } catch {
          return [];
        }
      }),
    );
  }

  async #scrape(worker: Instance): Promise<void> {
    const started = performance.now();
    try {
      const response = await fetch(`${worker.running.metricsUrl}/metrics`, {
        headers: { authorization: `Bearer ${this.token}` },
        signal: AbortSignal.timeout(3_000),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const gauges = parseGauges(text);
      const value = (name: string) => gauges.get(name) ?? 0;
      worker.scrapes.push({
        at: Date.now(),
        inflight: value('tideway_webhook_inflight'),
        unrecorded: value('tideway_webhook_unrecorded_attempts'),
        peak: value('tideway_webhook_unrecorded_attempts_peak'),
        waiting: value('tideway_webhook_claimed_waiting'),
      });
      worker.scrapeMs.push(performance.now() - started);
    } catch {
      worker.scrapeFailures++; // the database is away (its figures are part of the page), or the process is
    }
  }

  #sampleRss(instance: Instance): void {
    const mib = rssMiB(instance.running.proc.pid);
    if (mib !== undefined) instance.rss.push({ at: Date.now(), mib });
  }
}
