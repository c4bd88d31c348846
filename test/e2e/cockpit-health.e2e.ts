import { afterAll, beforeAll, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright';
import { ARTIFACTS, signIn, startBrowserStack } from '../helpers/e2e.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * Issue 19 in Chromium: each integration's health at a glance on the list
 * and the Overview (active, paused by whom, stopped by the system and why,
 * failing with the last error and the next try, for S3 too), the list at
 * 1280 and 390 px, the forms' errors, the smaller defects, and an axe scan
 * of every page (no serious or critical violation). Screenshots of each
 * page at both widths land in test-results/e2e/ (the README shows them).
 */

const LONG_ID = 'erp-netsuite-integration-for-the-european-warehouses-and-stores1';
const receiver = new Receiver();
let stack: Awaited<ReturnType<typeof startBrowserStack>>;
let page: Page;
let eventId = '';

async function api(path: string, init: RequestInit = {}) {
  return fetch(`${stack.server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' },
  });
}
async function create(body: Record<string, unknown>) {
  const response = await api('/api/v1/org/integrations/eventstream', {
    method: 'POST',
    body: JSON.stringify({ integration_type: 'permanent', ...body }),
  });
  expect({ id: body.id, status: response.status }).toEqual({ id: body.id, status: 201 });
}
const health = (id: string) => page.locator(`#integration-${id} .health-cell`);
const noSideways = () =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** Reloads `path` until `condition` holds (deliveries and uploads happen in the background), for up to 20 s. */
async function until(path: string, condition: () => Promise<boolean>) {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await Bun.sleep(250)) {
    await page.goto(`${stack.server.url}${path}`);
    if (await condition()) return;
  }
  throw new Error(`${path}: not as expected within 20 s`);
}

beforeAll(async () => {
  receiver.respond = (request) => {
    if (request.path === '/refuse') return new Response('bad key', { status: 401 });
    if (request.path === '/flaky') return new Response('try later', { status: 503 });
    return new Response('ok');
  };
  stack = await startBrowserStack({
    ALLOW_PRIVATE_TARGETS: 'true',
    S3_BATCH_INTERVAL_MS: '200',
    WEBHOOK_RETRY_SCHEDULE: '60,600',
  });
  await create({ id: 'erp-main', callback_parameters: { callback_url: receiver.url('/erp') } });
  await create({ id: 'crm-refused', callback_parameters: { callback_url: receiver.url('/refuse') } });
  await create({ id: 'oms-flaky', callback_parameters: { callback_url: receiver.url('/flaky') } });
  await create({ id: 'bi-paused', callback_parameters: { callback_url: receiver.url('/erp') } });
  await create({
    id: 'lake-unreachable',
    s3_parameters: {
      aws_access_key_id: 'AKIAE2E',
      aws_secret_access_key: 'e2e-secret',
      aws_region: 'eu-central-1',
      bucket: 'lake',
      endpoint: 'http://127.0.0.1:9',
    },
  });
  await create({
    id: LONG_ID,
    callback_parameters: {
      callback_url: `${receiver.url('/erp')}/a/very/long/path/that/goes/on/and/on/for/the/european/warehouses`,
    },
  });
  expect(
    (await api('/api/v1/org/integrations/eventstream/bi-paused/_stop', { method: 'POST', body: '{}' })).status,
  ).toBe(200);
  const published = await api('/api/v1/events', {
    method: 'POST',
    body: JSON.stringify({ name: 'order.created', payload: { id: 'ord-1001' } }),
  });
  eventId = ((await published.json()) as { ids: string[] }).ids[0]!;
  page = await stack.browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(8_000);
  await signIn(page, stack.server.url);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  receiver.stop();
});

test('the list tells active, paused by whom, stopped by the system (why), failing (last error, next try), S3 included', async () => {
  await until('/tools/event-stream', async () => {
    const states = await page
      .locator('#integration-rows tr')
      .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.health));
    return states.filter((state) => state === 'failing').length === 2 && states.includes('stopped');
  });
  expect(await health('erp-main').textContent()).toBe('Active');
  expect(await health('bi-paused').textContent()).toContain('Paused');
  expect(await health('bi-paused').textContent()).toContain('by API token "e2e"');
  expect(await health('crm-refused').textContent()).toContain('Stopped by the system');
  expect(await health('crm-refused').textContent()).toContain('HTTP 401');
  expect(await health('oms-flaky').textContent()).toContain('Failing');
  expect(await health('oms-flaky').textContent()).toContain('Last error: HTTP 503');
  expect(await health('oms-flaky').textContent()).toContain('Next try in');
  const lake = (await health('lake-unreachable').textContent()) ?? '';
  expect(lake).toContain('Failing');
  expect(lake).toContain('Last error:');
  expect(lake).toContain('Next try');
  // The whole callback URL in the tooltip; times relative, the absolute one on hover.
  const target = page.locator(`#integration-${LONG_ID} .truncate`);
  expect(await target.getAttribute('title')).toEndWith('/for/the/european/warehouses');
  const time = page.locator('#integration-erp-main time').first();
  expect(await time.textContent()).toMatch(/just now|min ago/);
  expect(await time.getAttribute('title')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/);
  await page.screenshot({ path: join(ARTIFACTS, 'list-1280.png'), fullPage: true });
}, 60_000);

test('the Overview says the same', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/overview`);
  const card = (id: string) => page.locator('.overview-card', { has: page.locator(`#overview-${id}`) });
  expect(await card('crm-refused').textContent()).toContain('Stopped by the system');
  expect(await card('bi-paused').textContent()).toContain('Paused');
  expect(await card('lake-unreachable').textContent()).toContain('Failing');
  expect(await card('oms-flaky').textContent()).toContain('Last error: HTTP 503');
  await page.screenshot({ path: join(ARTIFACTS, 'overview-1280.png'), fullPage: true });
}, 30_000);

test('an S3 event in a batch that cannot be uploaded shows the batch’s failed attempts and its next try', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/lake-unreachable/events/${eventId}`);
  const main = (await page.textContent('main')) ?? '';
  expect(main).not.toContain('Not attempted yet');
  expect(main).toContain('upload attempts');
  expect(main).toContain('(batch upload)');
}, 30_000);

test('at 1280 px a 63-character ID keeps every column on the card; times stay on one line', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream`);
  expect(await noSideways()).toBe(0);
  const wrap = await page.locator('.table-wrap').boundingBox();
  for (const control of [
    page.getByRole('switch', { name: new RegExp(`^${LONG_ID}:`) }),
    page.getByRole('link', { name: `Delete ${LONG_ID}` }),
  ]) {
    const box = (await control.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(wrap!.x + wrap!.width);
  }
  for (const time of await page.locator('#integration-rows time').all()) {
    const box = (await time.boundingBox())!;
    expect(box.height).toBeLessThan(30);
  }
}, 30_000);

test('at 390 px the list is a stack of cards with the switch and Actions at hand; no page scrolls sideways', async () => {
  const phone = await stack.browser.newPage({ viewport: { width: 390, height: 844 } });
  await signIn(phone, stack.server.url);
  expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const toggle = phone.getByRole('switch', { name: new RegExp(`^${LONG_ID}:`) });
  const actions = phone.locator(`#integration-${LONG_ID} summary`);
  for (const control of [toggle, actions]) {
    await control.scrollIntoViewIfNeeded();
    const box = (await control.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  }
  await actions.click();
  await phone.getByRole('link', { name: 'View Logs' }).first().waitFor();
  expect(await phone.locator(`#integration-${LONG_ID} .menu ul`).isVisible()).toBe(true);
  await phone.screenshot({ path: join(ARTIFACTS, 'list-390.png'), fullPage: true });
  for (const [path, name] of [
    ['/admin/users', 'users-390'],
    ['/tools/event-stream/overview', 'overview-390'],
    ['/tools/event-stream/erp-main/events', 'events-390'],
    [`/tools/event-stream/erp-main/events/${eventId}`, 'delivery-390'],
    ['/tools/event-stream/new', 'form-390'],
  ]) {
    await phone.goto(`${stack.server.url}${path}`);
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    expect({ path, width }).toEqual({ path, width: 390 });
    await phone.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  }
  await phone.close();
}, 60_000);

test('a refused form: fields outlined, focus on the error summary, no hint repeating its error, empty S3 fields "Required"', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/new`);
  await page.getByLabel('Integration ID').fill('No Capitals');
  await page.getByLabel('AWS S3').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForLoadState();
  const region = page.getByLabel('AWS Region');
  expect(await page.locator('#aws_region-error').textContent()).toBe('Required.');
  expect(await page.locator('#bucket-error').textContent()).toBe('Required.');
  expect(await region.evaluate((input) => getComputedStyle(input).borderColor)).toBe('rgb(180, 35, 24)');
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('form-errors');
  // The ID's rule is said once, by its error.
  expect(await page.locator('#id-hint').count()).toBe(0);
  expect(await page.locator('#id-error').textContent()).toContain('lower-case letters');
  await page
    .locator('#form-errors')
    .getByRole('link', { name: /AWS Region/ })
    .click();
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('aws_region');
  await page.screenshot({ path: join(ARTIFACTS, 'form-errors-1280.png'), fullPage: true });
}, 30_000);

test('the delivery page’s heading is not smaller than its section headings', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/erp-main/events/${eventId}`);
  const size = (selector: string) =>
    page
      .locator(selector)
      .first()
      .evaluate((element) => Number.parseFloat(getComputedStyle(element).fontSize));
  expect(await size('h1')).toBeGreaterThan(await size('h2'));
  await page.screenshot({ path: join(ARTIFACTS, 'delivery-1280.png'), fullPage: true });
  await page.goto(`${stack.server.url}/tools/event-stream/erp-main/events`);
  await page.screenshot({ path: join(ARTIFACTS, 'events-1280.png'), fullPage: true });
}, 30_000);

test('View Events does not move under you: new events wait behind a "N new events — show" bar', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/erp-main/events`);
  const rows = () => page.locator('#events-results tbody tr').count();
  const before = await rows();
  expect(before).toBeGreaterThan(0);
  await api('/api/v1/events', {
    method: 'POST',
    body: JSON.stringify({ name: 'order.created', payload: { id: 'ord-2002' } }),
  });
  await page.getByRole('link', { name: '1 new event — show' }).waitFor({ timeout: 12_000 });
  expect(await rows()).toBe(before);
  await page.getByRole('link', { name: '1 new event — show' }).click();
  await page.waitForFunction(
    (count) => document.querySelectorAll('#events-results tbody tr').length === count,
    before + 1,
  );
  expect(await page.locator('#events-results tbody tr').first().textContent()).toContain('ord-2002');
}, 30_000);

test('an integration’s pages share a header with its health, the switch and the tabs Events | Rejected | Logs | Settings', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/crm-refused/events`);
  const tabs = page.getByRole('navigation', { name: 'Integration' });
  expect(await tabs.getByRole('link').allTextContents()).toEqual(['Events', 'Rejected', 'Logs', 'Settings']);
  expect(await page.locator('.integration-header').textContent()).toContain('Stopped by the system');
  await tabs.getByRole('link', { name: 'Logs' }).click();
  await page.waitForURL('**/crm-refused/logs');
  expect(await page.locator('main').textContent()).toContain('Callback answered HTTP 401');
  await tabs.getByRole('link', { name: 'Settings' }).click();
  await page.waitForURL('**/crm-refused/edit');
  expect(await tabs.locator('[aria-current="page"]').textContent()).toBe('Settings');
  // The header's switch starts a paused one and comes back to the same page.
  await page.goto(`${stack.server.url}/tools/event-stream/bi-paused/logs`);
  await page.getByRole('switch', { name: /^bi-paused:/ }).click();
  await page.waitForURL('**/bi-paused/logs');
  expect(await page.getByRole('switch', { name: /^bi-paused:/ }).getAttribute('aria-checked')).toBe('true');
  expect(await page.locator('main').textContent()).toContain('Started in the UI');
  await api('/api/v1/org/integrations/eventstream/bi-paused/_stop', { method: 'POST', body: '{}' });
}, 30_000);

/** WCAG contrast ratio of two CSS rgb() colours. */
function contrast(a: string, b: string): number {
  const luminance = (color: string) => {
    const [r, g, b] = color
      .match(/\d+(\.\d+)?/g)!
      .slice(0, 3)
      .map(Number) as [number, number, number];
    const linear = (v: number) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

test('the focus ring stands out at least 3:1 on white and on the top bar', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream`);
  const ringOf = async (selector: string) => {
    await page.locator(selector).first().focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    return page.evaluate(() => getComputedStyle(document.activeElement!).outlineColor);
  };
  const onWhite = await ringOf('#integration-rows a');
  expect(contrast(onWhite, 'rgb(255, 255, 255)')).toBeGreaterThanOrEqual(3);
  const onBar = await ringOf('.topbar .brand');
  const bar = await page.locator('.topbar').evaluate((element) => getComputedStyle(element).backgroundColor);
  expect(contrast(onBar, bar)).toBeGreaterThanOrEqual(3);
}, 30_000);

test('revoking an API token asks first', async () => {
  await page.goto(`${stack.server.url}/admin/users`);
  let asked = '';
  page.once('dialog', (dialog) => {
    asked = dialog.message();
    void dialog.dismiss();
  });
  await page.getByRole('button', { name: 'Revoke e2e' }).click();
  await page.waitForTimeout(300);
  expect(asked).toContain('Revoke the API token “e2e”?');
  expect(await page.getByRole('button', { name: 'Revoke e2e' }).isVisible()).toBe(true);
  expect((await api('/api/v1/org/integrations/eventstream')).status).toBe(200);
}, 30_000);

test('a keyboard-only walk: skip link, tabs, the switch, the Actions menu, into View Logs', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream`);
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
  await page.keyboard.press('Enter');
  const toggle = page.getByRole('switch', { name: /^erp-main:/ });
  for (let i = 0; i < 60 && !(await toggle.evaluate((element) => element === document.activeElement)); i++)
    await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForFunction(
    () => document.querySelector('#switch-erp-main')?.getAttribute('aria-checked') === 'false',
  );
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('switch-erp-main');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('#switch-erp-main')?.getAttribute('aria-checked') === 'true');
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('SUMMARY');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('View Logs');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/erp-main/logs');
}, 30_000);

test('axe finds no serious or critical violation on any page', async () => {
  const pages = [
    '/tools/event-stream',
    '/tools/event-stream?tab=paused',
    '/tools/event-stream/new',
    '/tools/event-stream/erp-main/edit',
    '/tools/event-stream/lake-unreachable/edit',
    '/tools/event-stream/erp-main/events',
    `/tools/event-stream/erp-main/events/${eventId}`,
    '/tools/event-stream/erp-main/events/retry?status=failure',
    '/tools/event-stream/erp-main/rejected-events',
    '/tools/event-stream/erp-main/logs',
    '/tools/event-stream/erp-main/delete',
    '/tools/event-stream/overview',
    '/tools/event-stream/notifications',
    '/tools/event-stream/notifications/new',
    '/admin/users',
    '/api/docs',
    '/nowhere',
  ];
  const found: string[] = [];
  const scan = async (target: Page, label: string) => {
    const result = await new AxeBuilder({ page: target })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
      .analyze();
    for (const violation of result.violations) {
      if (violation.impact !== 'serious' && violation.impact !== 'critical') continue;
      found.push(
        `${label}: ${violation.id} (${violation.impact}) ${violation.nodes
          .map((node) => node.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
      );
    }
  };
  for (const width of [1280, 390]) {
    const scanned = await (await stack.browser.newContext({ viewport: { width, height: 900 } })).newPage();
    await signIn(scanned, stack.server.url);
    for (const path of pages) {
      await scanned.goto(`${stack.server.url}${path}`);
      await scan(scanned, `${path} @${width}`);
    }
    // A refused form, and the sign-in page.
    await scanned.goto(`${stack.server.url}/tools/event-stream/new`);
    await scanned.getByRole('button', { name: 'Create' }).click();
    await scanned.waitForLoadState();
    await scan(scanned, `refused New form @${width}`);
    await scanned.getByRole('button', { name: 'Sign out' }).click();
    await scanned.waitForURL('**/login');
    await scan(scanned, `/login @${width}`);
    await scanned.context().close();
  }
  writeFileSync(join(ARTIFACTS, 'axe-violations.txt'), `${found.join('\n')}\n`);
  expect(found).toEqual([]);
}, 180_000);
