/*
 * bench/webhook-fairness.ts — one stuck receiver must not slow the others.
 *
 *   bun bench/webhook-fairness.ts [--rate 200] [--seconds 30]
 *
 * Two integrations take every event: "stuck", whose receiver sleeps 20 s
 * per request (Tideway gives up at its 15 s timeout and retries later), and
 * "healthy", whose receiver answers at once. Events posted at a steady rate;
 * the healthy integration's latency (ingest answered → arrival) is measured.
 * Target (issue 5): its p99 ≤ 200 ms.
 */
import { parseArgs } from 'node:util';
import { createIntegration } from '../src/integrations/integrations.service.ts';
import { benchDeployment, percentile, row, steadyIngest } from './lib.ts';

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '200' }, seconds: { type: 'string', default: '30' } },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);

const healthyAt = new Map<string, number>();
let stuckRequests = 0;
const receiver = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  idleTimeout: 120,
  async fetch(request) {
    await request.arrayBuffer();
    if (new URL(request.url).pathname === '/stuck') {
      stuckRequests++;
      await Bun.sleep(20_000);
      return new Response('finally');
    }
    healthyAt.set(request.headers.get('webhook-id')!, Date.now());
    return new Response('ok');
  },
});

const deployment = await benchDeployment();
try {
  for (const id of ['stuck', 'healthy']) {
    await createIntegration(
      deployment.handle.db,
      deployment.secrets,
      {
        id,
        integrationType: 'permanent',
        target: { kind: 'webhook', callbackUrl: `http://127.0.0.1:${receiver.port}/${id}` },
      },
      'bench',
    );
  }
  const server = await deployment.start();
  const answeredAt = await steadyIngest(server.url, deployment.publishToken, RATE, SECONDS);
  const deadline = Date.now() + 10_000;
  while (healthyAt.size < answeredAt.size && Date.now() < deadline) await Bun.sleep(100);

  const latencies = [...answeredAt].filter(([id]) => healthyAt.has(id)).map(([id, at]) => healthyAt.get(id)! - at);
  const widths = [34, 8, 8, 8, 8, 8, 10];
  console.log(
    `\nwebhook fairness: ${RATE} events/s for ${SECONDS} s to two integrations; one receiver hangs 20 s per request\n`,
  );
  console.log(row(['', 'events', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'not yet'], widths));
  console.log(
    row(
      [
        'healthy integration',
        answeredAt.size,
        percentile(latencies, 50),
        percentile(latencies, 90),
        percentile(latencies, 99),
        Math.max(...latencies),
        answeredAt.size - latencies.length,
      ],
      widths,
    ),
  );
  console.log(`\nrequests the stuck receiver got (at most 16 at a time): ${stuckRequests}`);
  console.log('target: healthy p99 ≤ 200 ms');
} finally {
  await deployment.close();
  receiver.stop(true);
}
process.exit(0);
