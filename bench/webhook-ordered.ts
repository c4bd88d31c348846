/*
 * bench/webhook-ordered.ts — what delivering in order per domain entity costs.
 *
 *   bun bench/webhook-ordered.ts [--entities 2000] [--events 8] [--pg postgres://postgres@127.0.0.1:5432]
 *
 * On PostgreSQL: a backlog of --entities orders × --events events each
 * (published round by round, so each order's events are spread through
 * the backlog), stored once and fanned out to three integrations to a
 * local receiver (its own process). One worker process (`--role worker`,
 * default limits) drains them one integration at a time, in this order:
 *
 *   ordered            in order per domain entity
 *   unordered          any order
 *   ordered, 1 failing in order, and the receiver answers 503 to the first two
 *                      attempts of one order's first event (retried after 1 s
 *                      and 1 s): the rate is that of every other order's events
 *
 * Prints deliveries/s and the ratio to unordered. Targets (issue 16): ordered
 * ≥ 0.5× unordered, with one head failing too. Also checks that every order's
 * events were recorded in publication order.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { createIngestWriter } from '../src/events/ingest-writer.ts';
import type { NewEvent } from '../src/events/events.schema.ts';
import { createIntegration, setIntegrationStatus } from '../src/integrations/integrations.service.ts';
import { Output, ROOT } from '../test/helpers/process.ts';
import { benchDeployment, row } from './lib.ts';

const { values } = parseArgs({
  options: {
    entities: { type: 'string', default: '2000' },
    events: { type: 'string', default: '8' },
    pg: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
  },
});
const ENTITIES = Number(values.entities);
const PER_ENTITY = Number(values.events);
const TOTAL = ENTITIES * PER_ENTITY;
const NAMES = ['order.created', 'order.opened', 'order.completed'];

const receiverProc = Bun.spawn(['bun', 'bench/receiver.ts'], { cwd: ROOT, stdout: 'pipe', stderr: 'inherit' });
const receiverOut = new Output(receiverProc.stdout);
while (!receiverOut.logLines().some((line) => line.msg === 'receiver listening')) await Bun.sleep(20);
const receiverPort = Number(receiverOut.logLines().find((line) => line.msg === 'receiver listening')!.port);

const deployment = await benchDeployment(values.pg);
const { db } = deployment.handle;
const results: { label: string; delivered: number; seconds: number; rate: number }[] = [];

async function delivered(integrationId: string, except?: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from deliveries
    where integration_id = ${integrationId} and status = 'success'
      and (${except ?? null}::text is null or domain_entity_id <> ${except ?? null})`.execute(db);
  return Number(rows[0]!.n);
}

/** Starts `integrationId`, times until `goal` of its deliveries (but those of `except`) are delivered, stops it. */
async function drain(label: string, integrationId: string, goal: number, except?: string) {
  await setIntegrationStatus(db, integrationId, 'running', 'bench', 'bench');
  const started = performance.now();
  while ((await delivered(integrationId, except)) < goal) await Bun.sleep(50);
  const seconds = (performance.now() - started) / 1000;
  results.push({ label, delivered: goal, seconds, rate: goal / seconds });
}

/** Orders whose recorded attempts (successful ones, by time) are not in publication order. */
async function outOfOrder(integrationId: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    with arrivals as (
      select d.domain_entity_id, d.published_at, a.attempted_at,
        lag(d.published_at) over (partition by d.domain_entity_id order by a.attempted_at, a.id) as previous
      from delivery_attempts a join deliveries d using (integration_id, event_id)
      where a.integration_id = ${integrationId} and a.outcome = 'success'
    )
    select count(distinct domain_entity_id) as n from arrivals where previous > published_at`.execute(db);
  return Number(rows[0]!.n);
}

try {
  const ids = { unordered: 'unordered', ordered: 'ordered', failing: 'ordered-failing' };
  for (const [key, id] of Object.entries(ids)) {
    await createIntegration(
      db,
      deployment.secrets,
      {
        id,
        integrationType: 'permanent',
        ordering: key === 'unordered' ? 'unordered' : 'by_domain_entity',
        target: {
          kind: 'webhook',
          callbackUrl: `http://127.0.0.1:${receiverPort}/${key === 'failing' ? 'fail-twice' : 'ok'}/${id}`,
        },
      },
      'bench',
    );
    await setIntegrationStatus(db, id, 'stopped', 'bench', 'bench');
  }

  // Round by round: every order's first event, then every order's second, ...
  const start = Date.now();
  const events: NewEvent[] = [];
  for (let round = 0; round < PER_ENTITY; round++) {
    for (let entity = 0; entity < ENTITIES; entity++) {
      const payloadJson = JSON.stringify({ id: `ent-${entity}`, round, note: 'x'.repeat(400) });
      events.push({
        id: randomUUID(),
        name: NAMES[Math.min(round, NAMES.length - 1)]!,
        entity: 'order',
        entityId: `ent-${entity}`,
        domainEntityType: 'order',
        domainEntityId: `ent-${entity}`,
        publishedAt: new Date(start + round * ENTITIES + entity),
        payloadJson,
        sizeBytes: payloadJson.length + 150,
      });
    }
  }
  const writer = createIngestWriter(db, 'default');
  for (let i = 0; i < TOTAL; i += 2_000) await writer.write(events.slice(i, i + 2_000));

  const worker = await deployment.start({ ROLE: 'worker', METRICS_PORT: '0', WEBHOOK_RETRY_SCHEDULE: '1,1,1' });
  // Ordered first, so that the unordered drain it is compared with runs on the warmer process and database.
  await drain('ordered', ids.ordered, TOTAL);
  await setIntegrationStatus(db, ids.ordered, 'stopped', 'bench', 'bench');
  await drain('unordered', ids.unordered, TOTAL);
  await setIntegrationStatus(db, ids.unordered, 'stopped', 'bench', 'bench');
  await drain('ordered, 1 failing head', ids.failing, TOTAL - PER_ENTITY, 'ent-0');
  // The failing order gets through once its head succeeds, in order.
  const deadline = Date.now() + 30_000;
  while ((await delivered(ids.failing)) < TOTAL && Date.now() < deadline) await Bun.sleep(100);
  const failingOrderDone = (await delivered(ids.failing)) === TOTAL;
  void worker;

  const widths = [26, 12, 9, 14, 14];
  console.log(
    `\nordered webhook drain: ${ENTITIES.toLocaleString('en')} orders × ${PER_ENTITY} events, PostgreSQL, one worker process, receiver on loopback\n`,
  );
  console.log(row(['integration', 'deliveries', 'seconds', 'deliveries/s', '× unordered'], widths));
  console.log(row(['-'.repeat(26), '-'.repeat(12), '-'.repeat(9), '-'.repeat(14), '-'.repeat(14)], widths));
  const base = results.find((result) => result.label === 'unordered')!.rate;
  for (const result of results) {
    console.log(
      row(
        [
          result.label,
          result.delivered.toLocaleString('en'),
          result.seconds.toFixed(2),
          Math.round(result.rate).toLocaleString('en'),
          `${(result.rate / base).toFixed(2)}×`,
        ],
        widths,
      ),
    );
  }
  console.log(
    `\norders out of publication order: ordered ${await outOfOrder(ids.ordered)}, ordered with a failing head ${await outOfOrder(ids.failing)} (unordered: ${await outOfOrder(ids.unordered)})`,
  );
  console.log(`the failing order delivered in full afterwards: ${failingOrderDone ? 'yes' : 'NO'}`);
  console.log('targets: ordered ≥ 0.5× unordered, also with one failing head');
} finally {
  await deployment.close();
  receiverProc.kill();
}
process.exit(0);
