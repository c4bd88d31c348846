import { beforeAll, describe, expect, test } from 'bun:test';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn, tokenWith, webhookIntegration } from '../helpers/fixtures.ts';

const database = useTestDatabase();
let app: TestApp;
let cookie: string;
let token: string;
const STATUSES = ['success', 'success', 'success', 'failure', 'rejected', 'pending'] as const;
const base = Date.parse('2026-11-20T12:00:00Z');
const seeded: { id: string; status: string; order: string; name: string; at: number }[] = [];

beforeAll(async () => {
  app = createTestApp(database());
  cookie = (await signedIn(database().db, ['view_tools'])).cookie;
  token = await tokenWith(database().db, 'view_tools');
  await webhookIntegration(database(), { id: 'erp', startsAt: new Date(base - 86_400_000) });
  // 130 deliveries; groups of 5 share one published_at, so page boundaries fall inside ties.
  for (let i = 0; i < 130; i++) {
    const id = randomUUID();
    const at = base + Math.floor(i / 5) * 60_000;
    const name = i % 4 === 0 ? 'order.created' : 'fulfillment_request.assigned';
    const order = `ord-${i % 10}`;
    const payload = JSON.stringify({
      id: `x-${i}`,
      order_id: order,
      note: i === 7 ? '<script>alert("x")</script>' : 'fine',
    });
    seeded.push({ id, status: STATUSES[i % STATUSES.length]!, order, name, at });
    await database()
      .db.insertInto('events')
      .values({
        id,
        tenant: 'default',
        name,
        entity: name.split('.')[0]!,
        entity_id: `x-${i}`,
        domain_entity_type: 'order',
        domain_entity_id: order,
        published_at: new Date(at),
        payload,
        size_bytes: 200,
      })
      .execute();
    await database()
      .db.insertInto('deliveries')
      .values({
        integration_id: 'erp',
        event_id: id,
        event_name: name,
        domain_entity_type: 'order',
        domain_entity_id: order,
        published_at: new Date(at),
        status: STATUSES[i % STATUSES.length]!,
        attempts: 1,
        last_attempted_at: new Date(at + 1_000),
        last_status_code: 200,
        response_time_ms: 12,
      })
      .execute();
    if (i === 7) {
      await database()
        .db.insertInto('delivery_attempts')
        .values({
          integration_id: 'erp',
          event_id: id,
          attempted_at: new Date(at + 1_000),
          duration_ms: 12,
          outcome: 'retry',
          status_code: 503,
          response_body: '<b>busy</b>',
        })
        .execute();
    }
  }
});

const page = (path: string, headers: Record<string, string> = {}) =>
  app.request(path, { headers: { cookie, ...headers } });
const idsOn = (html: string) =>
  [...html.matchAll(/href="\/tools\/event-stream\/erp\/events\/([0-9a-f-]{36})"/g)].map((match) => match[1]!);
const link = (html: string, label: string) => {
  const match = new RegExp(`<a class="button" href="([^"]+)">${label}</a>`).exec(html);
  return match ? match[1]!.replaceAll('&amp;', '&') : undefined;
};

describe('View Events', () => {
  test('newest first, 50 a page; Older and Newer walk every row once, ties included', async () => {
    const expected = [...seeded].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((row) => row.id);
    const first = await (await page('/tools/event-stream/erp/events')).text();
    expect(idsOn(first)).toEqual(expected.slice(0, 50));
    expect(link(first, '← Newer')).toBeUndefined();
    const second = await (await page(link(first, 'Older →')!)).text();
    expect(idsOn(second)).toEqual(expected.slice(50, 100));
    const third = await (await page(link(second, 'Older →')!)).text();
    expect(idsOn(third)).toEqual(expected.slice(100));
    expect(link(third, 'Older →')).toBeUndefined();
    const back = await (await page(link(third, '← Newer')!)).text();
    expect(idsOn(back)).toEqual(expected.slice(50, 100));
    // Only the first page refreshes itself (later pages would jump under the reader).
    expect(first).toContain('hx-trigger="every 5s"');
    expect(second).not.toContain('hx-trigger="every 5s"');
  });

  test('filters by domain entity, status, event type and time, alone and together', async () => {
    const only = async (query: string) =>
      idsOn(await (await page(`/tools/event-stream/erp/events?${query}`)).text()).sort();
    const expect_ = (rows: typeof seeded) => rows.map((row) => row.id).sort();
    expect(await only('domain_entity_id=ord-3')).toEqual(expect_(seeded.filter((row) => row.order === 'ord-3')));
    expect(await only('status=failure')).toEqual(expect_(seeded.filter((row) => row.status === 'failure')));
    expect(await only('event_name=order.created&status=success')).toEqual(
      expect_(seeded.filter((row) => row.name === 'order.created' && row.status === 'success')),
    );
    const from = new Date(base + 10 * 60_000).toISOString().slice(0, 19);
    const to = new Date(base + 12 * 60_000).toISOString().slice(0, 19);
    expect(await only(`from=${from}&to=${to}`)).toEqual(
      expect_(seeded.filter((row) => row.at >= base + 10 * 60_000 && row.at < base + 12 * 60_000)),
    );
    expect(await only(`domain_entity_id=ord-1&status=rejected&from=${from}`)).toEqual(
      expect_(
        seeded.filter((row) => row.order === 'ord-1' && row.status === 'rejected' && row.at >= base + 10 * 60_000),
      ),
    );
  });

  test('the filters stay in the form; htmx gets just the results', async () => {
    const full = await (await page('/tools/event-stream/erp/events?domain_entity_id=ord-2&status=pending')).text();
    expect(full).toContain('<input id="domain_entity_id" name="domain_entity_id" type="search" value="ord-2"');
    expect(full).toContain('<option value="pending" selected="">Pending</option>');
    const fragment = await (
      await page('/tools/event-stream/erp/events?domain_entity_id=ord-2', {
        'hx-request': 'true',
        'hx-target': 'section#events-results',
      })
    ).text();
    expect(fragment).toStartWith('<section id="events-results"');
    expect(fragment).not.toContain('<html');
  });

  test('a bad filter is said, not a crash', async () => {
    const response = await page('/tools/event-stream/erp/events?status=lost&from=yesterday');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Filters ignored: status must be success, failure, pending or rejected');
  });

  test('a row opens the envelope and every attempt, escaped', async () => {
    const risky = seeded[7]!;
    const html = await (await page(`/tools/event-stream/erp/events/${risky.id}`)).text();
    expect(html).toContain(`&quot;name&quot;: &quot;${risky.name}&quot;`);
    expect(html).toContain('&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('HTTP 503');
    expect(html).toContain('&lt;b&gt;busy&lt;/b&gt;');
    expect((await page(`/tools/event-stream/erp/events/${randomUUID()}`)).status).toBe(404);
    expect((await page('/tools/event-stream/erp/events/not-a-uuid')).status).toBe(404);
  });
});

describe('GET /api/v1/org/integrations/published-events', () => {
  const api = (query: string) =>
    app.request(`/api/v1/org/integrations/published-events${query}`, { headers: { authorization: `Bearer ${token}` } });

  test('the fields of SPEC §3, filters, and cursor paging without duplicates', async () => {
    const first = (await (await api('?integration_id=erp&limit=40')).json()) as {
      events: Record<string, unknown>[];
      next_cursor: string;
    };
    expect(first.events).toHaveLength(40);
    expect(first.events[0]).toMatchObject({
      integration_id: 'erp',
      integration_type: 'permanent',
      target: '127.0.0.1:9',
      domain_entity_type: 'order',
      response_time_ms: 12,
    });
    expect(String(first.events[0]!.entity_id)).toMatch(/^x-\d+$/);
    for (const key of ['status', 'attempted_at', 'retries_remaining', 'domain_entity_id', 'event_name', 'event_id'])
      expect(first.events[0]).toHaveProperty(key);
    const seen = first.events.map((event) => event.event_id);
    let cursor: string | null = first.next_cursor;
    while (cursor) {
      const next = (await (await api(`?integration_id=erp&limit=40&cursor=${cursor}`)).json()) as {
        events: { event_id: string }[];
        next_cursor: string | null;
      };
      seen.push(...next.events.map((event) => event.event_id));
      cursor = next.next_cursor;
    }
    expect(seen).toHaveLength(130);
    expect(new Set(seen).size).toBe(130);

    const failures = (await (await api('?status=failure&domain_entity_type=order')).json()) as {
      events: { status: string }[];
    };
    expect(failures.events.length).toBe(seeded.filter((row) => row.status === 'failure').length);
    expect(failures.events.every((event) => event.status === 'failure')).toBe(true);
    expect((await api('?status=lost')).status).toBe(400);
  });
});

describe('the envelope on a delivery page', () => {
  async function seed(payload: string) {
    const id = randomUUID();
    const at = new Date(base);
    await database()
      .db.insertInto('events')
      .values({
        id,
        tenant: 'default',
        name: 'order.created',
        entity: 'order',
        entity_id: 'big',
        domain_entity_type: 'order',
        domain_entity_id: 'big',
        published_at: at,
        payload,
        size_bytes: payload.length,
      })
      .execute();
    await database()
      .db.insertInto('deliveries')
      .values({
        integration_id: 'erp',
        event_id: id,
        event_name: 'order.created',
        domain_entity_type: 'order',
        domain_entity_id: 'big',
        published_at: at,
        status: 'pending',
      })
      .execute();
    return id;
  }

  test('small: pretty-printed, with a download of the exact bytes a receiver gets', async () => {
    const id = await seed('{"id":"small","n":1}');
    const text = await (await page(`/tools/event-stream/erp/events/${id}`)).text();
    expect(text).toContain('&quot;id&quot;: &quot;small&quot;');
    const download = await page(`/tools/event-stream/erp/events/${id}/envelope.json`);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${id}.json"`);
    expect(await download.text()).toBe(
      `{"id":"${id}","tenant":"default","name":"order.created","published_at":"2026-11-20T12:00:00.000Z","payload":{"id":"small","n":1}}`,
    );
  });

  test('deep or large (events stored before MAX_JSON_DEPTH, or near MAX_EVENT_BYTES): an excerpt of bounded size, and the whole as a download', async () => {
    const deep = `{"id":"deep","a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const large = JSON.stringify({
      id: 'large',
      notes: Array.from({ length: 4_000 }, (_, i) => `note ${i} `.repeat(10)),
    });
    for (const [payload, depth] of [
      [deep, 10_002],
      [large, 3],
    ] as const) {
      const id = await seed(payload);
      const response = await page(`/tools/event-stream/erp/events/${id}`);
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text.length).toBeLessThan(200 * 1024); // the deep one used to print 200 MB
      expect(text).toContain(`nested ${depth} levels deep: too large or deep to print here`);
      expect(text).toContain(`href="/tools/event-stream/erp/events/${id}/envelope.json"`);
      const whole = await (await page(`/tools/event-stream/erp/events/${id}/envelope.json`)).text();
      expect(JSON.parse(whole).payload).toEqual(JSON.parse(payload));
    }
  });
});
