import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { requireToken, type TokenVerifier } from '../auth/bearer.ts';
import type { Database } from '../db/database.ts';
import { integrationStats, listIntegrations } from '../integrations/integrations.repo.ts';
import { labelValue, processMetricsText } from '../lib/metrics.ts';

/**
 * GET /metrics: Prometheus text format, for a bearer token with view_tools.
 * The per-integration figures come from the database, so they are the whole
 * deployment's whichever process is scraped; the rest is this process's.
 */
export function metricsRoutes(deps: { db: Kysely<Database>; tokens: TokenVerifier }) {
  return new Hono().get('/metrics', requireToken(deps.tokens, ['view_tools']), async (c) => {
    const integrations = await listIntegrations(deps.db);
    const stats = await integrationStats(deps.db, integrations);
    const now = Date.now();
    const lines: string[] = [];
    const family = (name: string, type: 'counter' | 'gauge', help: string, value: (id: string) => number | undefined) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const integration of integrations) {
        const figure = value(integration.id);
        if (figure !== undefined) lines.push(`${name}{integration="${labelValue(integration.id)}"} ${figure}`);
      }
    };
    family('tideway_deliveries_delivered_total', 'counter', 'Deliveries that succeeded, per integration.', (id) => stats.get(id)?.delivered);
    family('tideway_deliveries_failed', 'gauge', 'Deliveries that failed for good, per integration.', (id) => stats.get(id)?.failed);
    family('tideway_deliveries_rejected', 'gauge', 'Deliveries the consumer refused, per integration.', (id) => stats.get(id)?.rejected);
    family('tideway_backlog', 'gauge', 'Pending deliveries, per integration.', (id) => stats.get(id)?.pending);
    family('tideway_oldest_pending_seconds', 'gauge', 'Age of the oldest pending event, per integration.', (id) => {
      const oldest = stats.get(id)?.oldest_pending_at;
      return oldest ? Math.max(0, Math.round((now - oldest.getTime()) / 1000)) : 0;
    });
    const batches = await deps.db
      .selectFrom('s3_batches')
      .select(['integration_id', (eb) => eb.fn.countAll<string>().as('count'), (eb) => eb.fn.sum<string>('byte_count').as('bytes'), (eb) => eb.fn.sum<string>('event_count').as('events')])
      .where('status', '=', 'uploaded')
      .groupBy('integration_id')
      .execute();
    const batchesOf = (id: string) => batches.find((batch) => batch.integration_id === id);
    family('tideway_s3_batches_uploaded_total', 'counter', 'S3 batches uploaded (kept for the retention period), per integration.', (id) => (batchesOf(id) ? Number(batchesOf(id)!.count) : undefined));
    family('tideway_s3_batch_bytes_sum', 'counter', 'NDJSON bytes in those batches; divide by the count for the average batch size.', (id) => (batchesOf(id) ? Number(batchesOf(id)!.bytes) : undefined));
    family('tideway_s3_batch_events_sum', 'counter', 'Events in those batches.', (id) => (batchesOf(id) ? Number(batchesOf(id)!.events) : undefined));
    family('tideway_integration_running', 'gauge', '1 when the integration is running, 0 when paused.', (id) => (integrations.find((row) => row.id === id)?.status === 'running' ? 1 : 0));
    return c.text(lines.join('\n') + '\n' + processMetricsText(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
