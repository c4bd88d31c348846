import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import client from 'prom-client';
import { requireToken, type TokenVerifier } from '../auth/bearer.ts';
import type { Database, IntegrationRow } from '../db/database.ts';
import { integrationStats, listIntegrations, type IntegrationStats } from '../integrations/integrations.repo.ts';
import { processRegistry } from '../lib/metrics.ts';

/**
 * GET /metrics: Prometheus text format, for a bearer token with view_tools.
 * The per-integration figures come from the database, so they are the whole
 * deployment's whichever process is scraped; the rest is this process's.
 */
export function metricsRoutes(deps: { db: Kysely<Database>; tokens: TokenVerifier }) {
  return new Hono().get('/metrics', requireToken(deps.tokens, ['view_tools']), async (c) => {
    const database = await databaseRegistry(deps.db);
    const text = await client.Registry.merge([processRegistry, database]).metrics();
    return c.text(text, 200, { 'content-type': processRegistry.contentType });
  });
}

/** A registry of the deployment-wide figures, read now. */
async function databaseRegistry(db: Kysely<Database>): Promise<client.Registry> {
  const registry = new client.Registry();
  const integrations = await listIntegrations(db);
  const stats = await integrationStats(db, integrations);
  const batches = await db
    .selectFrom('s3_batches')
    .select([
      'integration_id',
      (eb) => eb.fn.countAll<string>().as('count'),
      (eb) => eb.fn.sum<string>('byte_count').as('bytes'),
      (eb) => eb.fn.sum<string>('event_count').as('events'),
    ])
    .where('status', '=', 'uploaded')
    .groupBy('integration_id')
    .execute();
  const batchesOf = new Map(batches.map((batch) => [batch.integration_id, batch]));
  const now = Date.now();

  const family = (
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    value: (integration: IntegrationRow, stats: IntegrationStats | undefined) => number | undefined,
  ) => {
    const Metric = type === 'counter' ? client.Counter : client.Gauge;
    const metric = new Metric({ name, help, labelNames: ['integration'], registers: [registry] });
    for (const integration of integrations) {
      const figure = value(integration, stats.get(integration.id));
      if (figure === undefined) continue;
      if (metric instanceof client.Counter) metric.inc({ integration: integration.id }, figure);
      else metric.set({ integration: integration.id }, figure);
    }
  };
  family(
    'tideway_deliveries_delivered_total',
    'counter',
    'Deliveries that succeeded, per integration.',
    (_, s) => s?.delivered,
  );
  family(
    'tideway_deliveries_failed',
    'gauge',
    'Deliveries that failed for good, per integration.',
    (_, s) => s?.failed,
  );
  family(
    'tideway_deliveries_rejected',
    'gauge',
    'Deliveries the consumer refused, per integration.',
    (_, s) => s?.rejected,
  );
  family('tideway_backlog', 'gauge', 'Pending deliveries, per integration.', (_, s) => s?.pending);
  family('tideway_oldest_pending_seconds', 'gauge', 'Age of the oldest pending event, per integration.', (_, s) =>
    s?.oldest_pending_at ? Math.max(0, Math.round((now - s.oldest_pending_at.getTime()) / 1000)) : 0,
  );
  family(
    'tideway_s3_batches_uploaded_total',
    'counter',
    'S3 batches uploaded (kept for the retention period), per integration.',
    (i) => optionalNumber(batchesOf.get(i.id)?.count),
  );
  family(
    'tideway_s3_batch_bytes_sum',
    'counter',
    'NDJSON bytes in those batches; divide by the count for the average batch size.',
    (i) => optionalNumber(batchesOf.get(i.id)?.bytes),
  );
  family('tideway_s3_batch_events_sum', 'counter', 'Events in those batches.', (i) =>
    optionalNumber(batchesOf.get(i.id)?.events),
  );
  family('tideway_integration_running', 'gauge', '1 when the integration is running, 0 when paused.', (i) =>
    i.status === 'running' ? 1 : 0,
  );
  return registry;
}

function optionalNumber(value: string | null | undefined): number | undefined {
  return value === undefined || value === null ? undefined : Number(value);
}
