import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { ARTIFACTS, signIn, startBrowserStack, VIEWER_LESS } from '../helpers/e2e.ts';

/*
 * An administrator's round trip through Tools › Event Stream in Chromium:
 * create, see, pause, edit, fail validation, delete; and the 403 page.
 */

let stack: Awaited<ReturnType<typeof startBrowserStack>>;
let page: Page;

beforeAll(async () => {
  stack = await startBrowserStack();
  page = await stack.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, stack.server.url);
}, 120_000);
afterAll(() => stack?.stop());

const count = (tab: string) => page.locator(`#integration-tabs a[data-tab="${tab}"] .count`).textContent();

test('create a webhook integration with two whole entities and one single event', async () => {
  await page.getByRole('link', { name: 'New Integration' }).click();
  await page.getByLabel('Integration ID').fill('erp-netsuite');
  await page.locator('input[name="entities"][value="order"]').check();
  await page.locator('input[name="entities"][value="return"]').check();
  // Ticking a whole entity covers its events.
  expect(await page.locator('input[name="events"][value="order.created"]').isDisabled()).toBe(true);
  await page.getByLabel('Search events').fill('assigned');
  expect(await page.locator('li[data-event="invoice.created"]').isVisible()).toBe(false);
  await page.locator('input[name="events"][value="fulfillment_request.assigned"]').check();
  await page.getByLabel('Search events').fill('');
  await page.getByLabel('Callback URL').fill('https://erp.example.com/hooks/tideway');
  await page.getByLabel('API Key (optional)').fill('erp-api-key-1234');
  await page.screenshot({ path: join(ARTIFACTS, 'integration-form.png'), fullPage: true });
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL('**/tools/event-stream?created=erp-netsuite');

  expect(await page.getByRole('status').textContent()).toContain('erp-netsuite');
  const row = page.locator('#integration-erp-netsuite');
  expect(await row.textContent()).toContain('order (all), return (all) + fulfillment_request.assigned');
}, 30_000);

test('it is under Active with the right counts', async () => {
  await page.getByRole('link', { name: /Active/ }).click();
  await page.waitForURL('**/tools/event-stream?tab=active');
  expect(await page.locator('#integration-erp-netsuite').isVisible()).toBe(true);
  expect([await count('all'), await count('active'), await count('paused')]).toEqual(['1', '1', '0']);
  await page.screenshot({ path: join(ARTIFACTS, 'integration-list.png'), fullPage: true });
}, 30_000);

test('the toggle pauses it and it moves to Paused without a reload', async () => {
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  await page.getByRole('switch', { name: /erp-netsuite/ }).click();
  await page.locator('#integration-erp-netsuite').waitFor({ state: 'detached' });
  expect([await count('all'), await count('active'), await count('paused')]).toEqual(['1', '0', '1']);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

  await page.getByRole('link', { name: /Paused/ }).click();
  const toggle = page.getByRole('switch', { name: /erp-netsuite/ });
  expect(await toggle.getAttribute('aria-checked')).toBe('false');
}, 30_000);

test('edit its events; a bad callback URL is refused inline with the rest of the form kept', async () => {
  await page.locator('#integration-erp-netsuite summary').click();
  await page.getByRole('link', { name: 'Edit Integration Details' }).click();
  await page.waitForURL('**/erp-netsuite/edit');
  expect(await page.getByText('Stored: ••••1234. Leave empty to keep it.').isVisible()).toBe(true);

  await page.locator('input[name="entities"][value="return"]').uncheck();
  await page.locator('input[name="events"][value="invoice.created"]').check();
  await page.getByLabel('Callback URL').fill('erp.example.com/no-scheme');
  await page.getByRole('button', { name: 'Save changes' }).click();

  expect(await page.locator('#callback_url-error').textContent()).toContain('Must be an http:// or https:// URL');
  expect(await page.getByLabel('Callback URL').inputValue()).toBe('erp.example.com/no-scheme');
  expect(await page.locator('input[name="entities"][value="return"]').isChecked()).toBe(false);
  expect(await page.locator('input[name="events"][value="invoice.created"]').isChecked()).toBe(true);
  expect(await page.locator('input[name="entities"][value="order"]').isChecked()).toBe(true);

  await page.getByLabel('Callback URL').fill('https://erp.example.com/v2/hooks');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL('**/tools/event-stream?saved=erp-netsuite');
  expect(await page.locator('#integration-erp-netsuite').textContent()).toContain('order (all) + 2 single events');
}, 30_000);

test('delete it after confirming', async () => {
  let asked = '';
  page.once('dialog', (dialog) => {
    asked = dialog.message();
    void dialog.accept();
  });
  await page.locator('#integration-erp-netsuite').getByRole('link', { name: 'Delete' }).click();
  await page.locator('#integration-erp-netsuite').waitFor({ state: 'detached' });
  expect(asked).toContain('Delete the integration "erp-netsuite"?');
  expect(await count('all')).toBe('0');
  await page.reload();
  expect(await page.getByRole('heading', { name: 'No integrations yet' }).isVisible()).toBe(true);
}, 30_000);

test('a user without View tools gets the 403 page', async () => {
  const other = await stack.browser.newPage();
  await signIn(other, stack.server.url, VIEWER_LESS);
  const response = await other.goto(`${stack.server.url}/tools/event-stream`);
  expect(response?.status()).toBe(403);
  expect(await other.getByRole('heading', { level: 1 }).textContent()).toBe('You do not have access to this page');
  expect(await other.textContent('main')).toContain('View tools permission');
  await other.close();
}, 30_000);
