import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { createTestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn } from '../helpers/fixtures.ts';
import { ROOT } from '../helpers/process.ts';

const database = useTestDatabase();

describe('the layout', () => {
  test('Tools › Event Stream is a full HTML page with the navigation and the vendored htmx', async () => {
    const { cookie } = await signedIn(database().db, ['view_tools']);
    const response = await createTestApp(database()).request('/tools/event-stream', { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toStartWith('text/html');
    const html = await response.text();
    expect(html).toStartWith('<!DOCTYPE html><html lang="en">');
    expect(html).toContain('<title>Event Stream · Tideway</title>');
    expect(html).toContain('<script src="/static/vendor/htmx-4.0.1.min.js" defer=""></script>');
    expect(html).toContain('<a href="/tools/event-stream" aria-current="page">Event Stream</a>');
    expect(html).toContain('<span class="nav-label">Tools</span>');
    expect(html).toContain('<h1>Event Stream</h1>');
  });

  test('/ leads to Event Stream', async () => {
    const response = await createTestApp(database()).request('/');
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/tools/event-stream');
  });

  test('pages carry a strict content security policy (no inline script)', async () => {
    const response = await createTestApp(database()).request('/tools/event-stream');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('static files', () => {
  test('htmx is served from public/, pinned, cacheable forever', async () => {
    const response = await createTestApp(database()).request('/static/vendor/htmx-4.0.1.min.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const served = await response.text();
    expect(served).toBe(readFileSync(`${ROOT}/node_modules/htmx.org/dist/htmx.min.js`, 'utf8'));
    expect(JSON.parse(readFileSync(`${ROOT}/node_modules/htmx.org/package.json`, 'utf8')).version).toBe('4.0.1');
  });

  test('the stylesheet is served and revalidated', async () => {
    const response = await createTestApp(database()).request('/static/app.css');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(await response.text()).toContain('.topbar');
  });

  test('no path escapes public/', async () => {
    const response = await createTestApp(database()).request('/static/../package.json');
    expect(response.status).toBe(404);
    const encoded = await createTestApp(database()).request('/static/%2e%2e/package.json');
    expect(encoded.status).toBe(404);
  });
});

describe('errors', () => {
  test('an unknown page is a 404 HTML page', async () => {
    const response = await createTestApp(database()).request('/tools/nowhere');
    expect(response.status).toBe(404);
    const html = await response.text();
    expect(html).toStartWith('<!DOCTYPE html>');
    expect(html).toContain('<h1 id="error-title">Page not found</h1>');
  });

  test('an unknown API path is a 404 problem+json with the request id', async () => {
    const response = await createTestApp(database()).request('/api/v1/nowhere');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({
      type: 'about:blank',
      title: 'Not found',
      status: 404,
      instance: '/api/v1/nowhere',
    });
    expect(problem.request_id).toBe(response.headers.get('x-request-id'));
  });
});
