import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { launchChromium } from '../helpers/browser.ts';
import { prepareDataDir } from '../helpers/database.ts';
import { ROOT, startTideway, stopTideway, type RunningTideway } from '../helpers/process.ts';

/*
 * Browser smoke test: the real server, the real Chromium. Run with
 * `bun run test:e2e` (not part of `bun test`, which needs no browser).
 * Screenshots land in test-results/e2e/.
 */

const ARTIFACTS = join(ROOT, 'test-results', 'e2e');
const dataDir = mkdtempSync(join(tmpdir(), 'tideway-e2e-'));
let server: RunningTideway;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await prepareDataDir(dataDir);
  [server, browser] = await Promise.all([startTideway({ DATA_DIR: dataDir }), launchChromium()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server) await stopTideway(server);
  rmSync(dataDir, { recursive: true, force: true });
});

test('the layout loads with its navigation, stylesheet and htmx, and no console errors', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));

  await page.goto(`${server.url}/`);
  expect(new URL(page.url()).pathname).toBe('/tools/event-stream');
  expect(await page.title()).toBe('Event Stream · Tideway');
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Event Stream');

  const navLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event Stream' });
  expect(await navLink.getAttribute('aria-current')).toBe('page');
  // The stylesheet applied: the top bar is dark.
  expect(await page.locator('.topbar').evaluate((element) => getComputedStyle(element).backgroundColor)).toBe('rgb(15, 27, 45)');
  // htmx loaded from /static under the content security policy.
  await page.waitForFunction(() => 'htmx' in window);
  expect(await page.evaluate(() => typeof (window as unknown as { htmx?: { version?: string } }).htmx?.version)).toBe('string');

  await page.screenshot({ path: join(ARTIFACTS, 'layout-desktop.png'), fullPage: true });
  expect(problems).toEqual([]);
  await page.close();
}, 30_000);

test('the layout is usable on a phone and from the keyboard', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${server.url}/tools/event-stream`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBe(0);
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
  await page.screenshot({ path: join(ARTIFACTS, 'layout-phone.png'), fullPage: true });
  await page.close();
}, 30_000);

test('an unknown page shows the 404 page in the layout', async () => {
  const page = await browser.newPage();
  const response = await page.goto(`${server.url}/tools/event-stream/nowhere/at/all`);
  expect(response?.status()).toBe(404);
  expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Page not found');
  await page.close();
}, 30_000);
