import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/*
 * What arrived where, for bench/soak.ts: the webhook receivers' arrivals
 * (pulled from bench/soak-receiver.ts as they come) and the S3 objects'
 * event ids (each new object read once), both as id → how many times.
 */

/** First arrival and count per webhook-id. */
export interface Seen {
  first: number;
  count: number;
}

export class Arrivals {
  readonly byKind = new Map<string, Map<string, Seen>>();
  answers: Record<string, number> = {};
  #next = 0;

  constructor(private readonly receiverUrl: string) {}

  of(kind: string): Map<string, Seen> {
    let seen = this.byKind.get(kind);
    if (!seen) {
      seen = new Map();
      this.byKind.set(kind, seen);
    }
    return seen;
  }

  async pull(): Promise<void> {
    const response = await fetch(`${this.receiverUrl}/__arrivals?from=${this.#next}`);
    const { next, items, answers } = (await response.json()) as {
      next: number;
      items: [string, string, number][];
      answers: Record<string, number>;
    };
    for (const [kind, id, at] of items) {
      const seen = this.of(kind).get(id);
      if (seen) seen.count++;
      else this.of(kind).set(id, { first: at, count: 1 });
    }
    this.#next = next;
    this.answers = answers;
  }
}

/** The event ids in a bucket's objects: id → occurrences over all objects. */
export class S3Objects {
  readonly ids = new Map<string, number>();
  readonly keys = new Set<string>();
  badLines = 0;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /** Reads the objects not read yet. */
  async pull(): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (this.keys.has(object.Key!)) continue;
        await this.#read(object.Key!);
        this.keys.add(object.Key!);
      }
      token = page.NextContinuationToken;
    } while (token);
  }

  async #read(key: string): Promise<void> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const text = await object.Body!.transformToString();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const id = (JSON.parse(line) as { id: string }).id;
        this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
      } catch {
        this.badLines++;
      }
    }
  }
}

/** How late this process's own timers fire (ms), sampled every 100 ms: is the soak process itself keeping up? */
export function eventLoopLag() {
  const lags: number[] = [];
  let expected = performance.now() + 100;
  const timer = setInterval(() => {
    const now = performance.now();
    lags.push(Math.max(0, now - expected));
    expected = now + 100;
  }, 100);
  return {
    lags,
    stop: () => clearInterval(timer),
  };
}

function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return undefined; // exited
  }
}

/** The pids of the PostgreSQL server listening on `port` and of its backends (by /proc). */
export function postgresPids(port: number): number[] {
  const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  const postmaster = pids.find((pid) => {
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return command[0]?.endsWith('/postgres') && command.includes(String(port));
    } catch {
      return false;
    }
  });
  if (!postmaster) return [];
  const children = pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === postmaster;
    } catch {
      return false;
    }
  });
  return [postmaster, ...children].map(Number);
}

/**
 * CPU seconds per group of processes, from now on, sampled every second
 * (so that processes that exit meanwhile — killed workers, closed
 * backends — count up to their last sample). Only the soak's own
 * processes: others may be running tests on the same machine.
 */
export function cpuMeter(groups: () => Record<string, number[]>) {
  const last = new Map<number, { group: string; seconds: number }>();
  const first = new Map<number, number>();
  let initial = true;
  const sample = () => {
    for (const [group, pids] of Object.entries(groups())) {
      for (const pid of pids) {
        const seconds = cpuSecondsOf(pid);
        if (seconds === undefined) continue;
        // Running already: counted from here; started later: from its start.
        if (!first.has(pid)) first.set(pid, initial ? seconds : 0);
        last.set(pid, { group, seconds });
      }
    }
  };
  sample();
  initial = false;
  const timer = setInterval(sample, 1_000);
  return {
    stop(): Record<string, number> {
      clearInterval(timer);
      sample();
      const totals: Record<string, number> = {};
      for (const [pid, { group, seconds }] of last) totals[group] = (totals[group] ?? 0) + seconds - first.get(pid)!;
      return totals;
    },
  };
}

/** The whole machine's share of busy CPU time from now until busy() (/proc/stat; others' work included). */
export function machineCpu() {
  const read = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
    const idle = fields[3]! + fields[4]!; // idle + iowait
    return { idle, total: fields.reduce((sum, value) => sum + value, 0) };
  };
  const start = read();
  return {
    busy(): number {
      const end = read();
      return 1 - (end.idle - start.idle) / (end.total - start.total);
    },
  };
}

/** The server log of the PostgreSQL on `port` started by own-postgres.ts (pg_ctl -l DIR/log beside DIR/data). */
export function postgresLog(port: number): string {
  const postmaster = postgresPids(port)[0];
  if (postmaster === undefined) return '';
  const command = readFileSync(`/proc/${postmaster}/cmdline`, 'utf8').split('\0');
  const data = command[command.indexOf('-D') + 1]!;
  return readFileSync(`${dirname(data)}/log`, 'utf8');
}
