import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { ARTIFACTS, signIn, startBrowserStack } from '../helpers/e2e.ts';

/*
 * A developer reading the API reference in Chromium: reached from the
 * footer, everything from this server, every operation there, searchable.
 */

let stack: Awaited<ReturnType<typeof startBrowserStack>>;
let page: Page;
const outside: string[] = [];
const consoleErrors: string[] = [];

beforeAll(async () => {
  stack = await startBrowserStack({});
  page = await stack.browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (request) => {
    if (!request.url().startsWith(stack.server.url) && !request.url().startsWith('data:')) outside.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await signIn(page, stack.server.url);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

test('the footer leads to the reference; it lists every operation of the document and loads nothing from elsewhere', async () => {
  await page.getByRole('link', { name: 'API reference' }).click();
  await page.waitForURL(/\/api\/docs$/);
  await page.screenshot({ path: join(ARTIFACTS, 'api-docs.png'), fullPage: false });
  const document = (await (await fetch(`${stack.server.url}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const expected = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
  const shown = await page.locator('.api-operation-title').allInnerTexts();
  expect(shown.map((title) => title.replace(/\s+/g, ' ').trim()).sort()).toEqual(expected.sort());
  await expect(page.getByRole('heading', { name: 'POST /v0/token' }).isVisible()).resolves.toBe(true);
  expect(outside).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test('searching shows only the matching operations, in the list and the page', async () => {
  await page.goto(`${stack.server.url}/api/docs`);
  await page.getByRole('searchbox', { name: 'Search the API' }).fill('signing-secret');
  const visible = () => page.locator('.api-operation:visible .api-operation-title').allInnerTexts();
  expect((await visible()).map((title) => title.replace(/\s+/g, ' ').trim())).toEqual([
    'GET /api/v1/org/integrations/eventstream/{id}/signing-secret',
    'POST /api/v1/org/integrations/eventstream/{id}/signing-secret/_rotate',
  ]);
  expect(await page.locator('.api-nav li:visible').count()).toBe(2);
  await page.screenshot({ path: join(ARTIFACTS, 'api-docs-search.png') });
  await page.getByRole('searchbox', { name: 'Search the API' }).fill('no such thing anywhere');
  await expect(page.getByText('No operation matches.').isVisible()).resolves.toBe(true);
  await page.getByRole('searchbox', { name: 'Search the API' }).fill('');
  expect((await visible()).length).toBeGreaterThan(15);
});
