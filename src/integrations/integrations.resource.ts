import type { IntegrationRow } from '../db/database.ts';
import { maskSecret, maskUrlCredentials, type SecretBox } from '../lib/crypto.ts';
import type { IntegrationStats } from './integrations.repo.ts';
import { DEFAULT_KEY_TEMPLATE, isPartitioned } from '../delivery/s3-keys.ts';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

/** Shows a stored secret as its mask, e.g. ••••3f9a; never the secret itself. */
function masked(sealed: string | null, secrets: SecretBox): string | null {
  return sealed ? maskSecret(secrets.decrypt(sealed)) : null;
}

/**
 * An integration as the JSON API returns it, with NewStore's field names.
 * Secrets appear only masked.
 */
export function toIntegrationResource(row: IntegrationRow, secrets: SecretBox, stats: IntegrationStats) {
  return {
    id: row.id,
    integration_type: row.integration_type,
    ordering: row.ordering,
    status: row.status,
    starts_at: iso(row.starts_at),
    ends_at: iso(row.ends_at),
    filter_conditions: { event_filter: row.filter_events, entity_filter: row.filter_entities },
    ...(row.target_kind === 'webhook'
      ? {
          callback_parameters: {
            callback_url: row.callback_url && maskUrlCredentials(row.callback_url),
            api_key: masked(row.api_key_enc, secrets),
          },
        }
      : {
          s3_parameters: {
            aws_access_key_id: row.s3_access_key_id,
            aws_secret_access_key: masked(row.s3_secret_access_key_enc, secrets),
            aws_region: row.s3_region,
            bucket: row.s3_bucket,
            key_prefix: row.s3_key_prefix,
            endpoint: row.s3_endpoint,
            compression: row.s3_compression,
            gzip: row.s3_compression === 'gzip',
            format: row.s3_format,
            key_template: row.s3_key_template ?? DEFAULT_KEY_TEMPLATE,
          },
        }),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    stats: {
      pending: stats.pending,
      delivered: stats.delivered,
      failed: stats.failed,
      rejected: stats.rejected,
      last_delivery_at: iso(stats.last_delivery_at),
      oldest_pending_at: iso(stats.oldest_pending_at),
    },
  };
}

/** What the list shows as the target: the webhook's host or the bucket. */
export function targetLabel(row: IntegrationRow): string {
  if (row.target_kind === 's3') return `s3://${row.s3_bucket}${row.s3_key_prefix ? `/${row.s3_key_prefix}` : ''}`;
  try {
    return new URL(row.callback_url ?? '').host;
  } catch {
    return row.callback_url ?? '';
  }
}

/** An S3 target's object layout when it is not NewStore's plain NDJSON: "Parquet · zstd · partitioned". */
export function s3LayoutLabel(row: IntegrationRow): string | undefined {
  if (row.target_kind !== 's3') return undefined;
  const parts = [
    row.s3_format === 'parquet' ? 'Parquet' : row.s3_compression !== 'none' ? 'NDJSON' : undefined,
    row.s3_compression !== 'none' ? row.s3_compression : undefined,
    isPartitioned(row.s3_key_template) ? 'partitioned' : undefined,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(' · ') : undefined;
}
