import { beforeAll, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { csvField } from '../../src/deliveries/rejected-csv.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
let cookie: string;
const rejected: string[] = [];
const base = Date.parse('2026-11-25T08:00:00Z');

beforeAll(async () => {
  app = createTestApp(database());
  cookie = (await signedIn(database().db, ['view_tools'])).cookie;
  await webhookIntegration(database(), { id: 'erp', startsAt: new Date(base - 86_400_000) });
  for (let i = 0; i < 1_205; i++) {
    const id = randomUUID();
    const status = i % 3 === 0 ? 'success' : 'rejected';
    const at = new Date(base + i * 1_000);
    await database()
      .db.insertInto('deliveries')
      .values({
        integration_id: 'erp',
        event_id: id,
        event_name: 'invoice.created',
        domain_entity_type: 'order',
        domain_entity_id: i === 4 ? '<o-"4">' : `o-${i}`,
        published_at: at,
        status,
        attempts: 1,
        last_attempted_at: at,
      })
      .execute();
    if (status === 'rejected') {
      rejected.push(id);
      const body =
        i === 4 ? '{"error":"bad, \\"quoted\\"\\nline","formula":"=1+1"}' : `{"error":"unknown customer ${i}"}`;
      await database()
        .db.insertInto('delivery_attempts')
        .values({
          integration_id: 'erp',
          event_id: id,
          attempted_at: at,
          duration_ms: 5,
          outcome: 'rejected',
          status_code: 422,
          response_body: body,
        })
        .execute();
    }
  }
}, 60_000);

test('View Rejected Events lists what the consumer refused with its answer, escaped', async () => {
  const html = await (
    await app.request('/tools/event-stream/erp/rejected-events?domain_entity_id=%3Co-%224%22%3E', {
      headers: { cookie },
    })
  ).text();
  expect(html).toContain('&lt;o-&quot;4&quot;&gt;');
  expect(html).not.toContain('<o-"4">');
  expect(html).toContain('HTTP 422');
  expect(html).toContain('href="/tools/event-stream/erp/rejected-events.csv?domain_entity_id=%3Co-%224%22%3E"');
});

test('the CSV export streams every rejected event (more than one page), RFC 4180-quoted, formulas neutralised', async () => {
  const response = await app.request('/tools/event-stream/erp/rejected-events.csv', { headers: { cookie } });
  expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  expect(response.headers.get('content-disposition')).toBe('attachment; filename="erp-rejected-events.csv"');
  const text = await response.text();
  expect(
    text.startsWith('event_id,event_type,domain_entity_id,published_at,rejected_at,status_code,response\r\n'),
  ).toBe(true);
  const ids = [...text.matchAll(/^([0-9a-f-]{36}),/gm)].map((match) => match[1]);
  expect(ids).toHaveLength(rejected.length);
  expect(new Set(ids)).toEqual(new Set(rejected));
  expect(text).toContain(',"<o-""4"">",');
  expect(text).toContain('"{""error"":""bad, \\""quoted\\""\\nline"",""formula"":""=1+1""}"');
  expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  expect(csvField('-2')).toBe("'-2");
  expect(csvField('plain')).toBe('plain');
});

test('an export with nothing in it answers at once: the header line alone (it used to hang ~57 s)', async () => {
  const started = performance.now();
  const response = await app.request('/tools/event-stream/erp/rejected-events.csv?domain_entity_id=no-such-order', {
    headers: { cookie },
  });
  const text = await Promise.race([response.text(), Bun.sleep(3_000).then(() => 'still waiting after 3 s')]);
  expect(text).toBe('event_id,event_type,domain_entity_id,published_at,rejected_at,status_code,response\r\n');
  expect(performance.now() - started).toBeLessThan(3_000);
});

test('GET …/{id}/rejected-events pages through them', async () => {
  const token = await tokenWith(database().db, 'view_tools');
  const seen: string[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page = (await (
      await app.request(
        `/api/v1/org/integrations/eventstream/erp/rejected-events?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        { headers: { authorization: `Bearer ${token}` } },
      )
    ).json()) as {
      rejected_events: { event_id: string; status_code: number; response: string }[];
      next_cursor: string | null;
    };
    seen.push(...page.rejected_events.map((event) => event.event_id));
    expect(page.rejected_events.every((event) => event.status_code === 422 && event.response.includes('error'))).toBe(
      true,
    );
    cursor = page.next_cursor;
  }
  expect(seen).toHaveLength(rejected.length);
  expect(new Set(seen).size).toBe(rejected.length);
});
