import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import {
  lastResponses,
  listDeliveries,
  positionOf,
  type DeliveryFilters,
  type Position,
} from './published-events.repo.ts';

/*
 * The rejected-events CSV for reconciliation: streamed page by page along the
 * keyset, so any number of rows costs constant memory.
 */

const HEADER = ['event_id', 'event_type', 'domain_entity_id', 'published_at', 'rejected_at', 'status_code', 'response'];
const PAGE = 1_000;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break; a leading = + - @ is neutralised so spreadsheets do not run it.
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function rejectedEventsCsv(
  db: Kysely<Database>,
  filters: DeliveryFilters & { integrationId: string },
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: Position | undefined;
  let started = false;
  return new ReadableStream({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`${HEADER.join(',')}\r\n`));
        return;
      }
      const { items, hasOlder } = await listDeliveries(db, {
        filters: { ...filters, status: 'rejected' },
        limit: PAGE,
        after,
      });
      const responses = await lastResponses(
        db,
        filters.integrationId,
        items.map((item) => item.event_id),
      );
      const lines = items.map((item) => {
        const answer = responses.get(item.event_id);
        return [
          item.event_id,
          item.event_name,
          item.domain_entity_id,
          item.published_at.toISOString(),
          item.last_attempted_at?.toISOString(),
          answer?.status_code,
          answer?.response_body ?? answer?.error_message,
        ]
          .map(csvField)
          .join(',');
      });
      if (lines.length > 0) controller.enqueue(encoder.encode(`${lines.join('\r\n')}\r\n`));
      const last = items.at(-1);
      // Closed with the last page: a pull that enqueues nothing is not pulled
      // again, and an empty list used to hang until the client gave up.
      if (!hasOlder || !last) controller.close();
      else after = positionOf(last);
    },
  });
}
