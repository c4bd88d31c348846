import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import type { DatabaseSession } from '../db/session.ts';
import { setIntegrationStatus } from './integration-status.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Logger } from '../lib/log.ts';
import { observeAttemptDuration } from '../lib/metrics.ts';
import { createLoop, type Loop } from '../loops/loop.ts';
import { AttemptRecorder } from './attempt-recorder.ts';
import { claimDueDeliveries, releaseDeliveries, releaseLeases, type ClaimedDelivery } from './deliveries.repo.ts';
import { LeaseBook, type Leased } from './lease-book.ts';
import { settlementFor } from './outcome.ts';
import { ServedIntegrations, type Served } from './served-integrations.ts';
import { listenForWake } from '../db/wake.ts';
import { describeStatus, type AttemptResult } from './webhook.ts';
import { stopSpentIntegrations } from './webhook-housekeeping.ts';
import { releaseStrandedLines } from '../events/entity-lines.ts';
import { sendDelivery } from './webhook-target.ts';

/*
 * The webhook delivery loop. Claim due deliveries of running webhook
 * integrations under a lease → start them under a global and a
 * per-integration limit, a slot going to the integration that has waited
 * longest → record the results in batches (AttemptRecorder).
 *
 * - Fair: a slow or dead receiver fills its own integration's slots and no
 *   more; each integration holds its limit in flight plus a few times as
 *   many claimed, so a freed slot is refilled without a round trip.
 * - Bounded: at most 2 × DELIVERY_CONCURRENCY attempts are ever sent and
 *   not yet recorded; past that nothing is claimed or started until the
 *   database catches up.
 * - Never on a short lease: an attempt starts only while its lease covers
 *   the request and its recording; the lease keeper extends the leases of
 *   everything held (waiting, on the wire, unrecorded), so a slow database
 *   does not let another worker send it again.
 * - Current: an attempt starts only with the integration's row read after
 *   taking its fence (integration-fence.ts), so once a stop or an edit has
 *   answered, nothing starts with the old state, in any process.
 *
 * Woken by ingest's NOTIFY, by freed room and by integration changes;
 * polls as well, which is the source of truth.
 */

const CLAIM_BATCH = 100;
/** Each integration holds up to this many times its limit (in flight + claimed): fewer, larger claims. */
const READY_FACTOR = 4;
const HOUSEKEEPING_EVERY_MS = 5_000;
/** How often lines of ordered deliveries are swept for a first one left waiting (it reads them all: not per round). */
const LINE_SWEEP_EVERY_MS = 60_000;
/** Lease left, beyond the request's timeout, for its result to be recorded. */
const RECORD_MARGIN_MS = 5_000;

export interface WebhookLoopDeps {
  db: Kysely<Database>;
  /** The process's database session: fences and wake-ups live on it. */
  session: DatabaseSession;
  secrets: SecretBox;
  config: Config;
  log: Logger;
  now?: () => Date;
  random?: () => number;
  pollIntervalMs?: number;
}

export interface WebhookLoopStats {
  /** Requests on the wire. */
  inFlight: number;
  /** Attempts sent and not yet recorded. */
  unrecorded: number;
  /** The most that were ever unrecorded at once. */
  peakUnrecorded: number;
  /** Claimed and waiting for a slot. */
  waiting: number;
}

export interface WebhookLoop extends Loop {
  /** Stops integrations that failed too long or whose temporary window is delivered. */
  housekeeping(): Promise<void>;
  stats(): WebhookLoopStats;
  /** One deterministic round for tests: claim, send everything claimed, record; resolves how many were claimed or attempted, whichever is more (claimed ones may be handed back unsent). */
  runOnce(): Promise<number>;
}

export function createWebhookLoop(deps: WebhookLoopDeps): WebhookLoop {
  const { db, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const limit = config.webhook.concurrency;
  const perIntegration = config.webhook.concurrencyPerIntegration;
  // Long enough for a request that runs to its timeout and its recording;
  // short enough that a dead worker's deliveries soon go out again.
  const leaseMs = config.webhook.timeoutMs * 2 + RECORD_MARGIN_MS;

  /** Integrations with claimed deliveries waiting for a free global slot, longest-waiting first. */
  const waiting = new Set<Served>();
  let inFlight = 0;
  let draining = false;
  let attempted = 0;
  let lastHousekeeping = 0;
  const stopsUnderWay = new Set<Promise<void>>();
  let inFlightDrained: (() => void) | undefined;

  const shell = createLoop({
    name: 'webhook-delivery',
    log,
    pollIntervalMs: deps.pollIntervalMs ?? 1_000,
    core: () => ({ open, round, drain }),
  });
  const owner = shell.owner;
  const leases = new LeaseBook({ db, owner, leaseMs, log, onLost: (lost) => forgetLost(lost) });
  const recorder = new AttemptRecorder({
    db,
    owner,
    log,
    onRecorded: (batch) => {
      leases.forget(batch);
      pump();
      shell.wake();
    },
  });
  const served = new ServedIntegrations({
    db,
    session: deps.session,
    owner,
    onCurrent: (integration) => offer(integration),
    onChange: () => shell.wake(),
    forget: (unsent) => leases.forget(unsent),
  });
  const current = (integration: Served) => !draining && served.current(integration);
  const roomToSend = () => inFlight < limit && inFlight + recorder.unrecorded < 2 * limit;
  const waitingTotal = () => [...served.values()].reduce((sum, integration) => sum + integration.ready.length, 0);

  let opened: Promise<void> | undefined;
  function open(): Promise<void> {
    opened ??= (async () => {
      await served.open();
      await listenForWake(deps.session, (integrationIds) => {
        // Re-list the integrations only for work of one not served yet (just created or started).
        if (integrationIds === 'all' || integrationIds.some((id) => !served.has(id))) served.relist();
        shell.wake();
      });
      leases.start();
    })();
    return opened;
  }

  /** Leases due deliveries for the free room of each current integration. */
  async function claim(): Promise<number> {
    if (draining || inFlight + recorder.unrecorded >= 2 * limit) return 0; // backpressure: record first
    // Each integration its own room; the process's room caps the total in
    // the claim itself, oldest due first. (Handed out here integration by
    // integration, the room ran out at the 16th with the default limits,
    // whether or not those had work: the rest were never claimed for.)
    const total = limit * READY_FACTOR - inFlight - waitingTotal();
    if (total <= 0) return 0;
    const limits = new Map<string, number>();
    for (const integration of served.values()) {
      if (!current(integration)) continue;
      const room = Math.min(
        perIntegration * READY_FACTOR - integration.inFlight - integration.ready.length,
        total,
        CLAIM_BATCH,
      );
      if (room > 0) limits.set(integration.id, room);
    }
    const claimedAt = Date.now();
    const claimed = await claimDueDeliveries(db, { limits, total, owner, now: now(), leaseMs });
    for (const delivery of claimed) {
      const integration = served.get(delivery.integration_id);
      const held = leases.add(delivery, claimedAt);
      if (integration) integration.ready.push(held);
      else handBack([held]); // retired meanwhile
    }
    for (const id of new Set(claimed.map((delivery) => delivery.integration_id))) {
      const integration = served.get(id);
      if (integration) offer(integration);
    }
    return claimed.length;
  }

  /** Puts an integration with claimed work in line for global slots, and starts what the room allows. */
  function offer(integration: Served) {
    if (integration.ready.length > 0) waiting.add(integration);
    pump();
  }

  function pump() {
    for (const integration of waiting) {
      if (draining || !roomToSend()) return;
      waiting.delete(integration);
      while (
        integration.ready.length > 0 &&
        integration.inFlight < perIntegration &&
        current(integration) &&
        roomToSend()
      )
        startNext(integration);
      // Held back by the global room only: to the back of the line.
      if (integration.ready.length > 0 && integration.inFlight < perIntegration && current(integration))
        waiting.add(integration);
    }
  }

  function startNext(integration: Served) {
    const delivery = integration.ready.shift()!;
    // Started now, the request must end and be recorded before the lease
    // does, or another worker could send it too: hand it back instead.
    if (delivery.leaseUntil - Date.now() < config.webhook.timeoutMs + RECORD_MARGIN_MS) {
      handBack([delivery]);
      return;
    }
    const row = integration.row!;
    integration.inFlight++;
    integration.lastActive = Date.now();
    inFlight++;
    void attempt(row, delivery).then((result) => {
      integration.inFlight--;
      inFlight--;
      attempted++;
      if (result) {
        observeAttemptDuration(result.durationMs / 1000);
        recorder.add(
          settlementFor(delivery, result, {
            scheduleSeconds: config.webhook.retryScheduleSeconds,
            overloadFloorMs: config.webhook.overloadBackoffMs,
            random: deps.random,
          }),
        );
        if (result.attemptClass === 'interrupt') interrupt(integration, result);
      }
      if (inFlight === 0) inFlightDrained?.();
      offer(integration);
      shell.wake();
    });
  }

  /** Sends one delivery; undefined when it could not even be built (logged; its lease runs out). */
  async function attempt(row: IntegrationRow, delivery: ClaimedDelivery): Promise<AttemptResult | undefined> {
    try {
      return await sendDelivery(row, delivery, { secrets: deps.secrets, config, now });
    } catch (error) {
      log.error('a delivery could not be sent', { integration: row.id, event: delivery.event_id, error });
      return undefined;
    }
  }

  /** 401/403/404/410: nothing more starts for it here at once; the stop reaches every process through its fence. */
  function interrupt(integration: Served, result: AttemptResult) {
    if (integration.stopping) return;
    integration.stopping = true;
    const reason =
      result.statusCode !== null
        ? `Callback answered ${describeStatus(result.statusCode)}`
        : (result.errorMessage ?? 'Callback refused');
    const stop = (async () => {
      try {
        await setIntegrationStatus(db, integration.id, 'stopped', reason, 'system', {
          type: 'integration.stopped',
          details: {
            cause: 'interrupt',
            status_code: result.statusCode,
            error_class: result.errorClass,
          },
        });
        log.warn('integration stopped', { integration: integration.id, reason });
      } catch (error) {
        log.error('could not stop the integration', { integration: integration.id, reason, error });
      } finally {
        integration.stopping = false;
        integration.row = undefined; // re-read: stopped, so what it holds is handed back
        shell.wake();
      }
    })();
    stopsUnderWay.add(stop);
    void stop.finally(() => stopsUnderWay.delete(stop));
  }

  /** The lease keeper could not extend these: those not started yet must not be, another worker may have them. */
  function forgetLost(lost: Set<Leased>) {
    for (const integration of served.values()) {
      const unsent = integration.ready.filter((delivery) => lost.has(delivery));
      if (unsent.length === 0) continue;
      integration.ready = integration.ready.filter((delivery) => !lost.has(delivery));
      leases.forget(unsent);
    }
  }

  let lastLineSweep = 0;
  async function housekeeping() {
    await stopSpentIntegrations(db, config, now());
    if (Date.now() - lastLineSweep > LINE_SWEEP_EVERY_MS) {
      lastLineSweep = Date.now();
      const released = await releaseStrandedLines(db, now());
      if (released > 0) log.info('released ordered deliveries left waiting', { released });
    }
  }

  async function round(): Promise<boolean> {
    if (Date.now() - lastHousekeeping > HOUSEKEEPING_EVERY_MS) {
      lastHousekeeping = Date.now();
      await housekeeping();
    }
    await served.refresh();
    return (await claim()) > 0;
  }

  function whenNothingInFlight(deadline: number): Promise<void> {
    if (inFlight === 0) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => (inFlightDrained = resolve)),
      Bun.sleep(Math.max(0, deadline - Date.now())),
    ]);
  }

  /** Hand-backs on their way to the database (not waited for; a failed one's lease runs out). */
  const handingBack = new Set<Promise<void>>();
  function handBack(deliveries: Leased[]) {
    const handing = releaseDeliveries(db, owner, leases.forget(deliveries)).catch(() => {});
    handingBack.add(handing);
    void handing.finally(() => handingBack.delete(handing));
  }

  /** Hands back everything claimed and not started. */
  async function handBackWaiting() {
    waiting.clear();
    const unsent = [...served.values()].flatMap((integration) => integration.ready.splice(0));
    await releaseDeliveries(db, owner, leases.forget(unsent));
  }

  async function drain(deadline: number): Promise<void> {
    draining = true;
    await handBackWaiting().catch((error: unknown) =>
      log.warn('could not hand back claimed deliveries; their leases will run out', { error }),
    );
    // Requests on the wire get until a second before the deadline; then what they answered is recorded.
    await whenNothingInFlight(deadline - 1_000);
    await recorder.flush(deadline);
    leases.stop();
    served.close();
    await releaseLeases(db, owner).catch(() => {});
    log.info('webhook delivery stopped', { owner, attempted, unrecorded: recorder.unrecorded, in_flight: inFlight });
  }

  return Object.assign(shell, {
    housekeeping,
    stats: () => ({
      inFlight,
      unrecorded: recorder.unrecorded,
      peakUnrecorded: recorder.peak,
      waiting: waitingTotal(),
    }),
    async runOnce() {
      await open();
      await served.settled();
      served.relist();
      await served.refresh();
      const before = attempted;
      const claimed = await claim();
      while (inFlight > 0) await whenNothingInFlight(Infinity);
      await Promise.all(stopsUnderWay);
      await recorder.flush();
      await handBackWaiting();
      // A round is over once what it handed back is in the database.
      await Promise.all(handingBack);
      await served.releaseAll();
      return Math.max(claimed, attempted - before);
    },
  });
}
