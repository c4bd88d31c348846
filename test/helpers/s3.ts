import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** s3rver in this process over real HTTP on loopback; credentials S3RVER/S3RVER, signatures checked. */
export class FakeS3 {
  private server: S3rver | undefined;
  readonly directory = mkdtempSync(join(tmpdir(), 'tideway-s3rver-'));
  port = 0;
  client!: S3Client;
  /** Every request the store received, as `METHOD /path?query`. */
  readonly requests: string[] = [];
  /** Holds every PUT this long before handling it: uploads that are still under way when a test acts. */
  delayMs = 0;
  /** PUTs being held by delayMs right now. */
  heldPuts = 0;

  /** The address it listens on. */
  address = '127.0.0.1';

  /** Over https with this key and certificate when set. */
  tls: { key: string; cert: string } | undefined;

  async start(
    port = 0,
    address = '127.0.0.1',
    options: { tls?: { key: string; cert: string }; buckets?: string[] } = {},
  ): Promise<this> {
    this.address = address;
    this.tls = options.tls;
    this.server = new S3rver({
      port,
      address,
      silent: true,
      directory: this.directory,
      ...options.tls,
      configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
    });
    // s3rver is a Koa app: a middleware put first sees every request.
    (this.server as unknown as { middleware: ((...args: never) => unknown)[] }).middleware.unshift(
      async (
        context: { method: string; url: string; req: { socket: { destroyed: boolean } }; status: number },
        next: () => Promise<void>,
      ) => {
        this.requests.push(`${context.method} ${context.url}`);
        if (context.method === 'PUT' && this.delayMs > 0) {
          this.heldPuts++;
          await Bun.sleep(this.delayMs).finally(() => this.heldPuts--);
          // A client that gave up meanwhile has no upload, as with S3 (s3rver would store what it had read).
          if (context.req.socket.destroyed) {
            context.status = 499;
            return;
          }
        }
        await next();
      },
    );
    const listening = await this.server.run();
    this.port = listening.port;
    this.client = new S3Client({
      region: 'us-east-1',
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return this;
  }

  get endpoint(): string {
    return `${this.tls ? 'https' : 'http'}://${this.address}:${this.port}`;
  }

  /** An S3 integration's target on this store: bucket `lake`, s3rver's key, `keyPrefix`, and any other options. */
  target<Extra extends object>(keyPrefix: string, extra?: Extra) {
    return {
      kind: 's3' as const,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      region: 'us-east-1',
      bucket: 'lake',
      keyPrefix,
      endpoint: this.endpoint,
      ...extra,
    };
  }

  async createBucket(name: string): Promise<void> {
    await this.client.send(new CreateBucketCommand({ Bucket: name }));
  }

  async keys(bucket: string): Promise<string[]> {
    const listed = await this.client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (listed.Contents ?? []).map((object) => object.Key!).sort();
  }

  async read(bucket: string, key: string): Promise<Buffer> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.client?.destroy();
    rmSync(this.directory, { recursive: true, force: true });
  }
}
