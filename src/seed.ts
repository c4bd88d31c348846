import { sql, type Kysely } from 'kysely';
import type { Database, Db } from './db/database.ts';
import { createIntegration } from './integrations/integrations.service.ts';
import type { SecretBox } from './lib/crypto.ts';
import { PlatformSimulator } from './simulator/generator.ts';
import { envelopeSizeBytes } from './events/envelope.ts';
import { createCatalogCache } from './events/event-types.repo.ts';
import { validateEnvelopes } from './events/events.schema.ts';

/*
 * `bun run tideway seed` (issue 20): a database of the size an operator
 * keeps, for benchmarks, demos and trying the audit pages. The simulator
 * writes a template of TEMPLATE_EVENTS events, validated as ingest would
 * (names, entities, domain entities from the catalog); the database then
 * repeats it in SQL (generate_series), each repetition with its own event
 * ids and its own entity ids (the template's with a suffix, in the payload
 * too), published evenly over the last `days` days. Every event gets one
 * settled delivery and one attempt per integration: mostly successes, a
 * few failures and rejections, as a long-running deployment would hold.
 * Nothing goes through the delivery engine: the integrations are paused.
 */

/** Events the simulator writes for the template: enough for its mix of names and lifecycles. */
const TEMPLATE_EVENTS = 4_000;
/** An envelope's bytes besides its tenant, name and payload (events/envelope.ts): the frame, a UUID and an ISO time. */
const ENVELOPE_BYTES_BESIDES_PAYLOAD = envelopeSizeBytes({ id: '', tenant: '', name: '', payloadJson: '' }) + 36;
/** Events written per statement: a progress line after each. */
const CHUNK = 100_000;

export interface SeedInput {
  events: number;
  days: number;
  integrations: number;
  /** Pad each payload to about this many bytes (a `note` field); absent: the simulator's sizes. */
  payloadBytes?: number;
  tenant: string;
  now: Date;
}

export interface SeedResult {
  events: number;
  deliveries: number;
  integrations: string[];
  seconds: number;
}

/**
 * Seeds `input.events` events with their deliveries and attempts; creates
 * `input.integrations` paused webhook integrations first when there are
 * none (else uses those there are). `progress` hears after each chunk.
 */
export async function seedDatabase(
  db: Kysely<Database>,
  secrets: SecretBox,
  input: SeedInput,
  progress: (done: number, total: number, seconds: number) => void = () => {},
): Promise<SeedResult> {
  const started = performance.now();
  const integrations = await integrationsToSeed(db, secrets, input);
  await writeTemplate(db, input);
  const from = new Date(input.now.getTime() - input.days * 86_400_000);
  const spanMs = input.days * 86_400_000;
  // One transaction: secondary indexes dropped, the rows written, the
  // indexes built again — should the seed stop half-way, nothing of it
  // stays and the schema is whole.
  const deliveries = await db.transaction().execute(async (trx) => {
    await skipForeignKeyChecks(trx);
    return withIndexesBuiltAfter(trx, async () => {
      let written = 0;
      for (let first = 0; first < input.events; first += CHUNK) {
        const last = Math.min(input.events, first + CHUNK) - 1;
        written += await seedChunk(trx, { first, last, total: input.events, from, spanMs, integrations, input });
        progress(last + 1, input.events, (performance.now() - started) / 1000);
      }
      return written;
    });
  });
  await sql`drop table seed_template`.execute(db);
  // The integration list counts deliveries through delivered_count, as the engines keep it.
  await sql`update integrations i set delivered_count = (select count(*) from deliveries d where d.integration_id = i.id and d.status = 'success'),
      last_delivery_at = (select max(last_attempted_at) from deliveries d where d.integration_id = i.id and d.status = 'success')
    where i.id = any(${integrations}::text[])`.execute(db);
  await sql`analyze events`.execute(db);
  await sql`analyze deliveries`.execute(db);
  await sql`analyze delivery_attempts`.execute(db);
  return { events: input.events, deliveries, integrations, seconds: (performance.now() - started) / 1000 };
}

/**
 * The rows a chunk writes refer to rows it writes itself (or to the
 * integrations), so the per-row foreign-key checks — 30–50 µs each, most
 * of a chunk's time — are skipped where the database lets this session
 * (session_replication_role needs a superuser; elsewhere they run).
 */
async function skipForeignKeyChecks(trx: Db) {
  await sql`savepoint before_role`.execute(trx);
  try {
    await sql`set local session_replication_role = replica`.execute(trx);
    await sql`release savepoint before_role`.execute(trx);
  } catch {
    await sql`rollback to savepoint before_role`.execute(trx);
  }
}

/**
 * Runs `load` with the seeded tables' secondary indexes dropped, then
 * builds them again as they were: one sorted build costs a fraction of
 * keeping them up row by row (the primary keys stay; the ids grow in time
 * order, so they are appended to). Inside the caller's transaction, which
 * holds the tables meanwhile.
 */
async function withIndexesBuiltAfter<T>(trx: Db, load: () => Promise<T>): Promise<T> {
  const { rows } = await sql<{ name: string; definition: string }>`
    select indexname as name, indexdef as definition from pg_indexes
    where schemaname = current_schema() and tablename in ('events', 'deliveries', 'delivery_attempts')
      and indexname not in (select conname from pg_constraint)
    order by indexname`.execute(trx);
  for (const index of rows) await sql`drop index ${sql.ref(index.name)}`.execute(trx);
  const loaded = await load();
  for (const index of rows) await sql.raw(index.definition).execute(trx);
  return loaded;
}

async function integrationsToSeed(db: Kysely<Database>, secrets: SecretBox, input: SeedInput): Promise<string[]> {
  const existing = await db
    .selectFrom('integrations')
    .select('id')
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  if (existing.length > 0) return existing.map((row) => row.id);
  const ids = Array.from({ length: input.integrations }, (_, i) => `seeded-${String(i + 1).padStart(2, '0')}`);
  for (const id of ids) {
    await createIntegration(
      db,
      secrets,
      {
        id,
        integrationType: 'permanent',
        startsAt: new Date(input.now.getTime() - input.days * 86_400_000 - 60_000),
        target: { kind: 'webhook', callbackUrl: `https://placeholder.invalid/${id}` },
      },
      'seed',
    );
    await db.updateTable('integrations').set({ status: 'stopped' }).where('id', '=', id).execute();
  }
  return ids;
}

/** The simulator's events, validated as ingest would, in a temporary table numbered from 0. */
async function writeTemplate(db: Kysely<Database>, input: SeedInput) {
  const simulated = new PlatformSimulator(20, () => input.now).next(TEMPLATE_EVENTS);
  const catalog = await createCatalogCache(db).forNames(simulated.map((event) => event.name));
  const { events, errors } = validateEnvelopes(
    simulated.map((value, index) => ({ value, index })),
    { tenant: input.tenant, catalog, maxEventBytes: 1_000_000, now: input.now },
  );
  if (errors.length > 0) throw new Error(`the simulator's events do not validate: ${JSON.stringify(errors[0])}`);
  await sql`drop table if exists seed_template`.execute(db);
  await sql`create table seed_template (n integer primary key, name text, entity text, entity_id text,
    domain_entity_type text, domain_entity_id text, payload text)`.execute(db);
  const pad = (payload: string) =>
    input.payloadBytes && payload.length < input.payloadBytes - 12
      ? `${payload.slice(0, -1)},"note":"${'x'.repeat(input.payloadBytes - payload.length - 12)}"}`
      : payload;
  for (let start = 0; start < events.length; start += 1_000) {
    const rows = events.slice(start, start + 1_000).map((event, i) => ({
      n: start + i,
      name: event.name,
      entity: event.entity,
      entity_id: event.entityId,
      domain_entity_type: event.domainEntityType,
      domain_entity_id: event.domainEntityId,
      payload: pad(event.payloadJson),
    }));
    await sql`insert into seed_template select * from json_populate_recordset(null::seed_template, ${JSON.stringify(rows)}::json)`.execute(
      db,
    );
  }
}

/**
 * Events `first`..`last` (of `total`, evenly over the span), their
 * deliveries and attempts, in one statement: event n repeats template row
 * n mod TEMPLATE_EVENTS, its ids suffixed with its repetition.
 */
async function seedChunk(
  db: Db,
  chunk: {
    first: number;
    last: number;
    total: number;
    from: Date;
    spanMs: number;
    integrations: string[];
    input: SeedInput;
  },
): Promise<number> {
  const { rows } = await sql<{ deliveries: string }>`
    with made as (
      select g,
        -- Time-ordered ids (the publication's milliseconds first, as UUIDv7 does), so that the primary keys grow at their ends.
        (lpad(to_hex((extract(epoch from ${chunk.from}::timestamptz) * 1000 + g::float8 / ${chunk.total} * ${chunk.spanMs})::bigint), 12, '0')
          || substr(md5(g::text || ':' || random()::text), 1, 20))::uuid as id,
        t.name, t.entity,
        t.entity_id || coalesce('-r' || nullif(g / ${TEMPLATE_EVENTS}, 0)::text, '') as entity_id,
        t.domain_entity_type,
        t.domain_entity_id || coalesce('-r' || nullif(g / ${TEMPLATE_EVENTS}, 0)::text, '') as domain_entity_id,
        ${chunk.from}::timestamptz + (g::float8 / ${chunk.total} * ${chunk.spanMs}) * interval '1 millisecond' as published_at,
        t.payload as template_payload,
        g / ${TEMPLATE_EVENTS} as repetition,
        t.entity_id as template_entity_id,
        t.domain_entity_id as template_domain_entity_id
      from generate_series(${chunk.first}::int, ${chunk.last}::int) g
      join seed_template t on t.n = g % ${TEMPLATE_EVENTS}
    ),
    -- A repetition's payload names its own entities: the template's ids, quoted, with its suffix.
    renamed as (
      select made.*, case when repetition = 0 or template_domain_entity_id is null then step
        else replace(step, '"' || template_domain_entity_id || '"', '"' || domain_entity_id || '"') end as payload
      from made
      cross join lateral (select case when repetition = 0 or template_entity_id is null then template_payload
        else replace(template_payload, '"' || template_entity_id || '"', '"' || entity_id || '"') end as step) entity_step
    ),
    stored as (
      insert into events (id, tenant, name, entity, entity_id, domain_entity_type, domain_entity_id, published_at, received_at, payload, size_bytes)
      select id, ${chunk.input.tenant}, name, entity, entity_id, domain_entity_type, domain_entity_id, published_at, published_at, payload,
        ${ENVELOPE_BYTES_BESIDES_PAYLOAD} + octet_length(${chunk.input.tenant}) + octet_length(name) + octet_length(payload)
      from renamed
      returning id, name, domain_entity_type, domain_entity_id, published_at, size_bytes
    ),
    rolled as (
      select s.*, i.integration_id, random() as r
      from stored s
      cross join unnest(${chunk.integrations}::text[]) as i(integration_id)
    ),
    settled as (
      -- ~1.5 % failed for good (HTTP 503 after its retries), ~0.5 % rejected (HTTP 422), the rest delivered.
      select rolled.*,
        case when r < 0.015 then 'failure' when r < 0.02 then 'rejected' else 'success' end as status,
        (20 + floor(random() * 400))::int as duration_ms
      from rolled
    ),
    delivered as (
      insert into deliveries (integration_id, event_id, event_name, domain_entity_type, domain_entity_id, published_at, size_bytes,
        status, attempts, next_attempt_at, last_attempted_at, last_status_code, last_error, response_time_ms, created_at)
      select integration_id, id, name, domain_entity_type, domain_entity_id, published_at, size_bytes,
        status, 1, published_at, published_at + interval '200 milliseconds',
        case status when 'success' then 200 when 'failure' then 503 else 422 end,
        case status when 'success' then null when 'failure' then 'Answered HTTP 503 Service Unavailable' else 'Answered HTTP 422 Unprocessable Entity' end,
        duration_ms, published_at
      from settled
      returning integration_id, event_id, status, last_attempted_at, response_time_ms, last_status_code, last_error
    ),
    attempted as (
      insert into delivery_attempts (integration_id, event_id, attempted_at, duration_ms, outcome, status_code, error_class, error_message)
      select integration_id, event_id, last_attempted_at, response_time_ms,
        case status when 'success' then 'success' when 'failure' then 'failure' else 'rejected' end,
        last_status_code, null, last_error
      from delivered
      returning 1
    )
    select count(*)::text as deliveries from attempted`.execute(db);
  return Number(rows[0]!.deliveries);
}
