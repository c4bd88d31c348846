import { randomUUID } from 'node:crypto';
import { createGzip } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { FetchHttpHandler } from '@smithy/fetch-http-handler';
import type { Kysely } from 'kysely';
import type { Database, IntegrationRow } from '../db/database.ts';
import { ENVELOPE_TAIL, type EnvelopeFields, envelopeHead, envelopeJson } from '../events/envelope.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { checkOutboundUrl, type OutboundPolicy } from './outbound.ts';
import { batchEventsPage } from './s3-batches.repo.ts';

/** Multipart parts of 8 MiB (S3's minimum is 5 MiB): one being sent, the next being read. */
export const PART_SIZE = 8 * 1024 * 1024;
/** Members read per round trip: ~1 MB of ~1 KB events. */
const PAGE = 1_000;

/**
 * The S3 client of an integration: its region and credentials; with an
 * endpoint (MinIO, R2, s3rver), path-style addressing; checksums only where
 * required, since S3-compatible stores corrupt or refuse the newer defaults.
 * Requests go through the runtime's own fetch: under Bun, the SDK's
 * node:http path costs ~40 % more CPU per byte and holds more memory
 * (bench/s3.ts).
 */
export function s3ClientFor(integration: IntegrationRow, secrets: SecretBox): S3Client {
  return new S3Client({
    region: integration.s3_region!,
    credentials: { accessKeyId: integration.s3_access_key_id!, secretAccessKey: secrets.decrypt(integration.s3_secret_access_key_enc!) },
    ...(integration.s3_endpoint ? { endpoint: integration.s3_endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new FetchHttpHandler(),
    maxAttempts: 1,
  });
}

/**
 * Part buffers no upload is using. Reused rather than allocated per batch:
 * freed 8 MiB buffers wait for a garbage collection that large batches of
 * small strings postpone, and RSS would climb by their sum.
 */
const spareBuffers = new Map<number, Buffer[]>();

function takeBuffer(size: number): Buffer {
  return spareBuffers.get(size)?.pop() ?? Buffer.allocUnsafe(size);
}

function returnBuffers(size: number, buffers: Buffer[]) {
  const spares = spareBuffers.get(size) ?? [];
  spareBuffers.set(size, spares);
  spares.push(...buffers);
  spares.splice(8); // enough for several uploads at once; the rest go
}

/**
 * Writes one object from many small writes with constant memory: bytes go
 * into a part buffer; a full part is sent (as a multipart upload, started
 * then) while the next fills the other of two buffers. An object that never
 * fills a part goes up as one PUT. Abort cleans up a started upload.
 */
export class ObjectWriter {
  private readonly buffers: [Buffer, Buffer];
  private part: Buffer;
  private filled = 0;
  private uploadId: string | undefined;
  private readonly sent: { ETag: string; PartNumber: number }[] = [];
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: S3Client,
    private readonly target: { Bucket: string; Key: string; ContentType: string },
    private readonly partSize = PART_SIZE,
  ) {
    this.buffers = [takeBuffer(partSize), takeBuffer(partSize)];
    this.part = this.buffers[0];
  }

  /** Appends text as UTF-8; when a part fills, returns a promise to await before writing more. */
  writeText(text: string): Promise<void> | undefined {
    const length = Buffer.byteLength(text);
    if (this.filled + length >= this.partSize) return this.writeBytes(Buffer.from(text));
    this.filled += this.part.write(text, this.filled);
    return undefined;
  }

  async writeBytes(bytes: Buffer): Promise<void> {
    for (let offset = 0; offset < bytes.length; ) {
      const copied = bytes.copy(this.part, this.filled, offset, offset + Math.min(this.partSize - this.filled, bytes.length - offset));
      this.filled += copied;
      offset += copied;
      if (this.filled === this.partSize) await this.sendPart();
    }
  }

  async finish(): Promise<void> {
    const { Bucket, Key, ContentType } = this.target;
    if (this.uploadId === undefined) {
      await this.client.send(new PutObjectCommand({ Bucket, Key, ContentType, Body: this.part.subarray(0, this.filled) }));
    } else {
      if (this.filled > 0) await this.sendPart();
      await this.sending;
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: this.uploadId, MultipartUpload: { Parts: this.sent } }));
    }
    returnBuffers(this.partSize, this.buffers);
  }

  async abort(): Promise<void> {
    await this.sending.catch(() => {});
    returnBuffers(this.partSize, this.buffers);
    if (this.uploadId === undefined) return;
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId: this.uploadId })).catch(() => {});
  }

  /** Sends the current part once the previous one is through (its buffer is the one to fill next). */
  private async sendPart(): Promise<void> {
    const { Bucket, Key, ContentType } = this.target;
    this.uploadId ??= (await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType }))).UploadId!;
    await this.sending;
    const PartNumber = this.sent.length + 1;
    const body = this.part.subarray(0, this.filled);
    this.sending = this.client
      .send(new UploadPartCommand({ Bucket, Key, UploadId: this.uploadId, PartNumber, Body: body, ContentLength: body.length }))
      .then(({ ETag }) => void (this.sent[PartNumber - 1] = { ETag: ETag!, PartNumber }));
    this.sending.catch(() => {}); // awaited later; not unhandled meanwhile
    this.part = this.buffers[PartNumber % 2]!;
    this.filled = 0;
  }
}

/**
 * The batch's envelopes, a page of members at a time by primary key, the
 * next page read while this one is written: only two pages of payloads are
 * in memory, whatever the batch size.
 */
async function* batchEvents(db: Kysely<Database>, batch: { id: string; event_count: number }) {
  let next = batchEventsPage(db, batch.id, 1, PAGE);
  for (let from = 1; from <= batch.event_count; from += PAGE) {
    const page = await next;
    if (from + PAGE <= batch.event_count) next = batchEventsPage(db, batch.id, from + PAGE, from + 2 * PAGE - 1);
    yield page;
  }
}

type StoredEvent = Awaited<ReturnType<typeof batchEventsPage>>[number];

function envelopeFields(event: StoredEvent): EnvelopeFields {
  return { id: event.id, tenant: event.tenant, name: event.name, publishedAt: event.published_at, payloadJson: event.payload };
}

const LINE_TAIL = `${ENVELOPE_TAIL}\n`;

/**
 * Streams a sealed batch to its object key as NDJSON (gzipped as one gzip
 * member when the integration asks). The same batch always yields the same
 * bytes, so a retry overwrites the object with itself; a failed upload is
 * aborted.
 */
export async function uploadBatch(
  db: Kysely<Database>,
  client: S3Client,
  integration: IntegrationRow,
  batch: { id: string; object_key: string; event_count: number },
  partSize = PART_SIZE,
): Promise<void> {
  const gzip = integration.s3_gzip;
  const writer = new ObjectWriter(client, { Bucket: integration.s3_bucket!, Key: batch.object_key, ContentType: gzip ? 'application/gzip' : 'application/x-ndjson' }, partSize);
  try {
    if (gzip) {
      const compressor = createGzip();
      const feeding = (async () => {
        try {
          for await (const page of batchEvents(db, batch)) {
            if (compressor.destroyed) return; // the upload failed
            if (!compressor.write(page.map((event) => envelopeJson(envelopeFields(event)) + '\n').join(''))) {
              await new Promise((resolve) => compressor.once('drain', resolve).once('close', resolve));
            }
          }
          compressor.end();
        } catch (error) {
          compressor.destroy(error as Error);
        }
      })();
      for await (const chunk of compressor) await writer.writeBytes(chunk as Buffer);
      await feeding;
    } else {
      for await (const page of batchEvents(db, batch)) {
        // Head, payload and tail written one after the other: the envelope
        // line is never built as one more string.
        for (const event of page) {
          for (const text of [envelopeHead(envelopeFields(event)), event.payload, LINE_TAIL]) {
            const partFull = writer.writeText(text);
            if (partFull) await partFull;
          }
        }
      }
    }
    await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  }
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
