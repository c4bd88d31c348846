import { z } from 'zod';
import type { DeliveryFilters } from './published-events.repo.ts';

/* Filters of View Events and GET /published-events, from the query string. */

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** ISO 8601 with a zone, or a datetime-local value (read as UTC). */
const time = z.preprocess(
  blankToUndefined,
  z
    .string()
    .transform((value) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value))
    .pipe(z.iso.datetime({ offset: true, local: false, error: 'must be a time, e.g. 2026-11-30T10:00:00Z' }))
    .transform((value) => new Date(value))
    .optional(),
);

const text = z.preprocess(blankToUndefined, z.string().trim().max(255, 'is too long').optional());

export const deliveryQuerySchema = z.object({
  integration_id: text,
  domain_entity_id: text,
  domain_entity_type: text,
  event_name: text,
  status: z.preprocess(
    blankToUndefined,
    z
      .enum(['pending', 'success', 'failure', 'rejected'], { error: 'must be success, failure, pending or rejected' })
      .optional(),
  ),
  from: time,
  to: time,
  limit: z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a number' })
      .int()
      .min(1, 'must be at least 1')
      .max(1000, 'must be at most 1000')
      .default(100),
  ),
  cursor: text,
  before: text,
});

export function filtersOf(query: z.output<typeof deliveryQuerySchema>): DeliveryFilters {
  return {
    integrationId: query.integration_id,
    domainEntityId: query.domain_entity_id,
    domainEntityType: query.domain_entity_type,
    status: query.status,
    eventName: query.event_name,
    from: query.from,
    to: query.to,
  };
}
