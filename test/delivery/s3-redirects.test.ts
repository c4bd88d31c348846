import { afterAll, beforeAll, expect, test } from 'bun:test';
import { testS3Connection } from '../../src/delivery/s3-upload.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { testSecrets } from '../helpers/fixtures.ts';
import { FakeS3 } from '../helpers/s3.ts';

/*
 * An S3 endpoint on an allowed address (127.0.0.2) that redirects to a
 * forbidden one (127.0.0.1, where an internal store listens): the redirect
 * is an error naming its target, and the internal store hears nothing.
 * Test connection used to report "Wrote and deleted…" there.
 */

const database = useTestDatabase();
const internal = new FakeS3();
let redirector: ReturnType<typeof Bun.serve>;
const policy = { allowPrivateTargets: false, allowedCidrs: ['127.0.0.2/32'] };

beforeAll(async () => {
  await internal.start();
  await internal.createBucket('internal');
  redirector = Bun.serve({
    hostname: '127.0.0.2',
    port: 0,
    fetch: (request) => {
      const url = new URL(request.url);
      return new Response(null, {
        status: 307,
        headers: { location: `http://127.0.0.1:${internal.port}${url.pathname}${url.search}` },
      });
    },
  });
});
afterAll(async () => {
  redirector?.stop(true);
  await internal.dispose();
});

test('a redirecting S3 endpoint: Test connection fails naming the redirect; nothing reaches the loopback store', async () => {
  const { integration } = await createIntegration(
    database().db,
    testSecrets,
    {
      id: 'redirecting-lake',
      integrationType: 'permanent',
      target: {
        kind: 's3',
        bucket: 'internal',
        region: 'us-east-1',
        accessKeyId: 'S3RVER',
        secretAccessKey: 'S3RVER',
        endpoint: `http://127.0.0.2:${redirector.port}`,
      },
    },
    'test',
  );
  const before = internal.requests.length;
  const result = await testS3Connection(integration, testSecrets, policy);
  expect(result.ok).toBe(false);
  expect(result.summary).toContain(`answered 307 to http://127.0.0.1:${internal.port}/internal/`);
  expect(result.summary).toContain('redirects are not followed');
  expect(internal.requests.slice(before)).toEqual([]);
});
