import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { ARTIFACTS, signIn, startBrowserStack } from '../helpers/e2e.ts';

/*
 * The S3 target's format and key template in Chromium: the example key
 * follows what is typed, a template that cannot work is refused on its
 * field with the rest of the form kept, and a good one is saved.
 */

let stack: Awaited<ReturnType<typeof startBrowserStack>>;
let page: Page;

beforeAll(async () => {
  stack = await startBrowserStack();
  page = await stack.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, stack.server.url);
}, 120_000);
afterAll(() => stack?.stop());

const example = () => page.locator('[data-key-example]');
/** The example key once it matches (it is fetched as the fields change), or as it last was after 5 s. */
async function exampleOnce(expected: RegExp | string): Promise<string> {
  const matches = (text: string) => (typeof expected === 'string' ? text.includes(expected) : expected.test(text));
  let text = '';
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; await Bun.sleep(50)) {
    text = (await example().textContent()) ?? '';
    if (matches(text)) break;
  }
  return text;
}
const HIVE = '{key_prefix}/event_name={event_name}/dt={yyyy}-{MM}-{dd}/hour={HH}/{timestamp_ms}-{batch_id}';

test('the example key follows the prefix, format, compression and template as they are typed', async () => {
  await page.goto(`${stack.server.url}/tools/event-stream/new`);
  await page.getByLabel('Integration ID').fill('warehouse-lake');
  await page.getByLabel('AWS S3').check();
  // NewStore's key by default, with no prefix.
  expect(await example().textContent()).toMatch(/^default\/\d{13}-data-[0-9a-f-]{36}\.export$/);
  await page.getByLabel('Key Prefix').fill('exports/tideway');
  const prefixed = /^exports\/tideway\/default\/\d{13}-data-[0-9a-f-]{36}\.export$/;
  expect(await exampleOnce(prefixed)).toMatch(prefixed);
  await page.getByLabel('Compression').selectOption('zstd');
  expect(await exampleOnce(/\.export\.zst$/)).toMatch(/\.export\.zst$/);
  await page.getByLabel('Format').selectOption('parquet');
  await page.getByLabel('Object key template (optional)').fill(HIVE);
  const hour = String(new Date().getUTCHours()).padStart(2, '0');
  const partitioned = new RegExp(
    `^exports/tideway/event_name=order\\.created/dt=\\d{4}-\\d{2}-\\d{2}/hour=${hour}/\\d{13}-[0-9a-f-]{36}\\.parquet$`,
  );
  expect(await exampleOnce(partitioned)).toMatch(partitioned);
  await page.getByLabel('Object key template (optional)').fill('{key_prefix}/{day}/{timestamp_ms}');
  const refused = await exampleOnce('{day} is not a placeholder');
  expect(refused).toContain('{day} is not a placeholder');
  expect(refused).toContain('must contain {batch_id}');
  await page.screenshot({ path: join(ARTIFACTS, 's3-key-template.png'), fullPage: true });
}, 30_000);

test('a template that cannot work is refused on its field; the rest of the form is kept; a good one is saved', async () => {
  await page.getByLabel('AWS Access Key').fill('AKIAIOSFODNN7EXAMPLE');
  await page.getByLabel('AWS Secret Key').fill('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  await page.getByLabel('AWS Region').fill('eu-central-1');
  await page.getByLabel('S3 Bucket Name').fill('acme-lake');
  await page.getByRole('button', { name: 'Create' }).click();

  const error = page.locator('#key_template-error');
  expect(await error.textContent()).toContain('{day} is not a placeholder');
  expect(await page.getByLabel('Object key template (optional)').getAttribute('aria-invalid')).toBe('true');
  expect(await page.getByLabel('Object key template (optional)').inputValue()).toBe(
    '{key_prefix}/{day}/{timestamp_ms}',
  );
  expect(await page.getByLabel('Format').inputValue()).toBe('parquet');
  expect(await page.getByLabel('Compression').inputValue()).toBe('zstd');
  expect(await page.getByLabel('Key Prefix').inputValue()).toBe('exports/tideway');

  await page.getByLabel('Object key template (optional)').fill(HIVE);
  await page.getByLabel('AWS Secret Key').fill('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL('**/tools/event-stream?created=warehouse-lake');
  expect(await page.locator('#integration-warehouse-lake').textContent()).toContain('Parquet · zstd · partitioned');

  const saved = await fetch(`${stack.server.url}/api/v1/org/integrations/eventstream/warehouse-lake`, {
    headers: { authorization: `Bearer ${stack.apiToken}` },
  });
  expect(saved.status).toBe(200);
  const body = (await saved.json()) as { s3_parameters: Record<string, unknown> };
  expect(body.s3_parameters).toMatchObject({ format: 'parquet', compression: 'zstd', key_template: HIVE });

  // The edit form shows what was saved, and its example key.
  await page.goto(`${stack.server.url}/tools/event-stream/warehouse-lake/edit`);
  expect(await page.getByLabel('Object key template (optional)').inputValue()).toBe(HIVE);
  expect(await example().textContent()).toMatch(/^exports\/tideway\/event_name=order\.created\/.*\.parquet$/);
}, 30_000);
