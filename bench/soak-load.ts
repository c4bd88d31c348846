import { randomUUID } from 'node:crypto';

/*
 * What bench/soak.ts does to Tideway through its API: steady ingest, the
 * churn of short-lived integrations, and restarting the integration that
 * stops itself on a 401. A 503 (the database is away) is answered by
 * waiting its Retry-After and sending the same request again — for ingest
 * with the same ids, which Tideway de-duplicates — so nothing the client
 * sent is given up; the 503s are counted.
 */

export interface Answer {
  status: number;
  body: unknown;
  retried503: number;
  retryAfterMs?: number;
}

/** The configuration and ingest API of one web process, with 503s retried. */
export class Api {
  answers503 = 0;
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async call(method: string, path: string, body?: unknown, give503 = 20): Promise<Answer> {
    for (let retried = 0; ; retried++) {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (error) {
        return { status: 0, body: String(error), retried503: retried };
      }
      const text = await response.text();
      if (response.status === 503 && retried < give503) {
        this.answers503++;
        await Bun.sleep(Number(response.headers.get('retry-after') ?? 1) * 1000);
        continue;
      }
      let parsed: unknown = text;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const retryAfterMs = response.headers.has('retry-after')
        ? Number(response.headers.get('retry-after')) * 1000
        : undefined;
      return { status: response.status, body: parsed, retried503: retried, retryAfterMs };
    }
  }
}

/** The event mix: each name chosen for the integrations whose filters take it. */
export const EVENT_MIX: { name: string; share: number }[] = [
  { name: 'order.created', share: 30 },
  { name: 'order.opened', share: 20 },
  { name: 'fulfillment_request.assigned', share: 20 },
  { name: 'order.cancelled', share: 1 },
  { name: 'inventory_transaction.items_received', share: 29 },
];
const NAME_BY_SLOT = EVENT_MIX.flatMap(({ name, share }) => Array.from({ length: share }, () => name));

/**
 * `rate` events a second in batches of `batch` from `clients` concurrent
 * clients, paced against the clock (a client held up by a 503 is made up
 * for by the others, at most a second's worth at once).
 */
export class Ingest {
  /** Accepted (answered 202): id → [name, answered at]. */
  readonly accepted = new Map<string, [string, number]>();
  requests = 0;
  answers503 = 0;
  other: Record<string, number> = {};
  #running = true;
  #sent = 0;
  #next = 0;
  #clients: Promise<void>[] = [];

  constructor(
    private readonly api: Api,
    private readonly rate: number,
    private readonly batch = 10,
    clients = 4,
  ) {
    this.#next = performance.now();
    this.#clients = Array.from({ length: clients }, () => this.#client());
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#clients);
  }

  async #client(): Promise<void> {
    const interval = (1000 * this.batch) / this.rate;
    while (this.#running) {
      this.#next = Math.max(this.#next + interval, performance.now() - 1_000);
      const wait = this.#next - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      if (!this.#running) break;
      await this.#publish(this.#events());
    }
  }

  #events() {
    return Array.from({ length: this.batch }, () => {
      const n = this.#sent++;
      const order = `o-${Math.floor(n / 7)}`;
      return {
        id: randomUUID(),
        name: NAME_BY_SLOT[n % NAME_BY_SLOT.length]!,
        payload: { id: order, order_id: order, note: 'x'.repeat(200) },
      };
    });
  }

  async #publish(events: { id: string; name: string }[]): Promise<void> {
    for (;;) {
      this.requests++;
      const answer = await this.api.call('POST', '/api/v1/events', events, 0);
      if (answer.status === 202) {
        const at = Date.now();
        for (const event of events) this.accepted.set(event.id, [event.name, at]);
        return;
      }
      if (answer.status !== 503) {
        this.other[answer.status] = (this.other[answer.status] ?? 0) + 1;
        return;
      }
      this.answers503++;
      await Bun.sleep(answer.retryAfterMs ?? 5_000); // then the same ids again
    }
  }
}

/**
 * Every `everyMs` an integration of its own: created, paused, resumed,
 * edited to another path, deleted — each step a second or so apart — and
 * every answer checked.
 */
export class Churn {
  readonly ok: Record<string, number> = {};
  readonly failures: string[] = [];
  #count = 0;
  #timer: ReturnType<typeof setInterval>;
  #lives = new Set<Promise<void>>();

  constructor(
    private readonly api: Api,
    private readonly receiverUrl: string,
    everyMs = 5_000,
  ) {
    this.#timer = setInterval(() => {
      const life = this.#life(`churn-${++this.#count}`);
      this.#lives.add(life);
      void life.finally(() => this.#lives.delete(life));
    }, everyMs);
  }

  get created(): number {
    return this.#count;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#lives);
  }

  async #life(id: string): Promise<void> {
    const path = `/api/v1/org/integrations/eventstream/${id}`;
    const body = {
      id,
      integration_type: 'permanent',
      filter_conditions: { events: ['order.created'] },
      callback_parameters: { callback_url: `${this.receiverUrl}/churn/${id}/a` },
    };
    if (!(await this.#step('create', 201, 'POST', '/api/v1/org/integrations/eventstream', body))) return;
    await Bun.sleep(1_000);
    await this.#step('stop', 200, 'POST', `${path}/_stop`, {}, 'stopped');
    await Bun.sleep(1_000);
    await this.#step('start', 200, 'POST', `${path}/_start`, {}, 'running');
    await Bun.sleep(1_000);
    await this.#step('edit', 200, 'PATCH', path, {
      callback_parameters: { callback_url: `${this.receiverUrl}/churn/${id}/b` },
    });
    await Bun.sleep(3_000);
    await this.#step('delete', 204, 'DELETE', path);
  }

  async #step(
    op: string,
    expected: number,
    method: string,
    path: string,
    body?: unknown,
    status?: string,
  ): Promise<boolean> {
    const answer = await this.api.call(method, path, body);
    const gotStatus = (answer.body as { status?: string } | null)?.status;
    if (answer.status === expected && (status === undefined || gotStatus === status)) {
      this.ok[op] = (this.ok[op] ?? 0) + 1;
      return true;
    }
    this.failures.push(`${op} ${path}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    return false;
  }
}

/**
 * Watches the integration that stops itself on a 401, every 2 s, and starts
 * it again once its receiver no longer answers 401 (`refusing()` false).
 */
export class Restarter {
  readonly stopsSeen: number[] = [];
  restarts = 0;
  readonly failures: string[] = [];
  #timer: ReturnType<typeof setInterval>;
  #busy = false;

  constructor(
    private readonly api: Api,
    private readonly id: string,
    private readonly refusing: () => boolean,
  ) {
    this.#timer = setInterval(() => void this.check(), 2_000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Starts it if it is stopped and may start; resolves whether it is running. */
  async check(): Promise<boolean> {
    if (this.#busy) return false;
    this.#busy = true;
    try {
      const path = `/api/v1/org/integrations/eventstream/${this.id}`;
      const read = await this.api.call('GET', path, undefined, 0);
      const status = (read.body as { status?: string } | null)?.status;
      if (status === 'running') return true;
      if (status !== 'stopped') return false; // 503: the database is away
      if (this.stopsSeen.length === this.restarts) this.stopsSeen.push(Date.now());
      if (this.refusing()) return false;
      const started = await this.api.call('POST', `${path}/_start`, { reason: 'soak: receiver accepts again' });
      if (started.status === 200) this.restarts++;
      else this.failures.push(`_start: HTTP ${started.status} ${JSON.stringify(started.body).slice(0, 300)}`);
      return started.status === 200;
    } finally {
      this.#busy = false;
    }
  }
}
