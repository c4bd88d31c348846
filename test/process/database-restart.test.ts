import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openPostgres, type DatabaseHandle } from '../../src/db/client.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { signedIn, TEST_SECRET_KEY, testSecrets, tokenWith } from '../helpers/fixtures.ts';
import { createIntegration } from '../../src/integrations/integrations.service.ts';
import { ownPostgresAvailable, startOwnPostgres, type OwnPostgres } from '../helpers/own-postgres.ts';
import { startTideway, type RunningTideway } from '../helpers/process.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * PostgreSQL crashes and comes back (pg_ctl stop -m immediate, then start)
 * in the middle of a steady stream of events, with Tideway running as a
 * process on it. The process must stay up, answer 503 with Retry-After
 * meanwhile (API, UI and /readyz), log the outage once rather than per
 * query, and once the database is back deliver every event it answered
 * 202 for.
 */

let postgres: OwnPostgres;
let handle: DatabaseHandle;
let tideway: RunningTideway;
const receiver = new Receiver();
const dataDir = mkdtempSync(join(tmpdir(), 'tideway-restart-'));
let publishToken: string;
let cookie: string;

beforeAll(async () => {
  if (!ownPostgresAvailable) return;
  postgres = await startOwnPostgres();
  handle = openPostgres(postgres.url);
  await migrateToLatest(handle.db);
  publishToken = await tokenWith(handle.db, 'publish_events', 'view_tools');
  cookie = (await signedIn(handle.db, ['view_tools'])).cookie;
  await createIntegration(
    handle.db,
    testSecrets,
    { id: 'erp', integrationType: 'permanent', target: { kind: 'webhook', callbackUrl: receiver.url() } },
    'test',
  );
  tideway = await startTideway({
    DATABASE_URL: postgres.url,
    DATA_DIR: dataDir,
    SECRET_KEY: TEST_SECRET_KEY,
    ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_TIMEOUT_MS: '2000',
  });
}, 120_000);

afterAll(async () => {
  tideway?.proc.kill('SIGKILL');
  await handle?.close().catch(() => {});
  await postgres?.destroy();
  receiver.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
  contentType: string | null;
  ids: string[];
}

/** Posts a batch of 10 events and says how it was answered. */
async function publish(): Promise<Answer> {
  const events = Array.from({ length: 10 }, () => ({
    id: randomUUID(),
    name: 'order.created',
    payload: { id: `o-${randomUUID().slice(0, 6)}` },
  }));
  const started = performance.now();
  const response = await fetch(`${tideway.url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${publishToken}` },
    body: JSON.stringify(events),
  });
  await response.arrayBuffer();
  return {
    status: response.status,
    ms: performance.now() - started,
    retryAfter: response.headers.get('retry-after'),
    contentType: response.headers.get('content-type'),
    ids: events.map((event) => event.id),
  };
}

describe.skipIf(!ownPostgresAvailable)('PostgreSQL crash-restarted under load', () => {
  test('the process stays up, answers 503 with Retry-After meanwhile, logs the outage once, and delivers every event it accepted', async () => {
    const answers: Answer[] = [];
    let publishing = true;
    // Four producers, so that connections are checked out (in transactions) when the server dies.
    const publishers = Array.from({ length: 4 }, async () => {
      while (publishing) {
        answers.push(await publish());
        await Bun.sleep(10);
      }
    });

    await Bun.sleep(2_000);
    await postgres.crash();
    await Bun.sleep(500);
    expect(tideway.proc.exitCode).toBeNull();
    // While it is down: the API, the UI and the readiness probe each say so, quickly.
    const started = performance.now();
    const ready = await fetch(`${tideway.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'unavailable',
      database: 'postgres',
      reason: expect.stringContaining('database unreachable'),
    });
    const page = await fetch(`${tideway.url}/tools/event-stream`, { headers: { cookie } });
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBe('5');
    expect(await page.text()).toContain('The database is unavailable');
    expect(performance.now() - started).toBeLessThan(4_000);
    await Bun.sleep(2_500);
    await postgres.start();
    await Bun.sleep(3_000);
    publishing = false;
    await Promise.all(publishers);

    expect(tideway.proc.exitCode).toBeNull();
    const refused = answers.filter((answer) => answer.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const answer of refused) {
      expect(answer.retryAfter).toBe('5');
      expect(answer.contentType).toBe('application/problem+json');
      expect(answer.ms).toBeLessThan(2_500);
    }
    expect(answers.filter((answer) => answer.status !== 202 && answer.status !== 503)).toEqual([]);
    const accepted = answers.filter((answer) => answer.status === 202).flatMap((answer) => answer.ids);
    // Some accepted after the restart too: ingest came back on its own.
    expect(answers.findLastIndex((answer) => answer.status === 202)).toBeGreaterThan(
      answers.findLastIndex((answer) => answer.status === 503),
    );

    // Every event answered 202 reaches the receiver and is recorded as delivered.
    const deadline = Date.now() + 30_000;
    const missing = () => {
      const arrived = new Set(receiver.received.map((request) => request.headers['webhook-id']));
      return accepted.filter((id) => !arrived.has(id));
    };
    while (missing().length > 0 && Date.now() < deadline) await Bun.sleep(200);
    expect(missing()).toEqual([]);
    const recorded = async () => {
      const { rows } = await sql<{
        n: string;
      }>`select count(*) as n from deliveries where status = 'success' and event_id = any(${accepted}::uuid[])`.execute(
        handle.db,
      );
      return Number(rows[0]!.n);
    };
    while ((await recorded()) < accepted.length && Date.now() < deadline) await Bun.sleep(200);
    expect(await recorded()).toBe(accepted.length);

    // Once per outage, not once per failed query or request.
    const complaints = tideway.stdout.logLines().filter((line) => line.level === 'warn' || line.level === 'error');
    expect(complaints.filter((line) => line.level === 'error')).toEqual([]);
    expect(complaints.length).toBeLessThan(15);
    expect((await fetch(`${tideway.url}/readyz`)).status).toBe(200);
  }, 90_000);
});
