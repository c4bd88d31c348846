import { sql } from 'kysely';
import type { AttemptOutcome, AttemptTrigger, Db, DeliveryStatus, IntegrationRow } from '../db/database.ts';
import { isFirstInLine, releaseNextInLine } from '../events/entity-lines.ts';

/** A leased delivery with what it takes to send it. */
export interface ClaimedDelivery {
  integration_id: string;
  event_id: string;
  attempts: number;
  next_attempt_trigger: AttemptTrigger;
  /** Absent when retention pruned the event under a pending delivery. */
  tenant: string | null;
  name: string | null;
  published_at: Date | null;
  payload: string | null;
}

/**
 * Leases due deliveries, oldest due first, up to a limit per integration
 * (its free slots) and a total (the process's free room), for all
 * integrations in one statement — only those
 * still running, whatever the caller last knew. FOR UPDATE SKIP
 * LOCKED lets any number of workers claim side by side without waiting on
 * each other or taking the same row. A delivery whose lease has run out
 * (its worker died) is simply claimable again: the claim is the stale-lease
 * sweep. Only unindexed lease columns change, so the claim is a HOT update
 * that leaves the indexes alone (see the table's fillfactor). An ordered
 * delivery is taken only first in its line (src/events/entity-lines.ts):
 * an entity never has two in flight, whichever worker claims.
 */
export async function claimDueDeliveries(
  db: Db,
  input: {
    limits: Map<string, number>;
    /** At most this many in all, oldest due first whichever integration they are for; no cap when absent. */
    total?: number;
    owner: string;
    now: Date;
    leaseMs: number;
  },
): Promise<ClaimedDelivery[]> {
  if (input.limits.size === 0) return [];
  const until = new Date(input.now.getTime() + input.leaseMs);
  const { rows } = await sql<ClaimedDelivery>`
    with wanted as (
      select w.* from unnest(${[...input.limits.keys()]}::text[], ${[...input.limits.values()]}::integer[]) as w(integration_id, slots)
      join integrations i on i.id = w.integration_id and i.status = 'running' and i.deleted_at is null
    ),
    due as (
      select d.integration_id, d.event_id
      from wanted w
      cross join lateral (
        select d.integration_id, d.event_id, d.next_attempt_at from deliveries d
        where d.integration_id = w.integration_id and d.status = 'pending' and d.next_attempt_at <= ${input.now}
          and (d.lease_expires_at is null or d.lease_expires_at <= ${input.now})
          and ${isFirstInLine}
        order by d.next_attempt_at
        limit w.slots
        for update of d skip locked
      ) d
      order by d.next_attempt_at
      limit ${input.total ?? null}
    ),
    claimed as (
      update deliveries d set lease_owner = ${input.owner}, lease_expires_at = ${until}
      from due where d.integration_id = due.integration_id and d.event_id = due.event_id
      returning d.integration_id, d.event_id, d.attempts, d.next_attempt_trigger
    )
    select c.integration_id, c.event_id::text, c.attempts, c.next_attempt_trigger, e.tenant, e.name, e.published_at, e.payload
    from claimed c left join events e on e.id = c.event_id`.execute(db);
  return rows;
}

/** How one attempt leaves its delivery. */
export interface Settlement {
  integrationId: string;
  eventId: string;
  status: DeliveryStatus;
  nextAttemptAt: Date;
  /** 1 when the attempt counts against the retry schedule (not for an interruption). */
  counted: 0 | 1;
  outcome: AttemptOutcome;
  trigger: AttemptTrigger;
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorClass: string | null;
  errorMessage: string | null;
  responseBody: string | null;
}

// Postgres text cannot hold NUL; receivers can send anything.
const clean = (value: string | null) => (value === null ? null : value.replaceAll('\u0000', '\uFFFD'));

/**
 * Settles a batch of attempts in one statement: each delivery's new state
 * (only while `owner` still holds its lease, so a worker that lost its lease
 * cannot overwrite a newer result), its attempt row, the integrations'
 * counters (delivered count, last delivery, failing since) and the
 * per-minute rollup. Returns how many settlements were accepted.
 *
 * Counters and minutes are touched in key order, so that two workers'
 * settles lock the rows they share in the same order: grouped in no
 * particular order, they deadlocked now and then (bench/soak.ts). Should
 * one still lose a race to something else, the recorder writes the batch
 * again.
 */
export async function settleDeliveries(db: Db, owner: string | null, settlements: Settlement[]): Promise<number> {
  if (settlements.length === 0) return 0;
  const column = <T>(pick: (settlement: Settlement) => T) => settlements.map(pick);
  const { rows } = await sql<{ accepted: string; settled_lines: [string, string, string][] }>`
    with input as (
      select * from unnest(
        ${column((s) => s.integrationId)}::text[], ${column((s) => s.eventId)}::uuid[], ${column((s) => s.status)}::text[],
        ${column((s) => s.nextAttemptAt)}::timestamptz[], ${column((s) => s.counted)}::integer[], ${column((s) => s.outcome)}::text[],
        ${column((s) => s.trigger)}::text[], ${column((s) => s.attemptedAt)}::timestamptz[], ${column((s) => s.durationMs)}::integer[],
        ${column((s) => s.statusCode)}::integer[], ${column((s) => s.errorClass)}::text[], ${column((s) => clean(s.errorMessage))}::text[],
        ${column((s) => clean(s.responseBody))}::text[]
      ) as t(integration_id, event_id, status, next_attempt_at, counted, outcome, trigger, attempted_at, duration_ms,
             status_code, error_class, error_message, response_body)
    ),
    updated as (
      update deliveries d set
        status = i.status, attempts = d.attempts + i.counted, next_attempt_at = i.next_attempt_at,
        last_attempted_at = i.attempted_at, last_status_code = i.status_code,
        last_error = coalesce(i.error_message, case when i.outcome = 'success' then null else i.error_class end),
        response_time_ms = i.duration_ms, lease_owner = null, lease_expires_at = null, next_attempt_trigger = 'scheduled'
      from input i
      where d.integration_id = i.integration_id and d.event_id = i.event_id
        and (d.lease_owner = ${owner} or ${owner}::text is null)
      returning d.integration_id, d.event_id, d.status, d.order_sequence, d.domain_entity_type, d.domain_entity_id
    ),
    accepted as (select i.* from input i join updated u on u.integration_id = i.integration_id and u.event_id = i.event_id),
    attempts as (
      insert into delivery_attempts (integration_id, event_id, attempted_at, duration_ms, outcome, trigger, status_code, error_class, error_message, response_body)
      select integration_id, event_id, attempted_at, duration_ms, outcome, trigger, status_code, error_class, error_message, response_body from accepted
    ),
    counters as (
      update integrations g set
        delivered_count = g.delivered_count + s.delivered,
        last_delivery_at = case when s.delivered > 0 then greatest(g.last_delivery_at, s.last_success) else g.last_delivery_at end,
        failing_since = case when s.delivered > 0 then null when s.failed > 0 then coalesce(g.failing_since, s.first_failure) else g.failing_since end
      from (
        select integration_id,
          count(*) filter (where outcome = 'success') as delivered,
          max(attempted_at) filter (where outcome = 'success') as last_success,
          count(*) filter (where outcome in ('retry', 'failure')) as failed,
          min(attempted_at) filter (where outcome in ('retry', 'failure')) as first_failure
        from accepted group by integration_id
        order by integration_id
      ) s
      where g.id = s.integration_id
    ),
    minutes as (
      insert into delivery_minutes as m (integration_id, minute, delivered, failed, rejected, total_duration_ms)
      select integration_id, date_trunc('minute', attempted_at),
        count(*) filter (where outcome = 'success'),
        count(*) filter (where outcome in ('retry', 'failure')),
        count(*) filter (where outcome = 'rejected'),
        sum(duration_ms)
      from accepted group by 1, 2
      order by 1, 2
      on conflict (integration_id, minute) do update set
        delivered = m.delivered + excluded.delivered, failed = m.failed + excluded.failed,
        rejected = m.rejected + excluded.rejected, total_duration_ms = m.total_duration_ms + excluded.total_duration_ms
    )
    select
      (select count(*) from accepted) as accepted,
      coalesce((select json_agg(distinct jsonb_build_array(integration_id, domain_entity_type, domain_entity_id))
        from updated where order_sequence is not null and status <> 'pending'), '[]') as settled_lines`.execute(db);
  // The next in each line whose first has settled, now that the settle is committed (see entity-lines.ts).
  // The settle stands whatever becomes of this: a line left waiting (the database gone meanwhile) is the sweep's.
  const lines = (rows[0]?.settled_lines ?? []).map(([integrationId, domainEntityType, domainEntityId]) => ({
    integrationId,
    domainEntityType,
    domainEntityId,
  }));
  await releaseNextInLine(db, lines).catch(() => {});
  return Number(rows[0]?.accepted ?? 0);
}

/**
 * Hands leased deliveries back (shutdown). A claim never moves
 * next_attempt_at, so they are due again at once, for any worker.
 */
export async function releaseLeases(db: Db, owner: string): Promise<void> {
  await db
    .updateTable('deliveries')
    .set({ lease_owner: null, lease_expires_at: null })
    .where('lease_owner', '=', owner)
    .where('status', '=', 'pending')
    .execute();
}

/** A delivery's key. */
export interface DeliveryKey {
  integrationId: string;
  eventId: string;
}

const keyColumns = (keys: DeliveryKey[]) =>
  [keys.map((key) => key.integrationId), keys.map((key) => key.eventId)] as const;

/** Hands back leased deliveries that were not sent: due at once, for any worker. */
export async function releaseDeliveries(db: Db, owner: string, keys: DeliveryKey[]): Promise<void> {
  if (keys.length === 0) return;
  const [integrationIds, eventIds] = keyColumns(keys);
  await sql`
    update deliveries d set lease_owner = null, lease_expires_at = null
    from unnest(${integrationIds}::text[], ${eventIds}::uuid[]) as k(integration_id, event_id)
    where d.integration_id = k.integration_id and d.event_id = k.event_id and d.lease_owner = ${owner}`.execute(db);
}

/**
 * Moves the leases `owner` holds on these deliveries to `until`, and
 * returns the keys it still holds. Rows locked right now are skipped: they
 * are being settled, which protects them (a claim skips locked rows too).
 */
export async function extendLeases(db: Db, owner: string, keys: DeliveryKey[], until: Date): Promise<DeliveryKey[]> {
  if (keys.length === 0) return [];
  const [integrationIds, eventIds] = keyColumns(keys);
  const { rows } = await sql<{ integration_id: string; event_id: string }>`
    with held as (
      select d.integration_id, d.event_id from deliveries d
      join unnest(${integrationIds}::text[], ${eventIds}::uuid[]) as k(integration_id, event_id)
        on d.integration_id = k.integration_id and d.event_id = k.event_id
      where d.lease_owner = ${owner} and d.status = 'pending'
      for update of d skip locked
    )
    update deliveries d set lease_expires_at = ${until}
    from held where d.integration_id = held.integration_id and d.event_id = held.event_id
    returning d.integration_id, d.event_id::text`.execute(db);
  return rows.map((row) => ({ integrationId: row.integration_id, eventId: row.event_id }));
}

/** These integrations' rows as they are now (deleted ones are absent). */
export async function integrationsById(db: Db, ids: string[]): Promise<IntegrationRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('integrations').selectAll().where('id', 'in', ids).where('deleted_at', 'is', null).execute();
}

/** Ids of the integrations the webhook loop delivers for. */
export async function runningWebhookIntegrationIds(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('integrations')
    .select('id')
    .where('status', '=', 'running')
    .where('target_kind', '=', 'webhook')
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

/** Running integrations that have failed with no success since before `since`. */
export async function integrationsFailingSince(db: Db, since: Date): Promise<{ id: string; failing_since: Date }[]> {
  return db
    .selectFrom('integrations')
    .select(['id', 'failing_since'])
    .where('status', '=', 'running')
    .where('failing_since', '<', since)
    .where('deleted_at', 'is', null)
    .execute() as Promise<{ id: string; failing_since: Date }[]>;
}

/** Running temporary integrations past their end with nothing left to deliver from before it. */
export async function completedTemporaryIntegrations(db: Db, now: Date): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select i.id from integrations i
    where i.status = 'running' and i.integration_type = 'temporary' and i.deleted_at is null and i.ends_at <= ${now}
      and not exists (
        select 1 from deliveries d
        where d.integration_id = i.id and d.status = 'pending' and d.published_at < i.ends_at)`.execute(db);
  return rows.map((row) => row.id);
}
