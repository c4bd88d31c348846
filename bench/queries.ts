/*
 * bench/queries.ts — View Events and GET /published-events on millions of rows.
 *
 *   bun bench/queries.ts [--rows 5000000] [--runs 20] [--pg postgres://postgres@127.0.0.1:5432]
 *
 * Seeds `--rows` deliveries over 10 integrations and 60 days straight into
 * PostgreSQL with generate_series (secondary indexes built after the load, as
 * one would for a bulk import), then times each filter combination — none,
 * domain entity ID, status, time range, all together — on the first page and
 * on a deep page (a cursor 30 days back), for the events page (rendered HTML)
 * and the API, in process (server time: no network). Prints p50/p95 per case
 * and the EXPLAIN ANALYZE of the slowest. Target (issue 7): p95 ≤ 50 ms.
 */
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../src/app.ts';
import { createApiToken } from '../src/auth/api-tokens.repo.ts';
import { SESSION_COOKIE } from '../src/auth/session.ts';
import { createSession } from '../src/auth/sessions.repo.ts';
import { hashPassword, insertUserIfAbsent } from '../src/auth/users.repo.ts';
import { loadConfig } from '../src/config.ts';
import { openPostgres } from '../src/db/client.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { encodeKeyset } from '../src/lib/keyset-cursor.ts';
import { createIntegration } from '../src/integrations/integrations.service.ts';
import { createSecretBox } from '../src/lib/crypto.ts';
import { silentLogger } from '../src/lib/log.ts';
import { percentile, row } from './lib.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '20' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
  },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const DAY = 86_400_000;
const END = Date.parse('2026-11-30T00:00:00Z');

const admin = new pg.Client({ connectionString: `${values.pg}/postgres` });
await admin.connect();
const name = `tideway_bench_queries_${Date.now()}`;
await admin.query(`create database ${name}`);
const handle = openPostgres(`${values.pg}/${name}`);
const secrets = createSecretBox('b'.repeat(64));

try {
  await migrateToLatest(handle.db);
  for (let i = 0; i < 10; i++) {
    await createIntegration(
      handle.db,
      secrets,
      {
        id: `erp-${i}`,
        integrationType: 'permanent',
        startsAt: new Date(END - 61 * DAY),
        target: { kind: 'webhook', callbackUrl: 'https://erp.example.com/hook' },
      },
      'bench',
    );
  }
  const seedStarted = performance.now();
  const secondary = ['deliveries_due', 'deliveries_by_time', 'deliveries_by_domain_entity', 'deliveries_by_status'];
  const definitions = (
    await sql<{
      indexdef: string;
      indexname: string;
    }>`select indexname, indexdef from pg_indexes where tablename = 'deliveries'`.execute(handle.db)
  ).rows.filter((index) => secondary.includes(index.indexname));
  for (const index of definitions) await sql.raw(`drop index ${index.indexname}`).execute(handle.db);
  // 95 % success, 2 % failure, 2 % rejected, 1 % pending; 500,000 orders
  // (each with deliveries for every integration); 60 days. n / 10 spreads
  // statuses and orders evenly over the integrations (n % 10).
  await sql`
    insert into deliveries (integration_id, event_id, event_name, domain_entity_type, domain_entity_id, published_at, status, attempts, last_attempted_at, last_status_code, response_time_ms)
    select 'erp-' || (n % 10), gen_random_uuid(),
      (array['order.created','order.opened','order.completed','fulfillment_request.assigned','invoice.created'])[1 + (n % 5)],
      'order', 'ord-' || ((n / 10) % 500000),
      ${new Date(END - 60 * DAY)}::timestamptz + (n::double precision / ${ROWS}) * interval '60 days',
      case when (n / 10) % 100 < 95 then 'success' when (n / 10) % 100 < 97 then 'failure' when (n / 10) % 100 < 99 then 'rejected' else 'pending' end,
      1, ${new Date(END - 60 * DAY)}::timestamptz + (n::double precision / ${ROWS}) * interval '60 days' + interval '1 second', 200, 12
    from generate_series(1, ${ROWS}) as n`.execute(handle.db);
  for (const index of definitions) await sql.raw(index.indexdef).execute(handle.db);
  await sql`analyze deliveries`.execute(handle.db);
  console.log(
    `seeded ${ROWS.toLocaleString('en')} deliveries in ${((performance.now() - seedStarted) / 1000).toFixed(0)} s`,
  );

  const app = createApp({
    db: handle.db,
    databaseKind: 'postgres',
    config: loadConfig({}),
    secrets,
    log: silentLogger,
    version: 'bench',
  });
  const user = await insertUserIfAbsent(handle.db, {
    email: 'bench@example.com',
    passwordHash: await hashPassword('bench-password'),
    permissions: ['view_tools'],
  });
  const { token: sessionToken } = await createSession(handle.db, {
    userId: user!.id,
    address: 'bench',
    userAgent: 'bench',
    now: new Date(),
  });
  const apiToken = (await createApiToken(handle.db, { name: 'bench', permissions: ['view_tools'] })).token;
  const deep = encodeKeyset({ at: new Date(END - 30 * DAY), id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' });
  const from = new Date(END - 10 * DAY).toISOString().slice(0, 19);
  const to = new Date(END - 9 * DAY).toISOString().slice(0, 19);

  const cases: [string, string][] = [
    ['no filter', ''],
    ['domain entity ID', 'domain_entity_id=ord-4242'],
    ['status = failure', 'status=failure'],
    ['time range (1 day)', `from=${from}&to=${to}`],
    [
      'all together',
      `domain_entity_id=ord-4242&status=success&from=${new Date(END - 60 * DAY).toISOString().slice(0, 19)}&to=${to}`,
    ],
  ];
  const results: { label: string; p50: number; p95: number; path: string; rows: number }[] = [];
  for (const [label, query] of cases) {
    for (const [pageLabel, cursor] of [
      ['first page', ''],
      ['deep page', `cursor=${deep}`],
    ] as const) {
      const params = [query, cursor].filter(Boolean).join('&');
      const targets: [string, string, Record<string, string>][] = [
        [
          'page',
          `/tools/event-stream/erp-3/events${params ? `?${params}` : ''}`,
          { cookie: `${SESSION_COOKIE}=${sessionToken}` },
        ],
        [
          'API',
          `/api/v1/org/integrations/published-events?integration_id=erp-3&limit=50${params ? `&${params}` : ''}`,
          { authorization: `Bearer ${apiToken}` },
        ],
      ];
      for (const [kind, path, headers] of targets) {
        const times: number[] = [];
        let rows = 0;
        for (let run = 0; run < RUNS + 2; run++) {
          const started = performance.now();
          const response = await app.request(path, { headers });
          const body = await response.text();
          if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
          if (run >= 2) times.push(performance.now() - started); // two warm-up runs
          rows =
            kind === 'API'
              ? (JSON.parse(body) as { events: unknown[] }).events.length
              : (body.match(/\/events\/[0-9a-f-]{36}"/g) ?? []).length;
        }
        results.push({
          label: `${kind}: ${label}, ${pageLabel}`,
          p50: percentile(times, 50),
          p95: percentile(times, 95),
          path,
          rows,
        });
      }
    }
  }

  const widths = [52, 6, 8, 8];
  console.log(
    `\nqueries: ${ROWS.toLocaleString('en')} deliveries, 10 integrations, 60 days, PostgreSQL; ${RUNS} runs each, server time in process\n`,
  );
  console.log(row(['case', 'rows', 'p50 ms', 'p95 ms'], widths));
  console.log(row(['-'.repeat(52), '-'.repeat(6), '-'.repeat(8), '-'.repeat(8)], widths));
  for (const result of results)
    console.log(row([result.label, result.rows, result.p50.toFixed(1), result.p95.toFixed(1)], widths));
  const slowest = results.reduce((worst, result) => (result.p95 > worst.p95 ? result : worst));
  console.log(`\ntarget: p95 ≤ 50 ms; slowest: ${slowest.label} (${slowest.p95.toFixed(1)} ms)`);

  // The plan of the slowest case's list query, as the repository builds it.
  const url = new URL(slowest.path, 'http://bench');
  const filters: string[] = [`integration_id = 'erp-3'`];
  const get = (key: string) => url.searchParams.get(key);
  if (get('domain_entity_id')) filters.push(`domain_entity_id = '${get('domain_entity_id')}'`);
  if (get('status')) filters.push(`status = '${get('status')}'`);
  if (get('from')) filters.push(`published_at >= '${get('from')}Z'`);
  if (get('to')) filters.push(`published_at < '${get('to')}Z'`);
  if (get('cursor'))
    filters.push(
      `(published_at, event_id) < ('${new Date(END - 30 * DAY).toISOString()}', 'ffffffff-ffff-ffff-ffff-ffffffffffff')`,
    );
  const plan = await sql
    .raw(
      `explain analyze select * from deliveries where ${filters.join(' and ')} order by published_at desc, event_id desc limit 51`,
    )
    .execute(handle.db);
  console.log(
    `\nEXPLAIN ANALYZE (slowest case):\n${(plan.rows as { 'QUERY PLAN': string }[]).map((line) => `  ${line['QUERY PLAN']}`).join('\n')}`,
  );
} finally {
  await handle.close();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}
process.exit(0);
