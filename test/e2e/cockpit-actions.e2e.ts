import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright';
import { ARTIFACTS, signIn, startBrowserStack } from '../helpers/e2e.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * Issue 19's defects of the in-page actions, in Chromium against a real
 * server: the switch sets the state it shows (once, however often it is
 * pressed), an error answer never lands inside the page, a Delete that fails
 * keeps its row, an expired session leads back to the page after signing
 * in, and the list's keyboard behaviour (menus, focus).
 */

let stack: Awaited<ReturnType<typeof startBrowserStack>>;
let context: BrowserContext;
let page: Page;
const receiver = new Receiver();

async function api(path: string, init: RequestInit = {}) {
  return fetch(`${stack.server.url}/api/v1/org/integrations/eventstream${path}`, {
    ...init,
    headers: { authorization: `Bearer ${stack.apiToken}`, 'content-type': 'application/json' },
  });
}
async function createWebhook(id: string) {
  const response = await api('', {
    method: 'POST',
    body: JSON.stringify({ id, integration_type: 'permanent', callback_parameters: { callback_url: receiver.url() } }),
  });
  expect(response.status).toBe(201);
}
const serverStatus = async (id: string) => ((await (await api(`/${id}`)).json()) as { status: string }).status;
const list = () => page.goto(`${stack.server.url}/tools/event-stream`);
const row = (id: string) => page.locator(`#integration-${id}`);
const toggle = (id: string) => page.getByRole('switch', { name: new RegExp(`^${id}:`) });
const count = (tab: string) => page.locator(`#integration-tabs a[data-tab="${tab}"] .count`).textContent();
const notice = () => page.getByRole('alert');

beforeAll(async () => {
  stack = await startBrowserStack({ ALLOW_PRIVATE_TARGETS: 'true' });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  receiver.stop();
});

beforeEach(async () => {
  // Each test starts from two running integrations, whatever ran before it.
  const { integrations } = (await (await api('')).json()) as { integrations: { id: string }[] };
  for (const { id } of integrations) await api(`/${id}`, { method: 'DELETE' });
  await createWebhook('erp-main');
  await createWebhook('wms-main');
  // A browser of its own for each test: nothing one leaves behind (a route, a session) reaches the next.
  context = await stack.browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Every wait fails within its test, long before the test's own timeout.
  context.setDefaultTimeout(8_000);
  page = await context.newPage();
  await signIn(page, stack.server.url);
});
afterEach(() => context?.close());

test('a double click on the switch pauses once: the server, the row and the counts agree; the switch is busy meanwhile', async () => {
  await list();
  const sent: string[] = [];
  // Slow answers, so that the second click lands while the first request runs.
  await page.route(/\/tools\/event-stream\/erp-main\/(toggle|status)$/, async (route) => {
    sent.push(route.request().method());
    await Bun.sleep(400);
    await route.continue();
  });
  await toggle('erp-main').dblclick();
  await page.waitForTimeout(100);
  expect(await toggle('erp-main').getAttribute('aria-disabled')).toBe('true');
  await page.waitForFunction(() => document.querySelector('#switch-erp-main:not([aria-disabled])') !== null, null, {
    timeout: 5_000,
  });
  await page.waitForTimeout(800);
  expect(sent).toHaveLength(1);
  expect(await serverStatus('erp-main')).toBe('stopped');
  expect(await toggle('erp-main').getAttribute('aria-checked')).toBe('false');
  expect([await count('all'), await count('active'), await count('paused')]).toEqual(['2', '1', '1']);
}, 30_000);

test('the switch sets the state it shows: pressed in a stale page, it does not undo a pause made elsewhere', async () => {
  await list();
  // Paused elsewhere (the API); this page still shows it Active, so its press asks to pause.
  expect((await api('/erp-main/_stop', { method: 'POST', body: '{}' })).status).toBe(200);
  await toggle('erp-main').click();
  await eventually(async () => (await toggle('erp-main').getAttribute('aria-checked')) === 'false');
  expect(await serverStatus('erp-main')).toBe('stopped');
}, 30_000);

test('after signing in again in another tab, the old tab’s switch and Delete say so at the top; the rows stay', async () => {
  await list();
  const other = await context.newPage();
  await other.goto(`${stack.server.url}/tools/event-stream`);
  await other.getByRole('button', { name: 'Sign out' }).click();
  await signIn(other, stack.server.url);
  await other.close();

  await toggle('erp-main').click();
  await notice().waitFor();
  expect(await notice().textContent()).toContain('Reload the page');
  expect(await page.locator('main .error-page, main .topbar, #integration-rows header').count()).toBe(0);
  expect(await toggle('erp-main').getAttribute('aria-checked')).toBe('true');
  expect(await serverStatus('erp-main')).toBe('running');

  page.once('dialog', (dialog) => void dialog.accept());
  await row('wms-main')
    .getByRole('link', { name: /Delete/ })
    .click();
  await page.waitForTimeout(500);
  expect(await row('wms-main').isVisible()).toBe(true);
  expect(await serverStatus('wms-main')).toBe('running');
  await page.screenshot({ path: join(ARTIFACTS, 'cockpit-stale-session-notice.png') });
}, 30_000);

test('an integration deleted meanwhile: its switch says so at the top, and the page stays as it was', async () => {
  await list();
  expect((await api('/erp-main', { method: 'DELETE' })).status).toBe(204);
  await toggle('erp-main').click();
  await notice().waitFor();
  expect(await notice().textContent()).toContain('Someone deleted this');
  expect(await row('erp-main').isVisible()).toBe(true);
  expect(await page.locator('main .error-page').count()).toBe(0);
}, 30_000);

test('a server error or no answer at all: a notice, the row unchanged', async () => {
  await list();
  await page.route(/\/status$|\/toggle$/, (route) =>
    route.fulfill({
      status: 500,
      contentType: 'text/html',
      body: '<!DOCTYPE html><header class="topbar">Tideway</header><section class="error-page"><h1 id="error-title">Something went wrong</h1><p class="error-detail">Reference: abc</p></section>',
    }),
  );
  await toggle('erp-main').click();
  await notice().waitFor();
  expect(await notice().textContent()).toContain('The server could not do that');
  expect(await page.locator('main .error-page, main .topbar').count()).toBe(0);
  await page.unrouteAll({ behavior: 'ignoreErrors' });

  await page.route(/\/status$|\/toggle$/, (route) => route.abort('connectionrefused'));
  await toggle('wms-main').click();
  await page.getByText('Could not reach the server').waitFor();
  expect(await toggle('wms-main').getAttribute('aria-checked')).toBe('true');
  expect(await serverStatus('wms-main')).toBe('running');
}, 30_000);

test('a session that expired before a switch press: sign in from the notice and come back to the page', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream?tab=active`);
  await context.clearCookies();
  await toggle('erp-main').click();
  await notice().waitFor();
  expect(await notice().textContent()).toContain('Your session expired');
  await notice().getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL('**/login**');
  await page.getByLabel('Email').fill('admin@localhost');
  await page.getByLabel('Password').fill('e2e-admin-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
  expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/tools/event-stream?tab=active');
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Event Stream');
  expect(await serverStatus('erp-main')).toBe('running');
}, 30_000);

test('deleting the last integration in place shows the empty state, not a bare table header', async () => {
  await list();
  for (const id of ['erp-main', 'wms-main']) {
    page.once('dialog', (dialog) => void dialog.accept());
    await row(id)
      .getByRole('link', { name: /Delete/ })
      .click();
    await row(id).waitFor({ state: 'detached' });
  }
  expect(await page.getByRole('heading', { name: 'No integrations yet' }).isVisible()).toBe(true);
  expect(await page.locator('table.integrations').count()).toBe(0);
}, 30_000);

test('pausing the last row of the Active tab in place leaves the empty state there too', async () => {
  await api('/wms-main/_stop', { method: 'POST', body: '{}' });
  await page.goto(`${stack.server.url}/tools/event-stream?tab=active`);
  await toggle('erp-main').click();
  await row('erp-main').waitFor({ state: 'detached' });
  expect(await page.getByRole('heading', { name: 'No active integrations' }).isVisible()).toBe(true);
}, 30_000);

test('Space on the switch keeps the focus on it', async () => {
  await list();
  await toggle('erp-main').focus();
  await page.keyboard.press('Space');
  await eventually(async () => (await toggle('erp-main').getAttribute('aria-checked')) === 'false');
  await page.waitForTimeout(200);
  expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toStartWith('erp-main:');
  await page.keyboard.press('Space');
  await eventually(async () => (await toggle('erp-main').getAttribute('aria-checked')) === 'true');
  expect(await serverStatus('erp-main')).toBe('running');
}, 30_000);

test('the Actions menu closes on Escape and on a click outside, and does not cover the next row', async () => {
  await list();
  const menu = row('erp-main').locator('details.menu');
  await menu.locator('summary').click();
  expect(await menu.getAttribute('open')).not.toBeNull();
  const links = await menu.locator('ul').boundingBox();
  const nextRow = await row('wms-main').boundingBox();
  expect(links!.y + links!.height).toBeLessThanOrEqual(nextRow!.y + 1);
  await page.screenshot({ path: join(ARTIFACTS, 'cockpit-actions-menu.png') });

  await page.keyboard.press('Escape');
  expect(await menu.getAttribute('open')).toBeNull();
  expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('SUMMARY');

  await menu.locator('summary').click();
  await page.locator('h1').click();
  expect(await menu.getAttribute('open')).toBeNull();
}, 30_000);

/** Polls `condition` for up to 5 s. */
async function eventually(condition: () => Promise<boolean>) {
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await Bun.sleep(50)) {
    if (await condition()) return;
  }
  throw new Error('condition not met within 5 s');
}
