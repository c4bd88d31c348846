import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTideway, type RunningTideway } from '../helpers/process.ts';

/*
 * Strangers sending large bodies: the process refuses them before reading
 * them into memory (it used to read a 120 MB sign-in form whole: 92 → 712 MB).
 */

let tideway: RunningTideway;
const dataDir = mkdtempSync(join(tmpdir(), 'tideway-limits-'));
const MB = 1024 * 1024;

beforeAll(async () => {
  tideway = await startTideway({ DATA_DIR: dataDir, ADMIN_PASSWORD: 'limits-test-password' });
}, 60_000);
afterAll(() => {
  tideway.proc.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const rssMb = () =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${tideway.proc.pid}/status`, 'utf8'))![1]) / 1024;

/** A body of `megabytes` MB, streamed in 1 MB chunks without a Content-Length. */
function streamed(megabytes: number) {
  const chunk = new Uint8Array(MB).fill(0x61);
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ >= megabytes) controller.close();
      else controller.enqueue(chunk);
    },
  });
}

describe('bodies past the limits', () => {
  test('a 120 MB sign-in form, with a length or streamed, is a 413 and the process stays small', async () => {
    const before = rssMb();
    const form = new Uint8Array(120 * MB).fill(0x61);
    const sized = await fetch(`${tideway.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    }).catch((error: Error) => error);
    // Bun may answer 413 and close before the whole body is sent: either way nothing was read.
    if (!(sized instanceof Error)) expect(sized.status).toBe(413);
    const chunked = await fetch(`${tideway.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: streamed(120),
    }).catch((error: Error) => error);
    if (!(chunked instanceof Error)) expect(chunked.status).toBe(413);
    expect(rssMb() - before).toBeLessThan(40);
    // And it still answers.
    expect((await fetch(`${tideway.url}/healthz`)).status).toBe(200);
  }, 60_000);

  test('the configuration API takes 64 KiB: a larger JSON body is a 413 problem', async () => {
    const response = await fetch(`${tideway.url}/api/v1/org/integrations/eventstream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
      body: JSON.stringify({ id: 'x'.repeat(70 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error_code: 'payload_too_large' });
  });

  test('ingest keeps its own limit (MAX_REQUEST_BYTES), far above the forms’', async () => {
    const response = await fetch(`${tideway.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
      body: JSON.stringify([{ name: 'order.created', payload: { note: 'x'.repeat(200 * 1024) } }]),
    });
    // Past the form limit but within ingest's: it reaches the token check.
    expect(response.status).toBe(401);
  });
});
