import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { setIntegrationStatus } from '../../src/delivery/integration-status.ts';
import { createTestDatabase, prepareDataDir, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { TEST_SECRET_KEY, testSecrets, webhookIntegration } from '../helpers/fixtures.ts';
import { startTideway, stopTideway, type RunningTideway } from '../helpers/process.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';
import { SmtpSink } from '../helpers/smtp.ts';

/*
 * Notifications from a real Tideway process: a consumer's 401 is told once
 * by signed webhook and by email; a receiver answering 503 makes the
 * backlog late past BACKLOG_ALERT_AFTER_MS=3000 (told once), and then
 * recovers (told once). And two worker processes on one Postgres send each
 * notice once.
 */

const consumer = new Receiver();
const ops = new Receiver();
const smtp = new SmtpSink();
const dir = mkdtempSync(join(tmpdir(), 'tideway-notify-'));
const PASSWORD = 'notify-admin-password';

beforeAll(async () => {
  await smtp.start();
});
afterAll(async () => {
  consumer.stop();
  ops.stop();
  await smtp.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

const verify = (secret: string, received: Received[]) =>
  received.map((request) => new Webhook(secret).verify(request.body, request.headers) as Record<string, unknown>);

describe('one Tideway process', () => {
  let database: TestDatabase | undefined;
  let tideway: RunningTideway;
  let token: string;
  let secret: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${tideway.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };

  beforeAll(async () => {
    if (usingPostgres) database = await createTestDatabase();
    else {
      mkdirSync(join(dir, 'one'));
      await prepareDataDir(join(dir, 'one'));
    }
    tideway = await startTideway({
      ...(database ? { DATABASE_URL: database.url! } : {}),
      DATA_DIR: join(dir, 'one'),
      SECRET_KEY: TEST_SECRET_KEY,
      ADMIN_PASSWORD: PASSWORD,
      ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1',
      WEBHOOK_OVERLOAD_BACKOFF_MS: '0',
      SMTP_URL: smtp.url(),
      MAIL_FROM: 'tideway@example.com',
      BACKLOG_ALERT_AFTER_MS: '3000',
    });
    const grant = await fetch(`${tideway.url}/v0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'admin@localhost', password: PASSWORD }),
    });
    token = ((await grant.json()) as { access_token: string }).access_token;
    secret = (await call('POST', '/api/v1/org/notification-channels', { kind: 'webhook', url: ops.url('/ops') }))
      .signing_secret as string;
    await call('POST', '/api/v1/org/notification-channels', { kind: 'email', to: ['ops@example.com'] });
  }, 90_000);
  afterAll(async () => {
    if (tideway) await stopTideway(tideway);
    await database?.close();
  });

  test('a 401 from the consumer: exactly one integration.stopped by webhook and one by email, naming the integration and "HTTP 401"', async () => {
    consumer.respond = (request) =>
      request.path === '/erp' ? new Response('who?', { status: 401 }) : new Response('ok');
    await call('POST', '/api/v1/org/integrations/eventstream', {
      id: 'erp-netsuite',
      integration_type: 'permanent',
      callback_parameters: { callback_url: consumer.url('/erp') },
    });
    for (let i = 0; i < 5; i++)
      await call('POST', '/api/v1/events', { name: 'order.created', payload: { id: `o-${i}` } });
    await waitUntil(() => ops.received.length >= 1 && smtp.mails.length >= 1, 20_000, 'the notices');
    await Bun.sleep(2_000); // nothing more comes
    const notices = verify(secret, ops.received).filter((notice) => notice.integration_id === 'erp-netsuite');
    expect(notices.map((notice) => [notice.type, notice.reason])).toEqual([
      ['integration.stopped', 'Callback answered HTTP 401 Unauthorized'],
    ]);
    expect(String(notices[0]!.url)).toEndWith('/tools/event-stream/erp-netsuite/logs');
    const mails = smtp.mails.filter((mail) => mail.subject.includes('erp-netsuite'));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toContain('HTTP 401');
    expect(mails[0]!.text).toContain('Integration: erp-netsuite');
  }, 40_000);

  test('a receiver answering 503 with BACKLOG_ALERT_AFTER_MS=3000: one backlog_delayed, then one backlog_recovered once it answers again', async () => {
    ops.received.length = 0;
    smtp.mails.length = 0;
    let healthy = false;
    consumer.respond = (request) =>
      request.path === '/slow' && !healthy ? new Response('busy', { status: 503 }) : new Response('ok');
    await call('POST', '/api/v1/org/integrations/eventstream', {
      id: 'slow-warehouse',
      integration_type: 'permanent',
      callback_parameters: { callback_url: consumer.url('/slow') },
    });
    await call('POST', '/api/v1/events', { name: 'order.created', payload: { id: 'o-slow' } });
    const typesFor = () =>
      verify(secret, ops.received)
        .filter((notice) => notice.integration_id === 'slow-warehouse')
        .map((notice) => notice.type);
    await waitUntil(() => typesFor().includes('integration.backlog_delayed'), 15_000, 'backlog_delayed');
    const list = await fetch(`${tideway.url}/api/v1/org/integrations/eventstream/slow-warehouse`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await list.json()) as { status: string }).status).toBe('running');
    await Bun.sleep(2_500); // still late: told once only
    expect(typesFor()).toEqual(['integration.backlog_delayed']);
    healthy = true;
    await waitUntil(() => typesFor().includes('integration.backlog_recovered'), 15_000, 'backlog_recovered');
    await Bun.sleep(2_000);
    expect(typesFor()).toEqual(['integration.backlog_delayed', 'integration.backlog_recovered']);
    expect(smtp.mails.map((mail) => mail.subject)).toEqual([
      expect.stringContaining('Integration slow-warehouse is delayed'),
      expect.stringContaining('Integration slow-warehouse has recovered'),
    ]);
  }, 60_000);
});

describe.skipIf(!usingPostgres)('two worker processes on one Postgres', () => {
  let database: TestDatabase;
  const workers: RunningTideway[] = [];
  const receiver = new Receiver();

  beforeAll(async () => {
    database = await createTestDatabase();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((worker) => stopTideway(worker)));
    receiver.stop();
    await database?.close();
  });

  test('each notification is sent once', async () => {
    const COUNT = 60;
    const channel = await database.db
      .insertInto('notification_channels')
      .values({
        kind: 'webhook',
        url: receiver.url('/n'),
        signing_secret_enc: testSecrets.encrypt(`whsec_${Buffer.alloc(32, 1).toString('base64')}`),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Slow answers, so both workers have sends in flight at once.
    receiver.respond = async () => {
      await Bun.sleep(20);
      return new Response('ok');
    };
    for (let i = 0; i < 2; i++) {
      workers.push(
        await startTideway(
          {
            DATABASE_URL: database.url!,
            DATA_DIR: join(dir, `worker-${i}`),
            SECRET_KEY: TEST_SECRET_KEY,
            ALLOW_PRIVATE_TARGETS: 'true',
          },
          45_000,
          ['--role', 'worker'],
        ),
      );
    }
    for (let i = 0; i < COUNT; i++) {
      await webhookIntegration(database, { id: `int-${i}` });
      await setIntegrationStatus(
        database.db,
        `int-${i}`,
        'stopped',
        `Callback answered HTTP 401 Unauthorized (${i})`,
        'system',
        {
          type: 'integration.stopped',
        },
      );
    }
    const sent = () =>
      database.db
        .selectFrom('notification_sends')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'sent')
        .where('channel_id', '=', channel.id)
        .executeTakeFirstOrThrow();
    await waitUntil(async () => Number((await sent()).n) === COUNT, 30_000, 'every send');
    await Bun.sleep(1_500);
    const ids = receiver.received.map((request) => request.headers['webhook-id']);
    expect(ids).toHaveLength(COUNT);
    expect(new Set(ids).size).toBe(COUNT);
    expect(await database.db.selectFrom('notification_attempts').select('ok').execute()).toHaveLength(COUNT);
    // Both workers took part: a send keeps the owner of the lease it was sent under.
    const owners = await database.db.selectFrom('notification_sends').select('lease_owner').distinct().execute();
    expect(owners).toHaveLength(2);
  }, 90_000);
});
