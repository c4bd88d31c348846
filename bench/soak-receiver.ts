/*
 * The webhook receivers of bench/soak.ts, as a process of their own: the
 * soak process also generates the load, scrapes metrics and reads S3, and
 * arrival times taken on a busy event loop would be its delays, not
 * Tideway's.
 *
 *   bun bench/soak-receiver.ts   → prints {"msg":"receiver listening","port":…}
 *
 *   /healthy          200 at once
 *   /slow             200 after 2 s
 *   /flapping         503 for 10 s, then 200 for 15 s, over and over, until
 *                     the soak's drain turns flapping off (POST /__control
 *                     {"flapping": false}): what waits for a retry then
 *                     arrives at its next attempt. (25 s, not 20: a 20 or
 *                     22 s period resonates with the 20 s and 60 s retries,
 *                     jitter and all, and some deliveries land in the 503
 *                     half 7 or 8 times running. A database outage still
 *                     lines retries up into cohorts that can be unlucky for
 *                     minutes, hence the drain's calm.)
 *   /unauthorized     200, or 401 while the soak turns 401s on (POST /__control)
 *   /churn/…          200 (the soak's short-lived integrations)
 *
 * Only 2xx answers count as arrivals; GET /__arrivals?from=N hands them out
 * incrementally as [kind, webhook-id, ms since the epoch], and also the count
 * of answers per kind and status.
 */
export {}; // a module, so that its names are its own (bench/receiver.ts has a `server` too)

const started = Date.now();
const FLAP_DOWN_MS = 10_000;
const FLAP_PERIOD_MS = 25_000;

type Arrival = [kind: string, id: string, at: number];
const arrivals: Arrival[] = [];
const answers: Record<string, number> = {};
let unauthorized = false;
let flapping = true;

function kindOf(path: string): string {
  return path.startsWith('/churn/') ? 'churn' : path.slice(1);
}

async function answer(kind: string): Promise<number> {
  switch (kind) {
    case 'slow':
      await Bun.sleep(2_000);
      return 200;
    case 'flapping':
      return flapping && (Date.now() - started) % FLAP_PERIOD_MS < FLAP_DOWN_MS ? 503 : 200;
    case 'unauthorized':
      return unauthorized ? 401 : 200;
    default:
      return 200;
  }
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 120,
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/__arrivals') {
      const from = Number(url.searchParams.get('from') ?? 0);
      return Response.json({ next: arrivals.length, items: arrivals.slice(from), answers });
    }
    if (url.pathname === '/__control') {
      const control = (await request.json()) as { unauthorized?: boolean; flapping?: boolean };
      unauthorized = control.unauthorized ?? unauthorized;
      flapping = control.flapping ?? flapping;
      return Response.json({ unauthorized, flapping });
    }
    const at = Date.now();
    const kind = kindOf(url.pathname);
    await request.arrayBuffer();
    const status = await answer(kind);
    answers[`${kind} ${status}`] = (answers[`${kind} ${status}`] ?? 0) + 1;
    // The slow receiver has "received" an event once it answers; the others as it comes in.
    if (status === 200)
      arrivals.push([kind, request.headers.get('webhook-id') ?? '', kind === 'slow' ? Date.now() : at]);
    return new Response(status === 200 ? 'ok' : 'no', { status });
  },
});
console.log(JSON.stringify({ msg: 'receiver listening', port: server.port }));
