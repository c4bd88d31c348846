/*
 * The baseline of bench/webhook-drain.ts: webhook delivery the way a team
 * would build it without Tideway — graphile-worker, one job per delivery,
 * whose task signs and POSTs the envelope. Run as its own process:
 *   DATABASE_URL=… CONCURRENCY=64 bun bench/graphile-baseline.ts
 */
import { run } from 'graphile-worker';
import { signatureOf } from '../src/delivery/signature.ts';

interface DeliverPayload {
  url: string;
  id: string;
  body: string;
  secret: string;
}

const runner = await run({
  connectionString: process.env.DATABASE_URL,
  concurrency: Number(process.env.CONCURRENCY ?? 64),
  maxPoolSize: Number(process.env.CONCURRENCY ?? 64) + 2,
  pollInterval: 100,
  noHandleSignals: false,
  logger: undefined,
  taskList: {
    deliver: async (payload) => {
      const job = payload as DeliverPayload;
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(job.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': job.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureOf(job.secret, job.id, timestamp, job.body),
        },
        body: job.body,
        signal: AbortSignal.timeout(15_000),
      });
      await response.arrayBuffer();
      if (response.status >= 300) throw new Error(`HTTP ${response.status}`);
    },
  },
});
console.log(JSON.stringify({ msg: 'graphile-worker running' }));
await runner.promise;
