import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import PQueue from 'p-queue';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { envelopeJson } from '../events/envelope.ts';
import { setIntegrationStatus } from '../integrations/integrations.service.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Logger } from '../lib/log.ts';
import { observeAttemptDuration } from '../lib/metrics.ts';
import type { BackgroundLoop } from '../loops/registry.ts';
import {
  claimDueDeliveries,
  completedTemporaryIntegrations,
  integrationsFailingSince,
  releaseDeliveries,
  releaseLeases,
  runningWebhookIntegrations,
  settleDeliveries,
  type ClaimedDelivery,
  type Settlement,
} from './deliveries.repo.ts';
import { nextRetryDelayMs } from './retry.ts';
import { attemptRecord, describeStatus, sendWebhook, type AttemptResult } from './webhook.ts';
import { webhookRequestFor } from './webhook-target.ts';

/*
 * The webhook delivery loop. Claim due deliveries of running webhook
 * integrations under a lease → send them through one queue with a global
 * and a per-integration limit → settle results in batches. Each integration
 * holds at most its limit in flight plus as many claimed and ready to go, so
 * a freed slot is refilled without a database round trip, and a claimed
 * delivery waits at most one request's time, far inside its lease. A slow
 * or dead receiver fills its own integration's slots and no more, so the
 * others go on (fairness).
 *
 * Woken by ingest's NOTIFY; polls as well, which is the source of truth.
 */

const CLAIM_BATCH = 100;
/** Each integration holds up to this many times its limit (in flight + ready): fewer, larger claims. */
const READY_FACTOR = 4;
const SETTLE_EVERY_MS = 20;
const SETTLE_BATCH = 500;
const HOUSEKEEPING_EVERY_MS = 5_000;
const INTEGRATIONS_CACHE_MS = 1_000;

export interface WebhookLoopDeps {
  db: Kysely<Database>;
  secrets: SecretBox;
  config: Config;
  log: Logger;
  /** Ingest's wake-up signal: resolves a wait early. */
  listen?: (onWake: (integrationIds: string[] | 'all') => void) => Promise<() => Promise<void>>;
  now?: () => Date;
  random?: () => number;
  pollIntervalMs?: number;
}

export interface WebhookLoop extends BackgroundLoop {
  /** One deterministic round: claim what is due, send it, settle it. Returns deliveries attempted. */
  runOnce(): Promise<number>;
  /** Stops integrations that failed too long or whose temporary window is delivered. */
  housekeeping(): Promise<void>;
  readonly owner: string;
}

export function createWebhookLoop(deps: WebhookLoopDeps): WebhookLoop {
  const { db, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const queue = new PQueue({ concurrency: config.webhook.concurrency });
  const inFlight = new Map<string, number>();
  /** Claimed deliveries waiting for a free slot of their integration. */
  const ready = new Map<string, { integration: IntegrationRow; deliveries: (ClaimedDelivery & { claimedAt: number })[] }>();
  // Long enough for a request that runs to its timeout and the settling
  // after it; short enough that a dead worker's deliveries soon go out again.
  const leaseMs = config.webhook.timeoutMs * 2 + 5_000;
  let buffer: Settlement[] = [];
  let flushing: Promise<void> | undefined;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let integrations: { rows: IntegrationRow[]; at: number } = { rows: [], at: -Infinity };
  let running = false;
  let wake: (() => void) | undefined;
  // Set when a slot frees or ingest signals while no one is waiting, so the
  // loop does not go to sleep on work that has already arrived.
  let signalled = false;
  const signal = () => {
    signalled = true;
    wake?.();
  };
  let loopDone: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let lastHousekeeping = 0;
  const interrupted = new Set<string>();
  let attempted = 0;

  async function activeIntegrations(fresh = false): Promise<IntegrationRow[]> {
    if (fresh || Date.now() - integrations.at > INTEGRATIONS_CACHE_MS) {
      integrations = { rows: await runningWebhookIntegrations(db), at: Date.now() };
    }
    return integrations.rows;
  }

  /** Decides what an attempt means for its delivery. */
  function settlementOf(delivery: ClaimedDelivery, result: AttemptResult): Settlement {
    const base = {
      integrationId: delivery.integration_id,
      eventId: delivery.event_id,
      trigger: delivery.next_attempt_trigger,
      ...attemptRecord(result),
    };
    switch (result.attemptClass) {
      case 'success':
        return { ...base, status: 'success', nextAttemptAt: result.attemptedAt, counted: 1, outcome: 'success' };
      case 'rejected':
        return { ...base, status: 'rejected', nextAttemptAt: result.attemptedAt, counted: 1, outcome: 'rejected' };
      case 'interrupt':
        return { ...base, status: 'pending', nextAttemptAt: result.attemptedAt, counted: 0, outcome: 'interrupt' };
      case 'retry': {
        const delay = nextRetryDelayMs({
          attempts: delivery.attempts + 1,
          scheduleSeconds: config.webhook.retryScheduleSeconds,
          retryAfterMs: result.retryAfterMs,
          overloaded: result.errorClass === 'timeout' || result.statusCode === 429,
          random: deps.random,
        });
        return delay === undefined
          ? { ...base, status: 'failure', nextAttemptAt: result.attemptedAt, counted: 1, outcome: 'failure' }
          : { ...base, status: 'pending', nextAttemptAt: new Date(result.attemptedAt.getTime() + delay), counted: 1, outcome: 'retry' };
      }
    }
  }

  async function interrupt(integration: IntegrationRow, result: AttemptResult) {
    if (interrupted.has(integration.id)) return;
    interrupted.add(integration.id);
    const reason = result.statusCode !== null ? `Callback answered ${describeStatus(result.statusCode)}` : (result.errorMessage ?? 'Callback refused');
    // What was claimed for it and not yet sent stays pending, for when it is started again.
    const held = ready.get(integration.id)?.deliveries ?? [];
    ready.delete(integration.id);
    await releaseDeliveries(db, owner, integration.id, held.map((delivery) => delivery.event_id));
    await setIntegrationStatus(db, integration.id, 'stopped', reason, 'system');
    integrations.at = -Infinity;
    log.warn('integration stopped', { integration: integration.id, reason });
  }

  async function deliver(integration: IntegrationRow, delivery: ClaimedDelivery): Promise<void> {
    let result: AttemptResult;
    if (delivery.payload === null || delivery.published_at === null) {
      const at = now();
      result = { attemptClass: 'rejected', attemptedAt: at, durationMs: 0, statusCode: null, errorClass: null, errorMessage: 'The event was pruned by retention before it could be delivered', responseBody: null };
    } else {
      const body = envelopeJson({
        id: delivery.event_id,
        tenant: delivery.tenant!,
        name: delivery.name!,
        publishedAt: delivery.published_at,
        payloadJson: delivery.payload,
      });
      result = await sendWebhook(webhookRequestFor(integration, deps.secrets, config, { id: delivery.event_id, body }, now()), now);
    }
    attempted++;
    observeAttemptDuration(result.durationMs / 1000);
    buffer.push(settlementOf(delivery, result));
    if (buffer.length >= SETTLE_BATCH) void flush();
    else flushTimer ??= setTimeout(() => void flush(), SETTLE_EVERY_MS);
    if (result.attemptClass === 'interrupt') await interrupt(integration, result);
  }

  /** Writes buffered settlements; one flush at a time. */
  function flush(): Promise<void> {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    flushing = (flushing ?? Promise.resolve()).then(async () => {
      while (buffer.length > 0) {
        const batch = buffer.slice(0, SETTLE_BATCH);
        buffer = buffer.slice(batch.length);
        try {
          await settleDeliveries(db, owner, batch);
        } catch (error) {
          // The leases run out and the deliveries are sent again: at-least-once.
          log.error('settling deliveries failed', { count: batch.length, error });
        }
      }
    });
    return flushing;
  }

  /** Claims what the free slots allow, per integration; returns how many were claimed. */
  /** Starts ready deliveries while their integration has free slots. */
  function startReady(integrationId: string) {
    const waiting = ready.get(integrationId);
    while (waiting && waiting.deliveries.length > 0 && (inFlight.get(integrationId) ?? 0) < config.webhook.concurrencyPerIntegration) {
      const delivery = waiting.deliveries.shift()!;
      // Behind a slow receiver a ready delivery can wait long. Started now, it
      // must finish (within the timeout) before its lease ends, or another
      // worker could send it too: past that point it is left for its lease
      // to run out and be claimed afresh.
      if (Date.now() - delivery.claimedAt > leaseMs - config.webhook.timeoutMs - 5_000) continue;
      const integration = waiting.integration;
      inFlight.set(integrationId, (inFlight.get(integrationId) ?? 0) + 1);
      void queue
        .add(() => deliver(integration, delivery))
        .catch((error: unknown) => log.error('delivery failed unexpectedly', { integration: integrationId, error }))
        .finally(() => {
          inFlight.set(integrationId, (inFlight.get(integrationId) ?? 1) - 1);
          startReady(integrationId);
          signal();
        });
    }
  }

  async function claimRound(freshIntegrations = false): Promise<number> {
    const byId = new Map((await activeIntegrations(freshIntegrations)).map((integration) => [integration.id, integration]));
    const perIntegration = config.webhook.concurrencyPerIntegration;
    let globalRoom = config.webhook.concurrency * READY_FACTOR - (queue.size + queue.pending) - [...ready.values()].reduce((sum, entry) => sum + entry.deliveries.length, 0);
    const limits = new Map<string, number>();
    for (const id of byId.keys()) {
      const held = (inFlight.get(id) ?? 0) + (ready.get(id)?.deliveries.length ?? 0);
      const room = Math.min(perIntegration * READY_FACTOR - held, globalRoom, CLAIM_BATCH);
      if (room <= 0) continue;
      limits.set(id, room);
      globalRoom -= room;
    }
    const deliveries = await claimDueDeliveries(db, { limits, owner, now: now(), leaseMs });
    for (const delivery of deliveries) {
      const integration = byId.get(delivery.integration_id)!;
      const entry = ready.get(integration.id) ?? { integration, deliveries: [] };
      entry.integration = integration;
      entry.deliveries.push({ ...delivery, claimedAt: Date.now() });
      ready.set(integration.id, entry);
    }
    for (const id of new Set(deliveries.map((delivery) => delivery.integration_id))) startReady(id);
    return deliveries.length;
  }

  async function housekeeping(): Promise<void> {
    const failingSince = new Date(now().getTime() - config.webhook.stopAfterFailingMs);
    for (const failing of await integrationsFailingSince(db, failingSince)) {
      const hours = Math.round(config.webhook.stopAfterFailingMs / 3_600_000);
      await setIntegrationStatus(db, failing.id, 'stopped', `Deliveries failed continuously for ${hours} h (since ${failing.failing_since.toISOString()})`, 'system');
    }
    for (const id of await completedTemporaryIntegrations(db, now())) {
      await setIntegrationStatus(db, id, 'stopped', 'completed', 'system');
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      try {
        if (Date.now() - lastHousekeeping > HOUSEKEEPING_EVERY_MS) {
          lastHousekeeping = Date.now();
          await housekeeping();
        }
        interrupted.clear();
        const claimed = await claimRound();
        if (claimed > 0) continue;
      } catch (error) {
        log.error('delivery loop round failed', { error });
      }
      if (signalled) {
        signalled = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deps.pollIntervalMs ?? 1_000);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          signalled = false;
          resolve();
        };
      });
    }
  }

  return {
    name: 'webhook-delivery',
    owner,
    housekeeping,
    async runOnce() {
      interrupted.clear();
      const claimed = await claimRound(true);
      while (queue.size + queue.pending > 0) await queue.onIdle();
      await flush();
      return claimed;
    },
    start() {
      if (running) return;
      running = true;
      void deps.listen?.((integrationIds) => {
        // Re-read the integrations only when the work is for one not known yet
        // (just created or started): not on every ingest commit.
        const known = new Set(integrations.rows.map((row) => row.id));
        if (integrationIds === 'all' || integrationIds.some((id) => !known.has(id))) integrations.at = -Infinity;
        signal();
      }).then((stop) => (unlisten = stop));
      loopDone = loop();
    },
    async stop(deadlineMs) {
      running = false;
      signal();
      await loopDone;
      await unlisten?.();
      // In-flight requests get until the deadline; whatever is left is handed back.
      ready.clear();
      queue.clear();
      await Promise.race([queue.onIdle(), Bun.sleep(deadlineMs)]);
      await flush();
      await releaseLeases(db, owner);
      log.info('webhook delivery stopped', { owner, attempted });
    },
  };
}
