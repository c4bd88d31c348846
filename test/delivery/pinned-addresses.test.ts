import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import type { Resolver } from '../../src/delivery/outbound.ts';
import { testS3Connection } from '../../src/delivery/s3-upload.ts';
import { testWebhookConnection } from '../../src/delivery/test-connection.ts';
import { sendWebhook } from '../../src/delivery/webhook.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { testSecrets, webhookIntegration } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';
import { FakeS3 } from '../helpers/s3.ts';

/*
 * DNS rebinding: the address checked must be the address connected to.
 * 127.0.0.2 stands for an allowed (public) address and 127.0.0.1, on the
 * same port, for an internal service. The injected resolver answers
 * `localhost` with 127.0.0.2 first and 127.0.0.1 after that, as a
 * rebinding name server would. Tideway used to check the first answer
 * and let fetch resolve again, reaching the internal service.
 */

const database = useTestDatabase();

/** Answers `answers[0]` to the first lookup, `answers[1]` to the second, and so on; the last one after that. */
function rebinding(...answers: string[]): Resolver & { lookups: string[] } {
  const lookups: string[] = [];
  const resolve = async (host: string) => {
    lookups.push(host);
    return [answers[Math.min(lookups.length - 1, answers.length - 1)]!];
  };
  return Object.assign(resolve, { lookups });
}

const policyWith = (resolve: Resolver) => ({ allowPrivateTargets: false, allowedCidrs: ['127.0.0.2/32'], resolve });

describe('webhooks', () => {
  const allowed = new Receiver({ hostname: '127.0.0.2' });
  const internal = new Receiver({ hostname: '127.0.0.1', port: allowed.server.port });
  const url = `http://localhost:${allowed.server.port}/hook`;
  afterAll(() => {
    allowed.stop();
    internal.stop();
  });

  test('a delivery goes to the address that was checked, with the URL’s Host header; a second lookup cannot move it', async () => {
    const resolve = rebinding('127.0.0.2', '127.0.0.1');
    const send = () =>
      sendWebhook({ url, signingSecrets: [], id: 'e-1', body: '{}', timeoutMs: 2_000, policy: policyWith(resolve) });

    const first = await send();
    expect(first).toMatchObject({ attemptClass: 'success', statusCode: 200 });
    expect(allowed.received.map((request) => request.headers.host)).toEqual([`localhost:${allowed.server.port}`]);
    expect(internal.received).toEqual([]);
    expect(resolve.lookups).toEqual(['localhost']); // resolved once per attempt

    // The name now points inward: refused before anything is sent.
    const second = await send();
    expect(second).toMatchObject({ attemptClass: 'interrupt', errorClass: 'blocked_address' });
    expect(second.errorMessage).toContain('localhost resolves to 127.0.0.1');
    expect(internal.received).toEqual([]);
  });

  test('Test connection too: what the internal service would answer never comes back', async () => {
    internal.respond = () => new Response('internal secrets');
    await webhookIntegration(database(), {
      id: 'rebound',
      target: { kind: 'webhook', callbackUrl: url, apiKey: 'k-1' },
    });
    const integration = await database()
      .db.selectFrom('integrations')
      .selectAll()
      .where('id', '=', 'rebound')
      .executeTakeFirstOrThrow();
    const config = loadConfig({ WEBHOOK_TIMEOUT_MS: '2000' });
    const result = await testWebhookConnection(integration, testSecrets, {
      ...config,
      outbound: policyWith(rebinding('127.0.0.2', '127.0.0.1')),
    });
    expect(result.ok).toBe(true);
    expect(result.response_body).toBe('ok');
    expect(internal.received).toEqual([]);
    expect(allowed.received.at(-1)!.headers.authorization).toBe('Bearer k-1');
  });
});

/*
 * Over https the connection goes to the address, but the TLS server name
 * and the certificate check are the URL's. Run in a process of its own,
 * which trusts the test certificate (for `localhost` only) through
 * NODE_EXTRA_CA_CERTS, read at start.
 */
describe('over https', () => {
  const fixture = (name: string) => join(import.meta.dir, '../fixtures/tls', name);
  let tls: { cert: string; key: string };
  let receiver: Receiver;
  const lake = new FakeS3();
  const internal = new FakeS3();
  beforeAll(async () => {
    tls = {
      cert: await Bun.file(fixture('localhost.crt')).text(),
      key: await Bun.file(fixture('localhost.key')).text(),
    };
    receiver = new Receiver({ hostname: '127.0.0.2', tls });
    await lake.start(0, '127.0.0.2', { tls, buckets: ['lake'] });
    await internal.start(lake.port, '127.0.0.1', { tls, buckets: ['lake'] });
  });
  afterAll(async () => {
    receiver.stop();
    await lake.dispose();
    await internal.dispose();
  });

  async function probe<Result>(kind: 'webhook' | 's3', url: string): Promise<Result> {
    const child = Bun.spawn(['bun', join(import.meta.dir, '../helpers/pinned-probe.ts'), kind, url, '127.0.0.2'], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: fixture('localhost.crt') },
      stdout: 'pipe',
      stderr: 'inherit',
    });
    const output = await new Response(child.stdout).text();
    expect(await child.exited).toBe(0);
    return JSON.parse(output) as Result;
  }
  type Attempt = { attemptClass: string; statusCode: number | null; errorClass: string | null };

  test('a webhook: the certificate is checked against the URL’s name, which is also the server name sent', async () => {
    const result = await probe<Attempt>('webhook', `https://localhost:${receiver.server.port}/hook`);
    expect(result).toMatchObject({ attemptClass: 'success', statusCode: 200 });
    expect(receiver.received.at(-1)!.headers.host).toBe(`localhost:${receiver.server.port}`);
  });

  test('a name the certificate does not carry fails the TLS check, pinned or not', async () => {
    const before = receiver.received.length;
    const result = await probe<Attempt>('webhook', `https://other.test:${receiver.server.port}/hook`);
    expect(result).toMatchObject({ attemptClass: 'retry', statusCode: null, errorClass: 'tls' });
    expect(receiver.received.length).toBe(before);
  });

  test('S3: signed, verified and written at the checked address', async () => {
    const result = await probe<{ ok: boolean; summary: string }>('s3', `https://localhost:${lake.port}`);
    expect(result.summary).toStartWith('Wrote and deleted s3://lake/tideway-connection-test-');
    expect(lake.requests.filter((request) => request.startsWith('PUT /lake/tideway-connection-test-'))).toHaveLength(1);
    expect(internal.requests).toEqual([]);
  });
});

describe('S3', () => {
  const allowed = new FakeS3();
  const internal = new FakeS3();
  beforeAll(async () => {
    await allowed.start(0, '127.0.0.2');
    await internal.start(allowed.port, '127.0.0.1');
    await allowed.createBucket('lake');
    await internal.createBucket('lake');
    internal.requests.length = 0;
  });
  afterAll(async () => {
    await allowed.dispose();
    await internal.dispose();
  });

  async function lakeOn(id: string) {
    const { integration } = await createIntegration(
      database().db,
      testSecrets,
      {
        id,
        integrationType: 'permanent',
        target: {
          kind: 's3',
          bucket: 'lake',
          region: 'us-east-1',
          accessKeyId: 'S3RVER',
          secretAccessKey: 'S3RVER',
          endpoint: `http://localhost:${allowed.port}`,
        },
      },
      'test',
    );
    return integration;
  }

  test('every request is resolved, checked and sent to the checked address; the signature still holds', async () => {
    const resolve = rebinding('127.0.0.2');
    const result = await testS3Connection(await lakeOn('lake-pinned'), testSecrets, policyWith(resolve));
    expect(result.summary).toStartWith('Wrote and deleted s3://lake/tideway-connection-test-');
    expect(allowed.requests.filter((request) => request.startsWith('PUT /lake/tideway-connection-test-'))).toHaveLength(
      1,
    );
    expect(internal.requests).toEqual([]);
    expect(resolve.lookups).toEqual(['localhost', 'localhost']); // the PUT and the DELETE
  });

  test('a name that rebinds between requests is refused at the request it points inward; the internal store hears nothing', async () => {
    const result = await testS3Connection(
      await lakeOn('lake-rebinding'),
      testSecrets,
      policyWith(rebinding('127.0.0.2', '127.0.0.1')),
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toStartWith('BlockedAddress: localhost resolves to 127.0.0.1');
    expect(internal.requests).toEqual([]);
  });
});
