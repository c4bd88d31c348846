import { afterAll, beforeAll, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { ARTIFACTS, signIn, startBrowserStack } from '../helpers/e2e.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * An operator answering "did order X reach the ERP, and if not, why?" in
 * Chromium, against a real server delivering to a real receiver.
 */

let stack: Awaited<ReturnType<typeof startBrowserStack>>;
let page: Page;
const receiver = new Receiver();
let erpDown = true;

async function api(path: string, init: RequestInit = {}) {
  return fetch(`${stack.server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' },
  });
}

beforeAll(async () => {
  receiver.respond = (request) => {
    if (request.body.includes('ord-refused')) return Response.json({ error: 'unknown customer' }, { status: 422 });
    if (request.body.includes('ord-broken') && erpDown) return new Response('ERP is down', { status: 500 });
    return new Response('ok');
  };
  stack = await startBrowserStack({ ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_SCHEDULE: '1' });
  await api('/api/v1/org/integrations/eventstream', {
    method: 'POST',
    body: JSON.stringify({
      id: 'erp',
      integration_type: 'permanent',
      callback_parameters: { callback_url: receiver.url() },
    }),
  });
  const events = [
    ...['order.created', 'order.opened', 'order.completed'].map((name) => ({ name, payload: { id: 'ord-1001' } })),
    ...['order.created', 'order.opened'].map((name) => ({ name, payload: { id: 'ord-1002' } })),
    { name: 'order.created', payload: { id: 'ord-refused' } },
    { name: 'order.created', payload: { id: 'ord-broken' } },
  ];
  expect((await api('/api/v1/events', { method: 'POST', body: JSON.stringify(events) })).status).toBe(202);
  // Wait for every delivery to settle: the broken one fails after its one retry.
  for (let i = 0; i < 200; i++) {
    const pending = (await (await api('/api/v1/org/integrations/published-events?status=pending')).json()) as {
      events: unknown[];
    };
    if (pending.events.length === 0) break;
    await Bun.sleep(100);
  }
  page = await stack.browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await signIn(page, stack.server.url);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  receiver.stop();
});

const domainIds = () => page.locator('#events-results tbody tr td:nth-child(2)').allTextContents();

test('filter by a domain entity ID and see only that order’s events, as you type', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/erp/events`);
  expect((await domainIds()).length).toBe(7);
  await page.getByLabel('Domain Entity ID').fill('ord-1001');
  await page.waitForFunction(() => document.querySelectorAll('#events-results tbody tr').length === 3);
  expect(await domainIds()).toEqual(['ord-1001', 'ord-1001', 'ord-1001']);
  expect(new URL(page.url()).searchParams.get('domain_entity_id')).toBe('ord-1001');
  await page.screenshot({ path: join(ARTIFACTS, 'events-filtered.png'), fullPage: true });
}, 30_000);

test('filter by status, open the failed event, press Resend after the receiver recovers: Success', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/erp/events`);
  await page.getByLabel('Status').selectOption('failure');
  await page.waitForFunction(() => document.querySelectorAll('#events-results tbody tr').length === 1);
  expect(await domainIds()).toEqual(['ord-broken']);
  await page.locator('#events-results tbody a').first().click();
  await page.waitForURL(/\/events\/[0-9a-f-]{36}/);
  expect(await page.locator('.facts .status-failure').textContent()).toBe('Failure');
  expect(await page.textContent('main')).toContain('ERP is down');

  erpDown = false;
  await page.getByRole('button', { name: 'Resend' }).click();
  await page.waitForURL(/notice=resent-success/);
  expect(await page.locator('.facts .status-success').textContent()).toBe('Success');
  expect(await page.textContent('main')).toContain('(manual)');
}, 30_000);

test('export the rejected events as CSV', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/erp/rejected-events`);
  expect(await page.textContent('main')).toContain('unknown customer');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('erp-rejected-events.csv');
  const file = join(ARTIFACTS, 'erp-rejected-events.csv');
  await download.saveAs(file);
  const csv = readFileSync(file, 'utf8');
  expect(csv.split('\r\n')[0]).toBe(
    'event_id,event_type,domain_entity_id,published_at,rejected_at,status_code,response',
  );
  expect(csv).toContain(',order.created,ord-refused,');
  expect(csv).toContain('422,"{""error"":""unknown customer""}"');
}, 30_000);

test('Rejected Events filters apply as you type, and offer Retry for what they match', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/erp/rejected-events`);
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  expect(await page.locator('#rejected-results tbody tr').count()).toBe(1);
  await page.getByLabel('Domain Entity ID').fill('ord-nothing-like-it');
  await page.getByRole('heading', { name: 'No rejected events' }).waitFor({ timeout: 5_000 });
  expect(new URL(page.url()).searchParams.get('domain_entity_id')).toBe('ord-nothing-like-it');
  expect(await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toContain(
    'domain_entity_id=ord-nothing-like-it',
  );
  await page.getByLabel('Domain Entity ID').fill('ord-refused');
  await page.locator('#rejected-results tbody tr').first().waitFor({ timeout: 5_000 });
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await page.getByRole('link', { name: 'Retry all matching…' }).click();
  await page.waitForURL(/\/events\/retry\?/);
  expect(new URL(page.url()).searchParams.get('status')).toBe('rejected');
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Retry 1 deliveries?');
}, 30_000);
