import { randomBytes } from 'node:crypto';
import type { Db, NotificationChannelRow } from '../db/database.ts';
import type { SentNotice } from '../db/read-models.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { CreateChannel, UpdateChannel } from './channels.schema.ts';

/* All SQL about notification channels and what was sent to them. */

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export function generateChannelSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export async function listChannels(db: Db): Promise<NotificationChannelRow[]> {
  return db.selectFrom('notification_channels').selectAll().orderBy('created_at').orderBy('id').execute();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function findChannel(db: Db, id: string): Promise<NotificationChannelRow | undefined> {
  if (!UUID.test(id)) return undefined;
  return db.selectFrom('notification_channels').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Creates a channel; for a webhook, the signing secret in full (given or generated), to be shown once. */
export async function insertChannel(
  db: Db,
  secrets: SecretBox,
  input: CreateChannel,
): Promise<{ channel: NotificationChannelRow; signingSecret?: string }> {
  const filter = { filter_integrations: input.filter?.integrations ?? [], filter_types: input.filter?.types ?? [] };
  if (input.kind === 'email') {
    const channel = await db
      .insertInto('notification_channels')
      .values({ kind: 'email', email_to: input.to, ...filter })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { channel };
  }
  const signingSecret = input.signing_secret ?? generateChannelSecret();
  const channel = await db
    .insertInto('notification_channels')
    .values({
      kind: 'webhook',
      url: input.url,
      format: input.format,
      signing_secret_enc: secrets.encrypt(signingSecret),
      ...filter,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { channel, signingSecret };
}

/** Thrown when a change names a field of the other kind (`to` for a webhook…). */
export class ChannelEditRefused extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export async function updateChannel(
  db: Db,
  secrets: SecretBox,
  channel: NotificationChannelRow,
  changes: UpdateChannel,
): Promise<NotificationChannelRow | undefined> {
  const foreign =
    channel.kind === 'email'
      ? (['url', 'format', 'signing_secret'] as const).find((field) => changes[field] !== undefined)
      : changes.to !== undefined
        ? 'to'
        : undefined;
  if (foreign) throw new ChannelEditRefused(foreign, `is not a field of ${channel.kind} channels`);
  return db
    .updateTable('notification_channels')
    .set({
      ...(changes.url !== undefined ? { url: changes.url } : {}),
      ...(changes.format !== undefined ? { format: changes.format } : {}),
      ...(changes.signing_secret !== undefined ? { signing_secret_enc: secrets.encrypt(changes.signing_secret) } : {}),
      ...(changes.to !== undefined ? { email_to: changes.to } : {}),
      ...(changes.filter !== undefined
        ? { filter_integrations: changes.filter.integrations, filter_types: changes.filter.types }
        : {}),
      updated_at: new Date(),
    })
    .where('id', '=', channel.id)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes the channel with what was queued for it; false when there was none. */
export async function deleteChannel(db: Db, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const result = await db.deleteFrom('notification_channels').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The channel's latest notices with their outcome, newest first. */
export async function recentNotices(db: Db, channelId: string, limit = 50): Promise<SentNotice[]> {
  return db
    .selectFrom('notification_sends as s')
    .innerJoin('notifications as n', 'n.id', 's.notification_id')
    .select([
      'n.id',
      'n.type',
      'n.integration_id',
      'n.occurred_at',
      'n.reason',
      's.status',
      's.attempts',
      's.sent_at',
      's.last_error',
      's.next_attempt_at',
    ])
    .where('s.channel_id', '=', channelId)
    .orderBy('n.occurred_at', 'desc')
    .orderBy('n.id', 'desc')
    .limit(limit)
    .execute();
}
