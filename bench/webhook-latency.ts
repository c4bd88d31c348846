/*
 * bench/webhook-latency.ts — how soon a webhook arrives after ingest.
 *
 *   bun bench/webhook-latency.ts [--rate 1000] [--seconds 60] [--ordered] [--orders 200]
 *
 * Tideway (one process, role all, PostgreSQL) with one integration to a
 * receiver in this process; events posted at a steady rate in small batches.
 * Latency = arrival at the receiver − the moment the ingest request was
 * answered (negative when the webhook beat the 202 back). Target (issue 5):
 * p50 ≤ 20 ms, p99 ≤ 100 ms. With --ordered the integration delivers in
 * order per domain entity, and the events are about --orders orders in
 * turn (each order's next event follows ~orders/rate s later), so that
 * lines form; target (issue 16): p99 ≤ 100 ms.
 */
import { parseArgs } from 'node:util';
import { createIntegration } from '../src/integrations/integrations.service.ts';
import { benchDeployment, percentile, row, steadyIngest } from './lib.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    ordered: { type: 'boolean', default: false },
    orders: { type: 'string', default: '200' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ORDERS = values.ordered ? Number(values.orders) : Number.POSITIVE_INFINITY;

const arrivedAt = new Map<string, number>();
/** Per order, the publication time of its last event to arrive; and how often one arrived after a later one. */
const lastPublished = new Map<string, string>();
let outOfOrder = 0;
const receiver = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    arrivedAt.set(request.headers.get('webhook-id')!, Date.now());
    const event = (await request.json()) as { published_at: string; payload: { id: string } };
    const last = lastPublished.get(event.payload.id);
    if (last !== undefined && event.published_at < last) outOfOrder++;
    else lastPublished.set(event.payload.id, event.published_at);
    return new Response('ok');
  },
});

const deployment = await benchDeployment();
try {
  await createIntegration(
    deployment.handle.db,
    deployment.secrets,
    {
      id: 'latency',
      integrationType: 'permanent',
      ordering: values.ordered ? 'by_domain_entity' : 'unordered',
      target: { kind: 'webhook', callbackUrl: `http://127.0.0.1:${receiver.port}/hook` },
    },
    'bench',
  );
  const server = await deployment.start();
  const answeredAt = await steadyIngest(server.url, deployment.publishToken, RATE, SECONDS, 'order.created', ORDERS);
  const deadline = Date.now() + 30_000;
  while (arrivedAt.size < answeredAt.size && Date.now() < deadline) await Bun.sleep(100);

  const latencies = [...answeredAt].filter(([id]) => arrivedAt.has(id)).map(([id, at]) => arrivedAt.get(id)! - at);
  const widths = [28, 10, 8, 8, 8, 8, 8, 12];
  console.log(
    `\nwebhook latency: ${RATE} events/s for ${SECONDS} s, PostgreSQL, one ${values.ordered ? `ordered integration (events of ${ORDERS} orders in turn)` : 'integration'}, receiver on loopback\n`,
  );
  console.log(row(['', 'events', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'lost', 'out of order'], widths));
  console.log(
    row(
      [
        'ingest answered → arrival',
        answeredAt.size,
        percentile(latencies, 50),
        percentile(latencies, 90),
        percentile(latencies, 99),
        Math.max(...latencies),
        answeredAt.size - latencies.length,
        outOfOrder,
      ],
      widths,
    ),
  );
  console.log('\ntargets: p50 ≤ 20 ms, p99 ≤ 100 ms');
} finally {
  await deployment.close();
  receiver.stop(true);
}
process.exit(0);
