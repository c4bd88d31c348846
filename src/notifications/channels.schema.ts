import { z } from 'zod';
import { NOTIFICATION_TYPES } from '../delivery/notify.ts';
import { fieldErrorsOf, type FieldError } from '../lib/problem.ts';
import { httpUrlSchema, signingSecretSchema } from '../lib/schemas.ts';

/*
 * Notification channels as the API and the form give them
 * (`/api/v1/org/notification-channels`).
 */

const url = httpUrlSchema().meta({
  description: 'Where the notices are POSTed.',
  example: 'https://ops.example.com/hooks/tideway',
});

const signingSecret = signingSecretSchema.meta({
  description: 'Signs every notice (Standard Webhooks); generated when absent and then shown once.',
});

const format = z
  .enum(['json', 'slack'], { error: 'must be json or slack' })
  .meta({ description: '`json`: the notice itself; `slack`: a Slack incoming-webhook body `{"text": …}`.' });

const recipients = z
  .array(
    z
      .string()
      .trim()
      .regex(/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/, 'must be an email address'),
    {
      error: 'must be a list of email addresses',
    },
  )
  .min(1, 'needs at least one address')
  .max(50, 'takes at most 50 addresses')
  .meta({ example: ['ops@example.com'] });

export const channelFilterSchema = z
  .strictObject({
    integrations: z
      .array(z.string().trim().min(1, 'must not be empty').max(64, 'is too long'))
      .max(500, 'names too many integrations')
      .default([])
      .meta({ description: 'Integration ids; empty or absent: every integration.' }),
    types: z
      .array(z.enum(NOTIFICATION_TYPES, { error: `must be one of ${NOTIFICATION_TYPES.join(', ')}` }))
      .default([])
      .meta({ description: 'Notification types; empty or absent: every type.' }),
  })
  .meta({ id: 'NotificationFilter' });

const filter = channelFilterSchema.optional();

export const createChannelSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('webhook'),
        url,
        format: format.default('json'),
        signing_secret: signingSecret.optional(),
        filter,
      }),
      z.strictObject({ kind: z.literal('email'), to: recipients, filter }),
    ],
    { error: 'must be webhook or email' },
  )
  .meta({
    id: 'NewNotificationChannel',
    example: { kind: 'webhook', url: 'https://ops.example.com/hooks/tideway', format: 'json' },
  });
export type CreateChannel = z.output<typeof createChannelSchema>;

/** `PATCH …/{id}`: any of the fields of its kind; the kind itself stays. */
export const updateChannelSchema = z
  .strictObject({
    url: url.optional(),
    format: format.optional(),
    signing_secret: signingSecret.optional(),
    to: recipients.optional(),
    filter,
  })
  .meta({ id: 'NotificationChannelChanges', example: { filter: { types: ['integration.stopped'] } } });
export type UpdateChannel = z.output<typeof updateChannelSchema>;

export const toFieldErrors = (error: z.ZodError): FieldError[] => fieldErrorsOf(error, 'is not a channel field');
