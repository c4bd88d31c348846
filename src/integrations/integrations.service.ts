import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type {
  Database,
  IntegrationRow,
  IntegrationType,
  IntegrationUpdate,
  Ordering,
  S3Compression,
  S3Format,
} from '../db/database.ts';
import { reorderPendingDeliveries } from '../events/entity-lines.ts';
import { replayIntoIntegration, takeIntegrationChangeLock } from '../events/fan-out.ts';
import { fencedChange } from '../delivery/integration-fence.ts';
import { wakeDeliveryLoops } from '../db/wake.ts';
import type { SecretBox } from '../lib/crypto.ts';
import {
  type CreateIntegrationBody,
  ORDERING_WEBHOOKS_ONLY,
  type UpdateIntegrationBody,
} from './integrations.schema.ts';
import { insertIntegrationLog } from '../delivery/integration-status.ts';
import { deleteIntegrationRow, findIntegration, insertIntegration, updateIntegrationRow } from './integrations.repo.ts';

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
      compression?: S3Compression;
      format?: S3Format;
      /** Null or absent: NewStore's key. */
      keyTemplate?: string | null;
    };

export interface NewIntegration {
  id: string;
  integrationType: IntegrationType;
  /** Default unordered. */
  ordering?: Ordering;
  /** Default now; in the past = replay every stored matching event since then. */
  startsAt?: Date;
  endsAt?: Date;
  filter?: { entities?: string[]; events?: string[] };
  target: IntegrationTarget;
  /** A `whsec_…` secret to sign with; generated when absent. */
  signingSecret?: string;
}

export class DuplicateIntegrationError extends Error {
  constructor(readonly id: string) {
    super(`An integration with the ID "${id}" already exists. Choose another ID.`);
    this.name = 'DuplicateIntegrationError';
  }
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The API's (and form's) validated body as the service's input. */
export function fromCreateBody(body: CreateIntegrationBody): NewIntegration {
  const callback = body.callback_parameters;
  const s3 = body.s3_parameters;
  return {
    id: body.id,
    integrationType: body.integration_type,
    ordering: body.ordering ?? undefined,
    startsAt: body.starts_at ? new Date(body.starts_at) : undefined,
    endsAt: body.ends_at ? new Date(body.ends_at) : undefined,
    filter: { entities: body.filter_conditions?.entities ?? [], events: body.filter_conditions?.events ?? [] },
    signingSecret: body.signing_secret ?? undefined,
    target: callback
      ? { kind: 'webhook', callbackUrl: callback.callback_url, apiKey: callback.api_key || undefined }
      : {
          kind: 's3',
          accessKeyId: s3!.aws_access_key_id,
          secretAccessKey: s3!.aws_secret_access_key,
          region: s3!.aws_region,
          bucket: s3!.bucket,
          keyPrefix: s3!.key_prefix ?? '',
          endpoint: s3!.endpoint ?? undefined,
          compression: s3!.compression ?? (s3!.gzip ? 'gzip' : 'none'),
          format: s3!.format ?? 'ndjson',
          keyTemplate: s3!.key_template ?? null,
        },
  };
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
    // Any row with this id, deleted or not: the id is the primary key.
    const taken = await trx.selectFrom('integrations').select('id').where('id', '=', input.id).executeTakeFirst();
    if (taken) throw new DuplicateIntegrationError(input.id);
    const integration = await insertIntegration(trx, {
      id: input.id,
      integration_type: input.integrationType,
      ordering: input.ordering ?? 'unordered',
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
            s3_compression: target.compression ?? 'none',
            s3_format: target.format ?? 'ndjson',
            s3_key_template: target.keyTemplate ?? null,
          }),
    });
    await insertIntegrationLog(trx, {
      integrationId: integration.id,
      action: 'started',
      reason: 'Integration created',
      actor,
    });
    const replayed = await replayIntoIntegration(trx, integration.id);
    if (replayed > 0) await wakeDeliveryLoops(trx, [integration.id]);
    return { integration, replayed };
  });
}

/** An edit refused on one field (its API path, e.g. `callback_parameters.api_key`), with why. */
export class EditRefusedError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'EditRefusedError';
  }
}

const originOf = (url: string | null) => (url ? new URL(url).origin : '');

function targetKindChange(field: string) {
  return new EditRefusedError(
    field,
    'The target kind cannot change: create a new integration for another kind of target',
  );
}

/**
 * Applies an edit: the delivery order, events and the target's details only. Secrets left empty
 * keep their stored value. New filters apply to events ingested from now on;
 * a new target applies to every attempt that starts after this resolves.
 */
export async function updateIntegration(
  db: Kysely<Database>,
  secrets: SecretBox,
  id: string,
  body: UpdateIntegrationBody,
): Promise<IntegrationRow | undefined> {
  return fencedChange(db, id, async (trx) => {
    // Filters decide fan-out: change them at a clean point between ingests.
    await takeIntegrationChangeLock(trx);
    const current = await findIntegration(trx, id);
    if (!current) return undefined;
    const changes: IntegrationUpdate = {};
    if (body.ordering !== undefined && body.ordering !== current.ordering) {
      if (current.target_kind === 's3' && body.ordering === 'by_domain_entity')
        throw new EditRefusedError('ordering', ORDERING_WEBHOOKS_ONLY);
      changes.ordering = body.ordering;
      // Applies to the deliveries not sent yet.
      await reorderPendingDeliveries(trx, id, body.ordering === 'by_domain_entity', new Date());
    }
    if (body.filter_conditions !== undefined) {
      changes.filter_entities = body.filter_conditions?.entities ?? [];
      changes.filter_events = body.filter_conditions?.events ?? [];
    }
    if (body.callback_parameters) {
      if (current.target_kind !== 'webhook') throw targetKindChange('callback_parameters');
      const callback = body.callback_parameters;
      // The stored key goes only where whoever entered it sent it.
      const movedTo = callback.callback_url ? originOf(callback.callback_url) : originOf(current.callback_url);
      if (current.api_key_enc && !callback.api_key && movedTo !== originOf(current.callback_url)) {
        throw new EditRefusedError(
          'callback_parameters.api_key',
          `is needed again for ${movedTo}: the stored API key is sent only to ${originOf(current.callback_url)} (leave the API key empty only when the callback stays there)`,
        );
      }
      if (callback.callback_url) changes.callback_url = callback.callback_url;
      if (callback.api_key) changes.api_key_enc = secrets.encrypt(callback.api_key);
    }
    if (body.s3_parameters) {
      if (current.target_kind !== 's3') throw targetKindChange('s3_parameters');
      const s3 = body.s3_parameters;
      const moved = (['endpoint', 'bucket', 'aws_region'] as const).filter((field) => {
        const stored = { endpoint: current.s3_endpoint, bucket: current.s3_bucket, aws_region: current.s3_region }[
          field
        ];
        return s3[field] !== undefined && (s3[field] || null) !== (stored || null);
      });
      if (moved.length > 0 && !s3.aws_secret_access_key) {
        throw new EditRefusedError(
          's3_parameters.aws_secret_access_key',
          `is needed again when the ${moved.join(', ').replace('aws_region', 'region')} changes: the stored secret key is sent only to the bucket it was entered for`,
        );
      }
      if (s3.aws_access_key_id) changes.s3_access_key_id = s3.aws_access_key_id;
      if (s3.aws_secret_access_key) changes.s3_secret_access_key_enc = secrets.encrypt(s3.aws_secret_access_key);
      if (s3.aws_region) changes.s3_region = s3.aws_region;
      if (s3.bucket) changes.s3_bucket = s3.bucket;
      if (s3.key_prefix !== undefined) changes.s3_key_prefix = s3.key_prefix ?? '';
      if (s3.endpoint !== undefined) changes.s3_endpoint = s3.endpoint ?? null;
      if (s3.compression) changes.s3_compression = s3.compression;
      else if (s3.gzip !== undefined && s3.gzip !== null) changes.s3_compression = s3.gzip ? 'gzip' : 'none';
      if (s3.format) changes.s3_format = s3.format;
      if (s3.key_template !== undefined) changes.s3_key_template = s3.key_template;
    }
    return updateIntegrationRow(trx, id, changes);
  });
}

export { setIntegrationStatus } from '../delivery/integration-status.ts';

/** Deletes an integration with its deliveries, attempts, batches and logs. */
export async function deleteIntegration(db: Kysely<Database>, id: string): Promise<boolean> {
  return fencedChange(db, id, async (trx) => {
    // An ingest that already read this integration must finish its fan-out first.
    await takeIntegrationChangeLock(trx);
    return deleteIntegrationRow(trx, id);
  });
}

/** Reveals the current signing secret. */
export function signingSecretOf(integration: IntegrationRow, secrets: SecretBox): string {
  return secrets.decrypt(integration.signing_secret_enc);
}

/** How long, after a rotation, deliveries are signed with both the old and the new secret: 24 hours. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** Replaces the signing secret; the old one keeps signing alongside for 24 hours. */
export async function rotateSigningSecret(
  db: Kysely<Database>,
  secrets: SecretBox,
  id: string,
): Promise<string | undefined> {
  return fencedChange(db, id, async (trx) => {
    const current = await findIntegration(trx, id);
    if (!current) return undefined;
    const secret = generateSigningSecret();
    await updateIntegrationRow(trx, id, {
      signing_secret_enc: secrets.encrypt(secret),
      previous_signing_secret_enc: current.signing_secret_enc,
      previous_signing_secret_expires_at: new Date(Date.now() + ROTATION_OVERLAP_MS),
    });
    return secret;
  });
}
