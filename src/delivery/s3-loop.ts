import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { setIntegrationStatus } from '../integrations/integrations.service.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Logger } from '../lib/log.ts';
import type { BackgroundLoop } from '../loops/registry.ts';
import { claimDueBatches, markBatchFailed, markBatchUploaded, pendingVolume, runningS3Integrations, sealBatch } from './s3-batches.repo.ts';
import { checkS3Endpoint, classifyS3Error, s3ClientFor, uploadBatch } from './s3-upload.ts';

/*
 * The S3 batch loop. Per running S3 integration: seal a batch when the
 * unbatched pending NDJSON reaches S3_BATCH_MAX_BYTES (as many as the
 * backlog fills), or when S3_BATCH_INTERVAL_MS has passed since the previous
 * batch was sent and something waits; then upload sealed batches, each
 * leased to one worker, streaming from the database. Success marks every
 * member delivered. Transient errors retry with backoff; permanent ones stop
 * the integration with what to fix. A crash between upload and marking
 * leaves the batch sealed: its retry writes the same bytes to the same key.
 */

const LEASE_MS = 10 * 60_000;
const UPLOADS_AT_ONCE = 2;
/** Transient failures: 5 s, 30 s, 2 min, 10 min, then every 30 min. */
const BACKOFF_SECONDS = [5, 30, 120, 600, 1800];

export interface S3LoopDeps {
  db: Kysely<Database>;
  secrets: SecretBox;
  config: Config;
  log: Logger;
  now?: () => Date;
  pollIntervalMs?: number;
  /** Test hook: runs after an upload and before marking it (to simulate a crash there). */
  beforeMark?: (batchId: string) => Promise<void>;
}

export interface S3Loop extends BackgroundLoop {
  /** Seal what is due, upload what is sealed; returns batches uploaded. */
  runOnce(): Promise<number>;
  readonly owner: string;
}

export function createS3Loop(deps: S3LoopDeps): S3Loop {
  const { db, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const owner = `${hostname()}:${process.pid}:s3:${randomUUID().slice(0, 8)}`;
  let running = false;
  let loopDone: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function sealDue(integration: IntegrationRow): Promise<number> {
    let sealed = 0;
    for (;;) {
      const volume = await pendingVolume(db, integration.id);
      if (volume.events === 0) return sealed;
      const full = volume.bytes >= config.s3.batchMaxBytes;
      const since = (integration.last_batch_sent_at ?? integration.created_at).getTime();
      const due = now().getTime() - since >= config.s3.batchIntervalMs;
      if (!full && !(due && sealed === 0)) return sealed;
      const batch = await sealBatch(db, integration, { tenant: config.tenant, maxBytes: config.s3.batchMaxBytes, now: now() });
      if (!batch) return sealed;
      sealed++;
      log.debug('batch sealed', { integration: integration.id, batch: batch.id, events: batch.event_count });
      if (!full) return sealed;
    }
  }

  async function upload(integration: IntegrationRow, batch: { id: string; object_key: string; attempts: number }): Promise<boolean> {
    const started = performance.now();
    const attemptedAt = now();
    const refused = await checkS3Endpoint(integration, config.outbound);
    const client = s3ClientFor(integration, deps.secrets);
    try {
      if (refused) throw Object.assign(new Error(refused), { name: 'BlockedAddress' });
      await uploadBatch(db, client, integration, batch);
      await deps.beforeMark?.(batch.id);
      return await markBatchUploaded(db, { batchId: batch.id, integrationId: integration.id, owner, uploadedAt: now(), durationMs: Math.round(performance.now() - started) });
    } catch (error) {
      const failure = refused ? { permanent: true, code: 'BlockedAddress', message: refused } : classifyS3Error(error);
      const delay = (BACKOFF_SECONDS[Math.min(batch.attempts, BACKOFF_SECONDS.length - 1)] ?? 1800) * 1000;
      await markBatchFailed(db, {
        batchId: batch.id,
        owner,
        attemptedAt,
        durationMs: Math.round(performance.now() - started),
        permanent: failure.permanent,
        errorCode: failure.code,
        errorMessage: failure.message,
        nextAttemptAt: failure.permanent ? now() : new Date(now().getTime() + delay),
      });
      if (failure.permanent) {
        await setIntegrationStatus(db, integration.id, 'stopped', `S3 upload refused (${failure.code}): ${failure.message}`, 'system');
      }
      log.warn('batch upload failed', { integration: integration.id, batch: batch.id, code: failure.code, permanent: failure.permanent });
      return false;
    } finally {
      client.destroy();
    }
  }

  async function runOnce(): Promise<number> {
    const integrations = await runningS3Integrations(db);
    for (const integration of integrations) await sealDue(integration);
    const byId = new Map(integrations.map((integration) => [integration.id, integration]));
    let uploaded = 0;
    for (;;) {
      const batches = await claimDueBatches(db, { integrationIds: [...byId.keys()], owner, now: now(), leaseMs: LEASE_MS, limit: UPLOADS_AT_ONCE });
      if (batches.length === 0) return uploaded;
      const results = await Promise.all(batches.map((batch) => upload(byId.get(batch.integration_id)!, batch)));
      uploaded += results.filter(Boolean).length;
      // A permanent failure stops its integration: leave the rest of its batches alone.
      for (const [i, ok] of results.entries()) if (!ok) byId.delete(batches[i]!.integration_id);
    }
  }

  async function loop() {
    while (running) {
      try {
        await runOnce();
      } catch (error) {
        log.error('s3 loop round failed', { error });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deps.pollIntervalMs ?? Math.min(1_000, config.s3.batchIntervalMs));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  return {
    name: 's3-batches',
    owner,
    runOnce,
    start() {
      if (running) return;
      running = true;
      loopDone = loop();
    },
    async stop() {
      running = false;
      wake?.();
      await loopDone;
    },
  };
}
