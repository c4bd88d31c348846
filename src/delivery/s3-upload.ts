import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Kysely } from 'kysely';
import type { Database, IntegrationRow } from '../db/database.ts';
import { envelopeJson } from '../events/envelope.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { checkOutboundUrl, type OutboundPolicy } from './outbound.ts';
import { batchMemberIds, eventsById } from './s3-batches.repo.ts';

/** Multipart parts of 8 MiB, two in flight: memory stays flat whatever the batch size. */
const PART_SIZE = 8 * 1024 * 1024;
const PAGE = 1_000;

/**
 * The S3 client of an integration: its region and credentials; with an
 * endpoint (MinIO, R2, s3rver), path-style addressing; checksums only where
 * required, since S3-compatible stores corrupt or refuse the newer defaults.
 */
export function s3ClientFor(integration: IntegrationRow, secrets: SecretBox): S3Client {
  return new S3Client({
    region: integration.s3_region!,
    credentials: { accessKeyId: integration.s3_access_key_id!, secretAccessKey: secrets.decrypt(integration.s3_secret_access_key_enc!) },
    ...(integration.s3_endpoint ? { endpoint: integration.s3_endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

/**
 * The batch's NDJSON, read from the database as the upload asks for it: the
 * member ids once, in order (a few MB for 50 MB of events), then the events
 * a page at a time by primary key, so only one page of payloads is in memory.
 */
export function batchNdjson(db: Kysely<Database>, batchId: string): Readable {
  async function* lines() {
    const ids = await batchMemberIds(db, batchId);
    for (let start = 0; start < ids.length; start += PAGE) {
      const page = ids.slice(start, start + PAGE);
      const events = await eventsById(db, page);
      yield Buffer.from(
        page
          .map((id) => {
            const event = events.get(id);
            // Pruned by retention under a sealed batch: nothing left to send for it.
            return event ? envelopeJson({ id, tenant: event.tenant, name: event.name, publishedAt: event.published_at, payloadJson: event.payload }) + '\n' : '';
          })
          .join(''),
      );
    }
  }
  return Readable.from(lines());
}

export async function uploadBatch(db: Kysely<Database>, client: S3Client, integration: IntegrationRow, batch: { id: string; object_key: string }): Promise<void> {
  const ndjson = batchNdjson(db, batch.id);
  const body = integration.s3_gzip ? ndjson.pipe(createGzip()) : ndjson;
  const upload = new Upload({
    client,
    params: {
      Bucket: integration.s3_bucket!,
      Key: batch.object_key,
      Body: body,
      ContentType: integration.s3_gzip ? 'application/gzip' : 'application/x-ndjson',
    },
    partSize: PART_SIZE,
    queueSize: 2,
    leavePartsOnError: false,
  });
  await upload.done();
}

/** Errors that retrying cannot fix, and what the operator should do about each. */
const PERMANENT: Record<string, string> = {
  AccessDenied: 'Access denied: give the access key s3:PutObject on the bucket and prefix.',
  InvalidAccessKeyId: 'The AWS access key ID is not known to S3: check the Access Key.',
  SignatureDoesNotMatch: 'The AWS secret key does not match the access key: check the Secret Key.',
  NoSuchBucket: 'The bucket does not exist: check the Bucket Name and the Region.',
  InvalidBucketName: 'The bucket name is not valid: check the Bucket Name.',
  PermanentRedirect: 'The bucket is in another region: check the Region.',
  AuthorizationHeaderMalformed: 'The region does not match the bucket: check the Region.',
};

export interface S3ErrorClass {
  permanent: boolean;
  code: string;
  message: string;
}

export function classifyS3Error(error: unknown): S3ErrorClass {
  const failure = error as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = failure.Code ?? failure.name ?? failure.code ?? 'Error';
  if (code in PERMANENT) return { permanent: true, code, message: PERMANENT[code]! };
  return { permanent: false, code, message: failure.message ?? String(error) };
}

/** The endpoint (when set) must pass the outbound address policy too. */
export async function checkS3Endpoint(integration: IntegrationRow, policy: OutboundPolicy): Promise<string | undefined> {
  if (!integration.s3_endpoint) return undefined;
  const check = await checkOutboundUrl(integration.s3_endpoint, policy);
  return check.ok ? undefined : check.reason;
}

/** Test connection: writes and deletes a small object under the prefix. */
export async function testS3Connection(integration: IntegrationRow, secrets: SecretBox, policy: OutboundPolicy) {
  const started = performance.now();
  const refused = await checkS3Endpoint(integration, policy);
  if (refused) return { ok: false, summary: refused, status_code: null, duration_ms: 0, error: refused, response_body: null };
  const client = s3ClientFor(integration, secrets);
  const key = `${integration.s3_key_prefix ? `${integration.s3_key_prefix}/` : ''}tideway-connection-test-${randomUUID()}.txt`;
  try {
    await client.send(new PutObjectCommand({ Bucket: integration.s3_bucket!, Key: key, Body: 'Tideway connection test. Safe to delete.' }));
    await client.send(new DeleteObjectCommand({ Bucket: integration.s3_bucket!, Key: key }));
    const ms = Math.round(performance.now() - started);
    return { ok: true, summary: `Wrote and deleted s3://${integration.s3_bucket}/${key} in ${ms} ms.`, status_code: 200, duration_ms: ms, error: null, response_body: null };
  } catch (error) {
    const failure = classifyS3Error(error);
    const ms = Math.round(performance.now() - started);
    return { ok: false, summary: `${failure.code}: ${failure.message}`, status_code: null, duration_ms: ms, error: failure.message, response_body: null };
  } finally {
    client.destroy();
  }
}
