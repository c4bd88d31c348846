import { resolve } from 'node:path';
import createClient from 'openapi-fetch';
import type { paths } from './api-client/schema.ts';
import { signatureOf } from './delivery/signature.ts';
import { simulate } from './simulator/simulate.ts';

/*
 * `bun run demo`: Tideway on its own embedded database, a demo webhook
 * receiver that checks every signature, a demo integration wired to it, and
 * the platform simulator sending a steady stream — events visible within
 * seconds. Ctrl-C stops everything.
 */

const ROOT = resolve(import.meta.dir, '..');
const PORT = Number(process.env.PORT ?? 3000);
const RECEIVER_PORT = Number(process.env.DEMO_RECEIVER_PORT ?? PORT + 1);
const DATA_DIR = process.env.DATA_DIR ?? './data/demo';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD ?? 'tideway-demo';
const RATE = Number(process.env.DEMO_RATE ?? 20);
const env = {
  ...process.env,
  PORT: String(PORT),
  DATA_DIR,
  ADMIN_PASSWORD,
  ALLOW_PRIVATE_TARGETS: 'true',
  LOG_LEVEL: 'warn',
};
const base = `http://127.0.0.1:${PORT}`;

function cli(...args: string[]): string {
  const result = Bun.spawnSync(['bun', 'src/cli.ts', ...args], { cwd: ROOT, env });
  if (result.exitCode !== 0) throw new Error(`bun run tideway ${args.join(' ')} failed:\n${result.stderr.toString()}`);
  return result.stdout.toString().trim();
}

// Tokens first: the embedded database admits one process, so before the server opens it.
const publishToken = cli('token', 'create', '--name', 'demo simulator', '--permission', 'publish_events');
const adminToken = cli('token', 'create', '--name', 'demo setup', '--permission', 'view_tools');

let received = 0;
let badSignatures = 0;
let signingSecret = '';
const receiver = Bun.serve({
  hostname: '127.0.0.1',
  port: RECEIVER_PORT,
  async fetch(request) {
    const body = await request.text();
    const expected = signatureOf(
      signingSecret,
      request.headers.get('webhook-id') ?? '',
      Number(request.headers.get('webhook-timestamp')),
      body,
    );
    if (!(request.headers.get('webhook-signature') ?? '').split(' ').includes(expected)) badSignatures++;
    received++;
    return new Response('ok');
  },
});

const server = Bun.spawn(['bun', 'src/main.ts'], { cwd: ROOT, env, stdout: 'inherit', stderr: 'inherit' });
const stopAll = () => {
  server.kill('SIGTERM');
  receiver.stop(true);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopAll();
    process.exit(0);
  });
}

for (let tries = 0; ; tries++) {
  const ready = await fetch(`${base}/readyz`)
    .then((response) => response.ok)
    .catch(() => false);
  if (ready) break;
  if (tries > 300 || server.exitCode !== null) throw new Error('Tideway did not become ready');
  await Bun.sleep(100);
}

// Our own client of the API, typed by the OpenAPI document (src/api-client/schema.ts).
const api = createClient<paths>({ baseUrl: base, headers: { authorization: `Bearer ${adminToken}` } });
const callback = { callback_url: `http://127.0.0.1:${RECEIVER_PORT}/events`, api_key: 'demo-api-key' };
const id = { params: { path: { id: 'demo-webhook' } } };
const existing = await api.GET('/api/v1/org/integrations/eventstream/{id}', id);
const saved =
  existing.response.status === 404
    ? await api.POST('/api/v1/org/integrations/eventstream', {
        body: { id: 'demo-webhook', integration_type: 'permanent', callback_parameters: callback },
      })
    : await api.PATCH('/api/v1/org/integrations/eventstream/{id}', { ...id, body: { callback_parameters: callback } });
if (saved.error) throw new Error(`Could not set up the demo integration: ${saved.error.detail}`);
await api.POST('/api/v1/org/integrations/eventstream/{id}/_start', id);
const secret = await api.GET('/api/v1/org/integrations/eventstream/{id}/signing-secret', id);
if (!secret.data) throw new Error(`Could not read the signing secret: ${secret.error?.detail}`);
signingSecret = secret.data.signing_secret;

process.stdout.write(
  `\nTideway demo is running.\n` +
    `  Open      ${base}  (sign in as admin@localhost / ${ADMIN_PASSWORD})\n` +
    `  Receiver  http://127.0.0.1:${RECEIVER_PORT}/events, integration "demo-webhook"\n` +
    `  Sending   ${RATE} events/s from the simulator. Ctrl-C stops.\n\n`,
);

const progress = setInterval(() => {
  process.stdout.write(
    `delivered to the demo receiver: ${received}${badSignatures ? ` (${badSignatures} with a bad signature!)` : ', every signature valid'}\n`,
  );
}, 5_000);
const abort = new AbortController();
await simulate(
  { url: base, token: publishToken, rate: RATE, duration: 365 * 86_400, batch: 20, concurrency: 2, seed: 1 },
  () => {},
  abort.signal,
);
clearInterval(progress);
stopAll();
