import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { createGzip, createZstdCompress } from 'node:zlib';
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
import type { IntegrationRow, S3Compression } from '../db/database.ts';
import type { SecretBox } from '../lib/crypto.ts';
import { type AddressCheck, checkOutboundUrl, type OutboundPolicy, pinnedTo } from './outbound.ts';
import { batchLinePages, batchPages, type CopyOut, type MemberRange } from './s3-batch-lines.ts';
import type { ClaimedBatch } from './s3-batches.repo.ts';
import { writeParquet } from './s3-parquet.ts';

/**
 * Multipart parts of 5 MiB, S3's minimum. A part is sent before the next
 * is written, in the one buffer: the other uploader keeps the CPU busy
 * meanwhile, and a second buffer per upload only raised RSS (bench/s3.ts).
 */
export const PART_SIZE = 5 * 1024 * 1024;

/**
 * The S3 client of an integration: its region and credentials; with an
 * endpoint (MinIO, R2, s3rver), path-style addressing; checksums only where
 * required, since S3-compatible stores corrupt or refuse the newer defaults.
 * Every request passes the outbound address policy (PinnedFetchHandler).
 */
export function s3ClientFor(integration: IntegrationRow, secrets: SecretBox, policy: OutboundPolicy): S3Client {
  return new S3Client({
    region: integration.s3_region!,
    credentials: {
      accessKeyId: integration.s3_access_key_id!,
      secretAccessKey: secrets.decrypt(integration.s3_secret_access_key_enc!),
    },
    ...(integration.s3_endpoint ? { endpoint: integration.s3_endpoint, forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new PinnedFetchHandler(policy),
    maxAttempts: 1,
  });
}

type HttpRequest = Parameters<FetchHttpHandler['handle']>[0];

/** An S3 request that did not pass the address policy: its host did not resolve, or resolved to a refused address. */
export class OutboundRefusedError extends Error {
  constructor(readonly check: Extract<AddressCheck, { ok: false }>) {
    super(check.reason);
    this.name = check.errorClass === 'dns' ? 'DnsError' : 'BlockedAddress';
  }
}

/**
 * The SDK's fetch handler, with each request's host resolved once,
 * checked, and connected to at the checked address (the Host header,
 * which the signature covers, and the TLS server name stay the
 * endpoint's). Redirects are not followed: the policy checked the
 * endpoint, not wherever it might send us (a 307 to a loopback service,
 * say). The runtime's own fetch, not node:http: under Bun the SDK's
 * node:http path costs ~40 % more CPU per byte and holds more memory
 * (bench/s3.ts).
 */
class PinnedFetchHandler extends FetchHttpHandler {
  constructor(private readonly policy: OutboundPolicy) {
    super({
      requestInit: () => ({ redirect: 'manual' }),
      // The handler builds a Request, which has no TLS options: the server
      // name (the endpoint's, as the Host header says) is added here.
      customFetch: ((input: Request, init?: BunFetchRequestInit) => {
        const name = new URL(`https://${input.headers.get('host')}`).hostname;
        const named = input.url.startsWith('https:') && isIP(name) === 0;
        return fetch(input, { ...init, ...(named ? { tls: { servername: name } } : {}) });
      }) as typeof fetch,
    });
  }

  override async handle(request: HttpRequest, options?: Parameters<FetchHttpHandler['handle']>[1]) {
    const origin = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}/`;
    const check = await checkOutboundUrl(origin, this.policy);
    if (!check.ok) throw new OutboundRefusedError(check);
    const pinned = pinnedTo(origin, check.address);
    const onward = request.clone();
    onward.hostname = new URL(pinned.url).hostname;
    for (const name of Object.keys(onward.headers)) if (name.toLowerCase() === 'host') delete onward.headers[name];
    onward.headers.host = pinned.host;
    return super.handle(onward, options);
  }
}
/**
 * Part buffers no upload is using. Reused rather than allocated per batch:
 * freed buffers wait for a garbage collection, and RSS would climb by
 * their sum meanwhile.
 */
const spareBuffers = new Map<number, Buffer[]>();

function takeBuffer(size: number): Buffer {
  return spareBuffers.get(size)?.pop() ?? Buffer.allocUnsafe(size);
}

function returnBuffer(size: number, buffer: Buffer) {
  const spares = spareBuffers.get(size) ?? [];
  spareBuffers.set(size, spares);
  if (spares.length < 4) spares.push(buffer); // enough for several uploads at once; the rest go
}

/**
 * Writes one object from many small writes with constant memory: bytes go
 * into a part buffer; a full part is sent (as a multipart upload, started
 * then) before the buffer takes more. An object that never fills a part
 * goes up as one PUT. Abort cleans up a started upload.
 */
class ObjectWriter {
  private readonly part: Buffer;
  private filled = 0;
  private uploadId: string | undefined;
  private readonly sent: { ETag: string; PartNumber: number }[] = [];

  constructor(
    private readonly client: S3Client,
    private readonly target: { Bucket: string; Key: string; ContentType: string },
    private readonly partSize = PART_SIZE,
    /** Aborts the request under way and refuses further writes (shutdown). */
    private readonly signal?: AbortSignal,
  ) {
    this.part = takeBuffer(partSize);
  }

  async write(bytes: Buffer): Promise<void> {
    this.signal?.throwIfAborted();
    for (let offset = 0; offset < bytes.length; ) {
      const copied = bytes.copy(
        this.part,
        this.filled,
        offset,
        offset + Math.min(this.partSize - this.filled, bytes.length - offset),
      );
      this.filled += copied;
      offset += copied;
      if (this.filled === this.partSize) await this.sendPart();
    }
  }

  async finish(): Promise<void> {
    const { Bucket, Key, ContentType } = this.target;
    if (this.uploadId === undefined) {
      await this.client.send(
        new PutObjectCommand({ Bucket, Key, ContentType, Body: this.part.subarray(0, this.filled) }),
        { abortSignal: this.signal },
      );
    } else {
      if (this.filled > 0) await this.sendPart();
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.sent },
        }),
        { abortSignal: this.signal },
      );
    }
    returnBuffer(this.partSize, this.part);
  }

  async abort(): Promise<void> {
    returnBuffer(this.partSize, this.part);
    if (this.uploadId === undefined) return;
    await this.client
      .send(
        new AbortMultipartUploadCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId: this.uploadId }),
      )
      .catch(() => {});
  }

  private async sendPart(): Promise<void> {
    const { Bucket, Key, ContentType } = this.target;
    this.uploadId ??= (
      await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType }), {
        abortSignal: this.signal,
      })
    ).UploadId!;
    const PartNumber = this.sent.length + 1;
    const body = this.part.subarray(0, this.filled);
    const { ETag } = await this.client.send(
      new UploadPartCommand({
        Bucket,
        Key,
        UploadId: this.uploadId,
        PartNumber,
        Body: body,
        ContentLength: body.length,
      }),
      { abortSignal: this.signal },
    );
    this.sent.push({ ETag: ETag!, PartNumber });
    this.filled = 0;
  }
}

const CONTENT_TYPES: Record<S3Compression, string> = {
  none: 'application/x-ndjson',
  gzip: 'application/gzip',
  zstd: 'application/zstd',
};
const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

interface UploadOptions {
  partSize?: number;
  /** Parquet row groups are written once they hold this much (at most the default); tests make it small. */
  rowGroupBytes?: number;
  signal?: AbortSignal;
}

type UploadedBatch = Pick<
  ClaimedBatch,
  'id' | 'format' | 'compression' | 'object_keys' | 'object_event_counts' | 'event_count' | 'byte_count'
>;

/**
 * Streams a sealed batch to its objects — one, or one per partition, each
 * holding its run of the members — as NDJSON (compressed as one gzip
 * member or one zstd frame) or as Parquet, as the batch was sealed. The
 * same batch always yields the same objects with the same bytes, so a
 * retry overwrites each with itself, even after the integration's settings
 * changed; a failed object's upload is aborted.
 */
export async function uploadBatch(
  copyOut: CopyOut,
  client: S3Client,
  integration: IntegrationRow,
  batch: UploadedBatch,
  options: UploadOptions = {},
): Promise<void> {
  let from = 1;
  for (const [index, key] of batch.object_keys.entries()) {
    const to = from + batch.object_event_counts[index]! - 1;
    await uploadObject(copyOut, client, integration.s3_bucket!, batch, key, { from, to }, options);
    from = to + 1;
  }
}

async function uploadObject(
  copyOut: CopyOut,
  client: S3Client,
  bucket: string,
  batch: UploadedBatch,
  key: string,
  range: MemberRange,
  options: UploadOptions,
): Promise<void> {
  const { format, compression } = batch;
  const ContentType = format === 'parquet' ? PARQUET_CONTENT_TYPE : CONTENT_TYPES[compression];
  const writer = new ObjectWriter(
    client,
    { Bucket: bucket, Key: key, ContentType },
    options.partSize ?? PART_SIZE,
    options.signal,
  );
  try {
    if (format === 'parquet') {
      await writeParquet(
        (sinks) => batchPages(copyOut, batch, range, 'parquet', sinks),
        writer,
        compression,
        options.rowGroupBytes,
      );
    } else if (compression !== 'none') {
      const compressor = compression === 'gzip' ? createGzip() : createZstdCompress();
      const feeding = (async () => {
        try {
          // Each page is handed over once the compressor has taken it in,
          // since its buffer is reused for the page after next.
          for await (const page of batchLinePages(copyOut, batch, range)) {
            await new Promise<void>((resolve, reject) =>
              compressor.write(page, (error) => (error ? reject(error) : resolve())),
            );
          }
          compressor.end();
        } catch (error) {
          compressor.destroy(error as Error);
        }
      })();
      for await (const chunk of compressor) await writer.write(chunk as Buffer);
      await feeding;
    } else {
      for await (const page of batchLinePages(copyOut, batch, range)) await writer.write(page);
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
  if (error instanceof OutboundRefusedError)
    return { permanent: error.check.errorClass === 'blocked_address', code: error.name, message: error.message };
  const failure = error as {
    name?: string;
    Code?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { statusCode?: number; headers?: Record<string, string> };
  };
  const status = failure.$response?.statusCode ?? failure.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 300 && status < 400) {
    const target = failure.$response?.headers?.location;
    return {
      permanent: true,
      code: 'Redirect',
      message: `The S3 endpoint answered ${status}${target ? ` to ${target}` : ''}; redirects are not followed. Set the endpoint to the store's own address.`,
    };
  }
  const code = failure.Code ?? failure.name ?? failure.code ?? 'Error';
  if (code in PERMANENT) return { permanent: true, code, message: PERMANENT[code]! };
  return { permanent: false, code, message: failure.message ?? String(error) };
}

/** Test connection: writes and deletes a small object under the prefix. */
export async function testS3Connection(integration: IntegrationRow, secrets: SecretBox, policy: OutboundPolicy) {
  const started = performance.now();
  const client = s3ClientFor(integration, secrets, policy);
  const key = `${integration.s3_key_prefix ? `${integration.s3_key_prefix}/` : ''}tideway-connection-test-${randomUUID()}.txt`;
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: integration.s3_bucket!,
        Key: key,
        Body: 'Tideway connection test. Safe to delete.',
      }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: integration.s3_bucket!, Key: key }));
    const ms = Math.round(performance.now() - started);
    return {
      ok: true,
      summary: `Wrote and deleted s3://${integration.s3_bucket}/${key} in ${ms} ms.`,
      status_code: 200,
      duration_ms: ms,
      error: null,
      response_body: null,
    };
  } catch (error) {
    const failure = classifyS3Error(error);
    const ms = Math.round(performance.now() - started);
    return {
      ok: false,
      summary: `${failure.code}: ${failure.message}`,
      status_code: null,
      duration_ms: ms,
      error: failure.message,
      response_body: null,
    };
  } finally {
    client.destroy();
  }
}
