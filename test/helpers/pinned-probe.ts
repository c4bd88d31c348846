import type { IntegrationRow } from '../../src/db/database.ts';
import { testS3Connection } from '../../src/delivery/s3-upload.ts';
import { sendWebhook } from '../../src/delivery/webhook.ts';
import { createSecretBox } from '../../src/lib/crypto.ts';

/*
 * `bun pinned-probe.ts webhook|s3 URL ADDRESS`: one webhook attempt to URL,
 * or an S3 Test connection to the endpoint URL (bucket `lake`, s3rver's
 * credentials), with its host resolved to ADDRESS and 127.0.0.2 allowed;
 * prints the result as JSON. For tests that need a process started with
 * NODE_EXTRA_CA_CERTS (test/delivery/pinned-addresses.test.ts).
 */

const [kind, url, address] = process.argv.slice(2) as ['webhook' | 's3', string, string];
const policy = { allowPrivateTargets: false, allowedCidrs: ['127.0.0.2/32'], resolve: async () => [address] };

if (kind === 'webhook') {
  console.log(
    JSON.stringify(await sendWebhook({ url, signingSecrets: [], id: 'e-tls', body: '{}', timeoutMs: 5_000, policy })),
  );
} else {
  const secrets = createSecretBox('00'.repeat(32));
  // The columns an S3 client is made from; the probe needs no database.
  const lake = {
    s3_region: 'us-east-1',
    s3_bucket: 'lake',
    s3_key_prefix: null,
    s3_endpoint: url,
    s3_access_key_id: 'S3RVER',
    s3_secret_access_key_enc: secrets.encrypt('S3RVER'),
  } as unknown as IntegrationRow;
  console.log(JSON.stringify(await testS3Connection(lake, secrets, policy)));
}
