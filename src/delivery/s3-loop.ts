import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { setIntegrationStatus } from './integration-status.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Logger } from '../lib/log.ts';
import { createLoop, type Loop } from '../loops/loop.ts';
import { integrationsById } from './deliveries.repo.ts';
import {
  type ClaimedBatch,
  claimDueBatches,
  markBatchFailed,
  markBatchUploaded,
  releaseBatchLeases,
  runningS3Integrations,
  sealBatches,
} from './s3-batches.repo.ts';
import type { CopyOut } from './s3-batch-lines.ts';
import { classifyS3Error, s3ClientFor, uploadBatch } from './s3-upload.ts';
import { s3RetryDelayMs } from './retry.ts';

/*
 * The S3 batch loop. A few uploaders run side by side; each, in turn, seals
 * what is due — per running S3 integration, a batch whenever the unbatched
 * pending NDJSON fills S3_BATCH_MAX_BYTES, and the remainder once
 * S3_BATCH_INTERVAL_MS has passed since the previous batch was sent — then
 * leases one sealed batch, streams it from the database to S3 and marks its
 * members delivered. So while one batch uploads, the next is sealed and
 * another is marked. Transient errors retry with backoff; permanent ones
 * stop the integration with what to fix. A crash between upload and marking
 * leaves the batch sealed: its retry writes the same bytes to the same key.
 *
 * Each batch is uploaded with its integration's row as it is when the
 * batch is claimed (a stopped integration's batches are not claimed). On
 * shutdown, uploads get until shortly before the deadline; what cannot
 * finish is aborted, and every batch still leased is handed back, so a
 * restarted or other process takes it at once.
 */

const LEASE_MS = 10 * 60_000;
const UPLOADS_AT_ONCE = 2;
/**
 * Sealed batches per integration (uploading or waiting): one more than the
 * uploaders, so the next is ready when one finishes. Sealing reads past the
 * open batches' members, and holds the ids of what it seals, so sealing
 * them one at a time as room appears keeps that small (bench/s3.ts).
 */
const MAX_OPEN_BATCHES = UPLOADS_AT_ONCE + 1;
/** On shutdown, uploads still running this long before the deadline are aborted. */
const ABORT_BEFORE_DEADLINE_MS = 1_500;

export interface S3LoopDeps {
  db: Kysely<Database>;
  /** The database's COPY export, which batches are read through. */
  copyOut: CopyOut;
  secrets: SecretBox;
  config: Config;
  log: Logger;
  now?: () => Date;
  pollIntervalMs?: number;
  /** Multipart part size; tests make it small to exercise multipart uploads with small batches. */
  partSize?: number;
  /** Parquet row group size; tests make it small to write several row groups with small batches. */
  rowGroupBytes?: number;
  /** Test hook: runs after an upload and before marking it (to simulate a crash there). */
  beforeMark?: (batchId: string) => Promise<void>;
}

export interface S3Loop extends Loop {
  /** Seal what is due, upload what is sealed; returns batches uploaded. */
  runOnce(): Promise<number>;
  /** Batch uploads under way in this process. */
  uploading(): number;
}

export function createS3Loop(deps: S3LoopDeps): S3Loop {
  const { db, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  let stopping = false;
  let uploadedTotal = 0;
  /** One controller per upload under way, aborted when shutdown runs out of time. */
  const uploads = new Set<AbortController>();
  let roundDone: Promise<unknown> = Promise.resolve();

  const shell = createLoop({
    name: 's3-batches',
    log,
    pollIntervalMs: deps.pollIntervalMs ?? Math.min(1_000, config.s3.batchIntervalMs),
    core: () => ({
      round: async () => {
        const round = runOnce();
        roundDone = round.catch(() => {});
        await round;
        return false;
      },
      drain,
    }),
  });
  const owner = shell.owner;

  async function sealDue(integration: IntegrationRow): Promise<void> {
    const sealed = await sealBatches(db, integration, {
      tenant: config.tenant,
      maxBytes: config.s3.batchMaxBytes,
      intervalMs: config.s3.batchIntervalMs,
      maxOpen: MAX_OPEN_BATCHES,
      now: now(),
    });
    for (const batch of sealed)
      log.debug('batch sealed', { integration: integration.id, batch: batch.id, events: batch.event_count });
  }

  /**
   * Uploads a batch, calls `uploaded` (so the uploader can go on to the
   * next while the database marks this one), then — after the previous
   * batch's marking — marks it. Resolves whether it was delivered.
   */
  async function deliver(
    integration: IntegrationRow,
    batch: ClaimedBatch,
    uploaded: () => void,
    previousMarking: Promise<unknown>,
  ): Promise<boolean> {
    const started = performance.now();
    const attemptedAt = now();
    const client = s3ClientFor(integration, deps.secrets, config.outbound);
    const controller = new AbortController();
    uploads.add(controller);
    try {
      await uploadBatch(deps.copyOut, client, integration, batch, {
        partSize: deps.partSize,
        rowGroupBytes: deps.rowGroupBytes,
        signal: controller.signal,
      });
      uploads.delete(controller);
      uploaded();
      await previousMarking;
      await deps.beforeMark?.(batch.id);
      return await markBatchUploaded(db, {
        batchId: batch.id,
        integrationId: integration.id,
        owner,
        uploadedAt: now(),
        durationMs: Math.round(performance.now() - started),
      });
    } catch (error) {
      if (controller.signal.aborted) {
        // Shut down mid-upload: not a failure of the batch; another process takes it now.
        await releaseBatchLeases(db, owner, [batch.id]);
        log.info('batch upload aborted for shutdown; handed back', { integration: integration.id, batch: batch.id });
        return false;
      }
      const failure = classifyS3Error(error);
      const delay = s3RetryDelayMs(batch.attempts);
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
        await setIntegrationStatus(
          db,
          integration.id,
          'stopped',
          `S3 upload refused (${failure.code}): ${failure.message}`,
          'system',
          {
            type: 'integration.stopped',
            details: { cause: 's3_permanent_error', error_code: failure.code, bucket: integration.s3_bucket },
          },
        );
      }
      log.warn('batch upload failed', {
        integration: integration.id,
        batch: batch.id,
        code: failure.code,
        permanent: failure.permanent,
      });
      return false;
    } finally {
      uploads.delete(controller);
      uploaded();
      client.destroy();
    }
  }

  /** The integration of a just-claimed batch as it is now; undefined (batch handed back) when no longer running. */
  async function integrationOf(batch: ClaimedBatch): Promise<IntegrationRow | undefined> {
    const [row] = await integrationsById(db, [batch.integration_id]);
    if (row?.status === 'running') return row;
    await releaseBatchLeases(db, owner, [batch.id]);
    return undefined;
  }

  async function runOnce(): Promise<number> {
    const integrations = new Map((await runningS3Integrations(db)).map((integration) => [integration.id, integration]));
    let uploaded = 0;
    // One uploader seals at a time, and the others wait for it rather than
    // finding nothing sealed yet and giving up.
    let sealing = Promise.resolve();
    function sealAll() {
      const round = sealing.then(async () => {
        for (const integration of integrations.values()) if (!stopping) await sealDue(integration);
      });
      sealing = round.catch(() => {});
      return round;
    }
    async function uploader() {
      let marking: Promise<unknown> | undefined;
      while (!stopping) {
        await sealAll();
        const [batch] = stopping
          ? []
          : await claimDueBatches(db, {
              integrationIds: [...integrations.keys()],
              owner,
              now: now(),
              leaseMs: LEASE_MS,
              limit: 1,
            });
        if (!batch) {
          if (!marking) break;
          // The batch being marked still counts as open: once it is marked,
          // there may be room to seal more.
          await marking;
          marking = undefined;
          continue;
        }
        const integration = await integrationOf(batch);
        if (!integration) continue;
        if (stopping) {
          // Claimed as shutdown began: not started, so handed straight back.
          await releaseBatchLeases(db, owner, [batch.id]);
          break;
        }
        const { promise: upload, resolve: onUploaded } = Promise.withResolvers<void>();
        marking = deliver(integration, batch, onUploaded, marking ?? Promise.resolve()).then(
          (delivered) => void (delivered && uploaded++),
        );
        await upload;
      }
      await marking;
    }
    await Promise.all(Array.from({ length: UPLOADS_AT_ONCE }, uploader));
    uploadedTotal += uploaded;
    return uploaded;
  }

  async function drain(deadline: number): Promise<void> {
    stopping = true;
    const abort = setTimeout(
      () => {
        for (const controller of uploads) controller.abort();
      },
      Math.max(0, deadline - ABORT_BEFORE_DEADLINE_MS - Date.now()),
    );
    await Promise.race([roundDone, Bun.sleep(Math.max(0, deadline - 500 - Date.now()))]);
    clearTimeout(abort);
    // Whatever is still leased here (a marking under way or failed, say)
    // goes back now, not in 10 minutes. Should a marking still finish, its
    // lease is gone and it changes nothing: the batch is uploaded again to
    // the same key, with the same bytes.
    await releaseBatchLeases(db, owner).catch((error: unknown) =>
      log.warn('could not hand back S3 batches; their leases will run out', { error }),
    );
    log.info('s3 batches stopped', { owner, uploaded: uploadedTotal });
  }

  return Object.assign(shell, { runOnce, uploading: () => uploads.size });
}
