import { beforeAll, expect, test } from 'bun:test';
import { setIntegrationStatus } from '../../src/integrations/integrations.service.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;

beforeAll(async () => {
  app = createTestApp(database());
  await webhookIntegration(database(), { id: 'logged' });
  // 60 more entries, alternately stopped and started, some within the same millisecond.
  for (let i = 0; i < 30; i++) {
    await setIntegrationStatus(database().db, 'logged', 'stopped', `pause <${i}>`, 'ops@example.com');
    await setIntegrationStatus(database().db, 'logged', 'running', `resume ${i}`, 'system');
  }
});

test('View Logs: action, reason, actor and time, newest first, escaped, paged without gaps', async () => {
  const { cookie } = await signedIn(database().db, ['view_tools']);
  const first = await (await app.request('/tools/event-stream/logged/logs', { headers: { cookie } })).text();
  expect(first).toContain('<td>resume 29</td><td>system</td>');
  expect(first).toContain('<td>pause &lt;29&gt;</td><td>ops@example.com</td>');
  expect(first).not.toContain('<29>');
  const next = /href="(\/tools\/event-stream\/logged\/logs\?cursor=[^"]+)"/.exec(first)?.[1];
  expect(next).toBeDefined();
  const second = await (await app.request(next!, { headers: { cookie } })).text();
  const reasons = (html: string) =>
    [...html.matchAll(/<td>((?:pause|resume|Integration created)[^<]*)<\/td>/g)].map((match) => match[1]);
  const all = [...reasons(first), ...reasons(second)];
  expect(all).toHaveLength(61);
  expect(new Set(all).size).toBe(61);
  expect(all.at(-1)).toBe('Integration created');
});

test('the logs API pages with an opaque cursor', async () => {
  const token = await tokenWith(database().db, 'view_tools');
  const get = (query: string) =>
    app.request(`/api/v1/org/integrations/eventstream/logged/logs${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
  const page = (await (await get('?limit=25')).json()) as {
    logs: { action: string; reason: string; actor: string; created_at: string }[];
    next_cursor: string | null;
  };
  expect(page.logs).toHaveLength(25);
  expect(page.logs[0]).toMatchObject({ action: 'started', reason: 'resume 29', actor: 'system' });
  const seen = [...page.logs];
  let cursor = page.next_cursor;
  while (cursor) {
    const more = (await (await get(`?limit=25&cursor=${cursor}`)).json()) as typeof page;
    seen.push(...more.logs);
    cursor = more.next_cursor;
  }
  expect(seen).toHaveLength(61);
  expect(seen.at(-1)).toMatchObject({ action: 'started', reason: 'Integration created' });
});
