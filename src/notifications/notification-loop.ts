import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Logger } from '../lib/log.ts';
import { createLoop, type Loop } from '../loops/loop.ts';
import type { NoticeFacts } from './message.ts';
import { sendNotice } from './send.ts';

/*
 * The notification worker: claims due sends from the outbox under a lease
 * (as deliveries are claimed), sends each, records the attempt and settles
 * it — guarded by the lease owner, so a send whose lease was lost and taken
 * by another process is not settled twice. Several processes share the
 * outbox; a process killed mid-send leaves its lease to run out, and the
 * send is taken again (at least once; exactly once in normal operation).
 */

/** After the first try: 10 s, 30 s, 1, 5, 15, 30 min, 1, 2, 4, 8 h (≈16 h), then failed. */
export const NOTIFICATION_RETRY_SCHEDULE_MS = [
  10_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000,
];
/** Long past a send's timeouts (resolve, connect, answer), so a live send keeps its lease. */
const LEASE_MS = 120_000;
const CLAIM_LIMIT = 16;
const POLL_MS = 1_000;

export interface NotificationLoopDeps {
  db: Kysely<Database>;
  config: Config;
  secrets: SecretBox;
  log: Logger;
  /** Tests shorten the retries. */
  retryScheduleMs?: readonly number[];
  pollIntervalMs?: number;
}

export interface NotificationLoop extends Loop {
  /** One round, for tests: claims what is due and sends it. Resolves to how many were claimed. */
  runOnce(): Promise<number>;
}

interface ClaimedSend {
  channel_id: string;
  notification_id: string;
  attempts: number;
}

export function createNotificationLoop(deps: NotificationLoopDeps): NotificationLoop {
  const { db, log } = deps;
  const schedule = deps.retryScheduleMs ?? NOTIFICATION_RETRY_SCHEDULE_MS;
  let owner = '';

  async function claim(): Promise<ClaimedSend[]> {
    // SKIP LOCKED: processes claiming at once take different rows instead of
    // queueing on each other's; a lease still held (not expired) is skipped.
    const { rows } = await sql<ClaimedSend>`
      update notification_sends s
      set lease_owner = ${owner}, lease_expires_at = now() + ${`${LEASE_MS} milliseconds`}::interval,
        attempts = s.attempts + 1
      where (s.channel_id, s.notification_id) in (
        select channel_id, notification_id from notification_sends
        where status = 'pending' and next_attempt_at <= now()
          and (lease_expires_at is null or lease_expires_at < now())
        order by next_attempt_at
        limit ${CLAIM_LIMIT}
        for update skip locked)
      returning s.channel_id, s.notification_id, s.attempts`.execute(db);
    return rows;
  }

  async function factsOf(notificationId: string): Promise<NoticeFacts> {
    const row = await db
      .selectFrom('notifications')
      .selectAll()
      .where('id', '=', notificationId)
      .executeTakeFirstOrThrow();
    return {
      id: row.id,
      type: row.type,
      integration_id: row.integration_id,
      occurred_at: row.occurred_at,
      reason: row.reason,
      details: row.details,
      url: deps.config.notifications.publicUrl + row.path,
    };
  }

  async function sendOne(send: ClaimedSend) {
    const channel = await db
      .selectFrom('notification_channels')
      .selectAll()
      .where('id', '=', send.channel_id)
      .executeTakeFirst();
    if (!channel) return; // deleted meanwhile: its sends went with it
    const facts = await factsOf(send.notification_id);
    const attemptedAt = new Date();
    const result = await sendNotice(channel, facts, deps);
    const delay = schedule[send.attempts - 1];
    const status = result.ok ? 'sent' : delay === undefined ? 'failed' : 'pending';
    await db.transaction().execute(async (trx) => {
      const settled = await trx
        .updateTable('notification_sends')
        .set({
          status,
          // The owner stays (who sent it, or tried last); only the expiry says a lease is held.
          lease_expires_at: null,
          last_error: result.error,
          ...(result.ok ? { sent_at: attemptedAt } : {}),
          ...(status === 'pending' ? { next_attempt_at: new Date(Date.now() + delay!) } : {}),
        })
        .where('channel_id', '=', send.channel_id)
        .where('notification_id', '=', send.notification_id)
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      if (settled.numUpdatedRows === 0n) return; // the lease ran out and another process has it
      await trx
        .insertInto('notification_attempts')
        .values({
          channel_id: send.channel_id,
          notification_id: send.notification_id,
          attempted_at: attemptedAt,
          duration_ms: result.durationMs,
          ok: result.ok,
          status_code: result.statusCode,
          error: result.error,
        })
        .execute();
    });
    if (!result.ok) {
      log.warn('notification not sent', {
        channel: send.channel_id,
        notification: send.notification_id,
        type: facts.type,
        attempts: send.attempts,
        error: result.error,
        final: status === 'failed',
      });
    }
  }

  async function runOnce(): Promise<number> {
    const claimed = await claim();
    await Promise.all(
      claimed.map((send) =>
        sendOne(send).catch((error) => {
          // Left leased: taken again when the lease runs out.
          log.error('a notification could not be sent', { notification: send.notification_id, error });
        }),
      ),
    );
    return claimed.length;
  }

  const loop = createLoop({
    name: 'notifications',
    log,
    pollIntervalMs: deps.pollIntervalMs ?? POLL_MS,
    core: () => ({ round: async () => (await runOnce()) === CLAIM_LIMIT }),
  });
  owner = loop.owner;
  return Object.assign(loop, { runOnce });
}
