import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, IntegrationRow, IntegrationType } from '../db/database.ts';
import { replayIntoIntegration, takeIntegrationChangeLock } from '../deliveries/fan-out.ts';
import { wakeDeliveryLoops } from '../deliveries/wake.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { insertIntegration, insertIntegrationLog } from './integrations.repo.ts';

export type IntegrationTarget =
  | { kind: 'webhook'; callbackUrl: string; apiKey?: string }
  | {
      kind: 's3';
      accessKeyId: string;
      secretAccessKey: string;
      region: string;
      bucket: string;
      keyPrefix?: string;
      endpoint?: string;
      gzip?: boolean;
    };

export interface NewIntegration {
  id: string;
  integrationType: IntegrationType;
  /** Default now; in the past = replay every stored matching event since then. */
  startsAt?: Date;
  endsAt?: Date;
  filter?: { entities?: string[]; events?: string[] };
  target: IntegrationTarget;
  /** A `whsec_…` secret to sign with; generated when absent. */
  signingSecret?: string;
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Creates an integration, running, with a log entry, and queues a delivery
 * for every stored event its window and filters take in (replay). The
 * integration-change lock makes this and concurrent ingest leave no gap (see
 * deliveries/fan-out.ts). Input is validated by the caller.
 */
export async function createIntegration(
  db: Kysely<Database>,
  secrets: SecretBox,
  input: NewIntegration,
  actor: string,
): Promise<{ integration: IntegrationRow; replayed: number }> {
  const target = input.target;
  return db.transaction().execute(async (trx) => {
    await takeIntegrationChangeLock(trx);
    const integration = await insertIntegration(trx, {
      id: input.id,
      integration_type: input.integrationType,
      target_kind: target.kind,
      status: 'running',
      starts_at: input.startsAt ?? new Date(),
      ends_at: input.endsAt ?? null,
      filter_entities: input.filter?.entities ?? [],
      filter_events: input.filter?.events ?? [],
      signing_secret_enc: secrets.encrypt(input.signingSecret ?? generateSigningSecret()),
      ...(target.kind === 'webhook'
        ? { callback_url: target.callbackUrl, api_key_enc: target.apiKey ? secrets.encrypt(target.apiKey) : null }
        : {
            s3_access_key_id: target.accessKeyId,
            s3_secret_access_key_enc: secrets.encrypt(target.secretAccessKey),
            s3_region: target.region,
            s3_bucket: target.bucket,
            s3_key_prefix: target.keyPrefix ?? '',
            s3_endpoint: target.endpoint ?? null,
            s3_gzip: target.gzip ?? false,
          }),
    });
    await insertIntegrationLog(trx, { integrationId: integration.id, action: 'started', reason: 'Integration created', actor });
    const replayed = await replayIntoIntegration(trx, integration.id);
    if (replayed > 0) await wakeDeliveryLoops(trx, [integration.id]);
    return { integration, replayed };
  });
}
