import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject, ZodOpenApiResponsesObject } from 'zod-openapi';
import { NOTIFICATION_TYPES } from '../delivery/notify.ts';
import { createChannelSchema, updateChannelSchema } from '../notifications/channels.schema.ts';
import { BEARER, body, json, problems } from './operation-parts.ts';
import { connectionTestSchema } from './responses.ts';

/* Notification channels, under /api/v1/org/notification-channels. */

const time = z.iso.datetime().meta({ example: '2026-12-02T10:00:00.000Z' });

export const channelSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(['webhook', 'email']),
    url: z.string().optional().meta({ description: 'Webhook channels.' }),
    format: z.enum(['json', 'slack']).optional().meta({ description: 'Webhook channels.' }),
    signing_secret: z.string().optional().meta({
      description:
        'Webhook channels: in full in the answer to the creation only (save it then), masked (`••••3f9a`) afterwards.',
    }),
    to: z.array(z.string()).optional().meta({ description: 'Email channels: the recipients.' }),
    filter: z.object({ integrations: z.array(z.string()), types: z.array(z.enum(NOTIFICATION_TYPES)) }),
    created_at: time,
    updated_at: time,
  })
  .meta({
    id: 'NotificationChannel',
    description:
      'Where notices go. Each notice is `{type, id, occurred_at, integration_id, reason, details, url}`, signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`); Slack format sends `{"text": …}` instead; email carries the same facts in its subject and text.',
    example: {
      id: '0b6f2d0e-3c1a-4a53-9d1e-7f0e6a1b2c3d',
      kind: 'webhook',
      url: 'https://ops.example.com/hooks/tideway',
      format: 'json',
      signing_secret: '••••3f9a',
      filter: { integrations: [], types: ['integration.stopped'] },
      created_at: '2026-12-02T10:00:00.000Z',
      updated_at: '2026-12-02T10:00:00.000Z',
    },
  });

const channelListSchema = z
  .object({ notification_channels: z.array(channelSchema) })
  .meta({ id: 'NotificationChannelList' });

const channelIdParam = z.object({ id: z.string().meta({ description: 'The channel id (a UUID).' }) });

function operation(
  op: ZodOpenApiOperationObject & { responses: ZodOpenApiResponsesObject },
  ...statuses: number[]
): ZodOpenApiOperationObject {
  return {
    tags: ['Notifications'],
    security: BEARER,
    ...op,
    responses: { ...op.responses, ...problems(401, 403, ...statuses) },
  };
}

export function notificationPaths(): ZodOpenApiPathsObject {
  return {
    '/api/v1/org/notification-channels': {
      get: operation({
        operationId: 'listNotificationChannels',
        summary: 'List notification channels',
        responses: { '200': json(channelListSchema, 'Every channel; secrets masked.') },
      }),
      post: operation(
        {
          operationId: 'createNotificationChannel',
          summary: 'Create a notification channel',
          description:
            'A `webhook` (with `format` `json` or `slack`; `signing_secret` generated when absent and answered in full this once) or an `email` channel (refused with 422 when the deployment has no `SMTP_URL`).',
          requestBody: body(createChannelSchema),
          responses: { '201': json(channelSchema, 'Created.') },
        },
        400,
        422,
      ),
    },
    '/api/v1/org/notification-channels/{id}': {
      get: operation(
        {
          operationId: 'getNotificationChannel',
          summary: 'Read a notification channel',
          requestParams: { path: channelIdParam },
          responses: { '200': json(channelSchema, 'The channel; its secret masked.') },
        },
        404,
      ),
      patch: operation(
        {
          operationId: 'updateNotificationChannel',
          summary: 'Edit a notification channel',
          description: 'Any field of its kind; the kind stays.',
          requestParams: { path: channelIdParam },
          requestBody: body(updateChannelSchema),
          responses: { '200': json(channelSchema, 'The channel as changed.') },
        },
        400,
        404,
        422,
      ),
      delete: operation(
        {
          operationId: 'deleteNotificationChannel',
          summary: 'Delete a notification channel',
          requestParams: { path: channelIdParam },
          responses: { '204': { description: 'Deleted, with what was queued for it.' } },
        },
        404,
      ),
    },
    '/api/v1/org/notification-channels/{id}/_test': {
      post: operation(
        {
          operationId: 'testNotificationChannel',
          summary: 'Send a test notification',
          description: 'Sends a `notification.test` notice now, as real ones go, and answers how it went.',
          requestParams: { path: channelIdParam },
          responses: { '200': json(connectionTestSchema, 'The outcome.') },
        },
        404,
      ),
    },
  };
}
