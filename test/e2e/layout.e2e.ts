import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { ARTIFACTS, signIn, startBrowserStack } from '../helpers/e2e.ts';

/*
 * Browser smoke test of the layout: the real server, the real Chromium. Run
 * with `bun run test:e2e` (not part of `bun test`, which needs no browser).
 * Screenshots land in test-results/e2e/.
 */

let stack: Awaited<ReturnType<typeof startBrowserStack>>;
beforeAll(async () => {
  stack = await startBrowserStack();
}, 120_000);
afterAll(() => stack?.stop());

test('signed out, / leads to the sign-in page; signed in, to Event Stream with its navigation, stylesheet and htmx', async () => {
  const page = await stack.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  await page.goto(`${stack.server.url}/`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await signIn(page, stack.server.url);
  expect(new URL(page.url()).pathname).toBe('/tools/event-stream');
  expect(await page.title()).toBe('Event Stream · Tideway');
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Event Stream');

  const navLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event Stream' });
  expect(await navLink.getAttribute('aria-current')).toBe('page');
  // The stylesheet applied: the top bar is dark.
  expect(await page.locator('.topbar').evaluate((element) => getComputedStyle(element).backgroundColor)).toBe(
    'rgb(15, 27, 45)',
  );
  // htmx loaded from /static under the content security policy.
  await page.waitForFunction(() => 'htmx' in window);
  expect(await page.evaluate(() => typeof (window as unknown as { htmx?: { version?: string } }).htmx?.version)).toBe(
    'string',
  );

  await page.screenshot({ path: join(ARTIFACTS, 'layout-desktop.png'), fullPage: true });
  expect(problems).toEqual([]);
  await page.close();
}, 30_000);

test('the layout is usable on a phone and from the keyboard', async () => {
  const page = await stack.browser.newPage({ viewport: { width: 390, height: 844 } });
  await signIn(page, stack.server.url);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBe(0);
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
  await page.screenshot({ path: join(ARTIFACTS, 'layout-phone.png'), fullPage: true });
  await page.close();
}, 30_000);

test('an unknown page shows the 404 page in the layout', async () => {
  const page = await stack.browser.newPage();
  const response = await page.goto(`${stack.server.url}/nowhere/at/all`);
  expect(response?.status()).toBe(404);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Page not found');
  await page.close();
}, 30_000);
