import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { requireToken, type TokenVariables, type TokenVerifier } from '../auth/bearer.ts';
import type { Config } from '../config.ts';
import type { Database, NotificationChannelRow } from '../db/database.ts';
import type { SecretBox } from '../lib/crypto.ts';
import type { Logger } from '../lib/log.ts';
import { jsonBody, ProblemError } from '../lib/problem.ts';
import {
  ChannelEditRefused,
  deleteChannel,
  findChannel,
  insertChannel,
  listChannels,
  updateChannel,
} from './channels.repo.ts';
import { createChannelSchema, toFieldErrors, updateChannelSchema } from './channels.schema.ts';
import { testChannel, toChannelResource } from './channels.service.ts';
import { NO_SMTP } from './send.ts';

/* `/api/v1/org/notification-channels`: bearer token with view_tools, as the rest of the configuration API. */

function invalid(errors: { field: string; message: string }[] | z.ZodError): ProblemError {
  return new ProblemError({
    status: 422,
    type: 'validation',
    title: 'Invalid notification channel',
    detail: 'The request names fields that are missing or wrong; nothing was changed.',
    errors: Array.isArray(errors) ? errors : toFieldErrors(errors),
  });
}

/** The 422 of an email channel on a deployment without a mail server. */
export function smtpMissing(): ProblemError {
  return invalid([{ field: 'kind', message: NO_SMTP }]);
}

function notFound(id: string): ProblemError {
  return new ProblemError({
    status: 404,
    type: 'not-found',
    title: 'Notification channel not found',
    detail: `There is no notification channel "${id}".`,
  });
}

export function notificationApiRoutes(deps: {
  db: Kysely<Database>;
  secrets: SecretBox;
  tokens: TokenVerifier;
  config: Config;
  log: Logger;
}) {
  const { db, secrets } = deps;
  async function existing(id: string): Promise<NotificationChannelRow> {
    const row = await findChannel(db, id);
    if (!row) throw notFound(id);
    return row;
  }

  return new Hono<{ Variables: TokenVariables }>()
    .use(requireToken(deps.tokens, ['view_tools']))
    .get('/', async (c) =>
      c.json({ notification_channels: (await listChannels(db)).map((row) => toChannelResource(row, secrets)) }),
    )
    .post('/', async (c) => {
      const body = createChannelSchema.safeParse(await jsonBody(c));
      if (!body.success) throw invalid(body.error);
      if (body.data.kind === 'email' && !deps.config.notifications.smtpUrl) throw smtpMissing();
      const { channel, signingSecret } = await insertChannel(db, secrets, body.data);
      deps.log.info('notification channel created', {
        channel: channel.id,
        kind: channel.kind,
        actor: c.get('token').actor,
      });
      return c.json(toChannelResource(channel, secrets, signingSecret), 201);
    })
    .get('/:id', async (c) => c.json(toChannelResource(await existing(c.req.param('id')), secrets)))
    .patch('/:id', async (c) => {
      const channel = await existing(c.req.param('id'));
      const body = updateChannelSchema.safeParse(await jsonBody(c));
      if (!body.success) throw invalid(body.error);
      try {
        const row = await updateChannel(db, secrets, channel, body.data);
        if (!row) throw notFound(channel.id);
        return c.json(toChannelResource(row, secrets));
      } catch (error) {
        if (error instanceof ChannelEditRefused) throw invalid([{ field: error.field, message: error.message }]);
        throw error;
      }
    })
    .delete('/:id', async (c) => {
      if (!(await deleteChannel(db, c.req.param('id')))) throw notFound(c.req.param('id'));
      return c.body(null, 204);
    })
    .post('/:id/_test', async (c) => c.json(await testChannel(await existing(c.req.param('id')), deps)));
}
