import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { Webhook } from 'standardwebhooks';
import { ARTIFACTS, signIn, startBrowserStack } from '../helpers/e2e.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * Tools › Event Stream › Notifications in Chromium: create a webhook
 * channel (its secret shown once), send a test notice that a real receiver
 * verifies, delete the channel.
 */

const receiver = new Receiver();
let stack: Awaited<ReturnType<typeof startBrowserStack>>;
let page: Page;

beforeAll(async () => {
  stack = await startBrowserStack({ ALLOW_PRIVATE_TARGETS: 'true' });
  page = await stack.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, stack.server.url);
}, 120_000);
afterAll(async () => {
  receiver.stop();
  await stack?.stop();
});

let secret = '';

test('create a webhook channel from the Event Stream page; its signing secret is shown once', async () => {
  await page.getByRole('link', { name: 'Notifications' }).click();
  await page.waitForURL('**/tools/event-stream/notifications');
  expect(await page.getByRole('heading', { name: 'No notification channels yet' }).isVisible()).toBe(true);
  await page.getByRole('link', { name: 'New Channel' }).click();
  await page.getByLabel('Webhook URL').fill(receiver.url('/ops'));
  await page.getByLabel('Integration stopped by the system').check();
  await page.getByRole('button', { name: 'Create channel' }).click();
  await page.locator('#channel-signing-secret').waitFor();
  secret = (await page.locator('#channel-signing-secret').textContent())!.trim();
  expect(secret).toMatch(/^whsec_/);
  expect(await page.getByRole('status').first().textContent()).toContain('Channel created.');
  await page.screenshot({ path: join(ARTIFACTS, 'notification-channel.png'), fullPage: true });

  await page.reload();
  expect(await page.locator('#channel-signing-secret').count()).toBe(0);
  expect(await page.content()).not.toContain(secret);
}, 30_000);

test('Send test notification: the receiver gets a signed notification.test and the page says so in place', async () => {
  await page.getByRole('button', { name: 'Send test notification' }).click();
  await page.locator('#channel-test .alert').waitFor();
  expect(await page.locator('#channel-test').textContent()).toContain('The webhook answered HTTP 200');
  const [request] = receiver.received;
  expect(new Webhook(secret).verify(request!.body, request!.headers)).toMatchObject({ type: 'notification.test' });
}, 30_000);

test('delete the channel after confirming; the list is empty again', async () => {
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL('**/tools/event-stream/notifications?deleted');
  expect(await page.getByRole('status').textContent()).toContain('Channel deleted.');
  expect(await page.getByRole('heading', { name: 'No notification channels yet' }).isVisible()).toBe(true);
}, 30_000);
