/*
 * bench/ordered-claim.ts — the cost of claiming and settling ordered deliveries as the backlog grows.
 *
 *   bun bench/ordered-claim.ts [--backlogs 10000,100000,1000000] [--runs 30] [--pg postgres://postgres@127.0.0.1:5432]
 *
 * For each backlog size: a fresh PostgreSQL database with one ordered
 * integration and that many pending deliveries, 8 per order (the first of
 * each order due, the rest waiting in line), written straight in SQL. Then,
 * `--runs` times, the worker's two statements: claim 64 (claimDueDeliveries)
 * and settle them as delivered, which releases the next of each line
 * (settleDeliveries). Measured twice: with every order's first delivery due,
 * and with all but enough for the runs (64 × (runs + 1)) being retried an
 * hour later (a receiver failing for almost every order), where the claim
 * must not walk the lines waiting behind them.
 * Target (issue 16): the cost does not grow with the backlog.
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { claimDueDeliveries, settleDeliveries } from '../src/delivery/deliveries.repo.ts';
import { benchDeployment, percentile, row } from './lib.ts';

const { values } = parseArgs({
  options: {
    backlogs: { type: 'string', default: '10000,100000,1000000' },
    runs: { type: 'string', default: '30' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
  },
});
const BACKLOGS = values.backlogs.split(',').map(Number);
const RUNS = Number(values.runs);
const PER_ORDER = 8;
const SLOTS = 64;

const widths = [12, 24, 12, 12, 14, 14];
const lines: string[] = [];

for (const backlog of BACKLOGS) {
  const deployment = await benchDeployment(values.pg);
  const { db } = deployment.handle;
  try {
    await sql`insert into integrations (id, integration_type, target_kind, callback_url, signing_secret_enc, ordering, starts_at)
      values ('erp', 'permanent', 'webhook', 'http://127.0.0.1:9/hook', 'v1:unused', 'by_domain_entity', now() - interval '30 days')`.execute(
      db,
    );
    const orders = Math.ceil(backlog / PER_ORDER);
    // Round by round (every order's first delivery, then every second, ...): the first of each line is due.
    await sql`
      insert into deliveries (integration_id, event_id, event_name, domain_entity_type, domain_entity_id, published_at,
        order_sequence, next_attempt_at)
      select 'erp', gen_random_uuid(), 'order.created', 'order', 'o-' || (g % ${orders}),
        now() - interval '1 day' + g * interval '1 ms', g,
        case when g < ${orders} then now() - interval '1 day' + g * interval '1 ms' else 'infinity' end
      from generate_series(0, ${backlog - 1}) g`.execute(db);
    await sql`analyze deliveries`.execute(db);

    for (const scenario of ['first of each order due', 'most retried later'] as const) {
      if (scenario === 'most retried later') {
        await sql`update deliveries set next_attempt_at = now() + interval '1 hour', attempts = 1
          where status = 'pending' and next_attempt_at <> 'infinity'
            and event_id not in (select event_id from deliveries where status = 'pending' and next_attempt_at <> 'infinity'
              order by next_attempt_at limit ${SLOTS * (RUNS + 1)})`.execute(db);
      }
      const claims: number[] = [];
      const settles: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        let started = performance.now();
        const claimed = await claimDueDeliveries(db, {
          limits: new Map([['erp', SLOTS]]),
          total: 1024,
          owner: 'bench',
          now: new Date(),
          leaseMs: 60_000,
        });
        claims.push(performance.now() - started);
        started = performance.now();
        await settleDeliveries(
          db,
          'bench',
          claimed.map((delivery) => ({
            integrationId: delivery.integration_id,
            eventId: delivery.event_id,
            status: 'success' as const,
            nextAttemptAt: new Date(),
            counted: 1 as const,
            outcome: 'success' as const,
            trigger: 'scheduled' as const,
            attemptedAt: new Date(),
            durationMs: 1,
            statusCode: 200,
            errorClass: null,
            errorMessage: null,
            responseBody: 'ok',
          })),
        );
        settles.push(performance.now() - started);
        if (claimed.length !== SLOTS) throw new Error(`claimed ${claimed.length}, expected ${SLOTS}`);
      }
      lines.push(
        row(
          [
            backlog.toLocaleString('en'),
            scenario,
            percentile(claims, 50).toFixed(1),
            percentile(claims, 95).toFixed(1),
            percentile(settles, 50).toFixed(1),
            percentile(settles, 95).toFixed(1),
          ],
          widths,
        ),
      );
    }
  } finally {
    await deployment.close();
  }
}

console.log(
  `\nordered claims: one integration, ${PER_ORDER} deliveries per order, ${SLOTS} claimed and settled per run, ${RUNS} runs, PostgreSQL\n`,
);
console.log(
  row(['backlog', 'first of each order', 'claim p50 ms', 'claim p95 ms', 'settle p50 ms', 'settle p95 ms'], widths),
);
for (const line of lines) console.log(line);
console.log('\ntarget: the cost does not grow with the backlog');
process.exit(0);
