import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/net.ts';
import { createApiToken } from '../../src/auth/api-tokens.repo.ts';
import { openPglite } from '../../src/db/client.ts';
import { createTestDatabase, prepareDataDir, usingPostgres, type TestDatabase } from '../helpers/database.ts';
import { TEST_SECRET_KEY } from '../helpers/fixtures.ts';
import { startTideway, stopTideway, type RunningTideway } from '../helpers/process.ts';

/*
 * A worker process serves no web app, yet it must be probed and scraped:
 * /healthz, /readyz and /metrics on METRICS_PORT. Checked from outside —
 * with promtool and a real Prometheus scraping it (Debian's prometheus
 * package; those parts are skipped where it is not installed).
 */

const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';
const dataDir = mkdtempSync(join(tmpdir(), 'tideway-worker-metrics-'));
let database: TestDatabase | undefined;
let worker: RunningTideway;
let token: string;

beforeAll(async () => {
  if (usingPostgres) {
    database = await createTestDatabase();
    token = (await createApiToken(database.db, { name: 'scraper', permissions: ['view_tools'] })).token;
  } else {
    await prepareDataDir(dataDir);
    const embedded = await openPglite({ dataDir });
    token = (await createApiToken(embedded.db, { name: 'scraper', permissions: ['view_tools'] })).token;
    await embedded.close();
  }
  worker = await startTideway(
    { DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET_KEY, ...(database ? { DATABASE_URL: database.url! } : {}) },
    45_000,
    ['--role', 'worker'],
  );
}, 60_000);

afterAll(async () => {
  if (worker?.proc.exitCode === null) await stopTideway(worker);
  await database?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function scrape(): Promise<string> {
  const response = await fetch(`${worker.metricsUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.text();
}

describe('a worker process', () => {
  test('serves /healthz and /readyz on its metrics port', async () => {
    expect(worker.url).toBe('');
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${worker.metricsUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${worker.metricsUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
    expect((await fetch(`${worker.metricsUrl}/tools/event-stream`)).status).toBe(404);
  });

  test('serves /metrics to a view_tools token: every loop heartbeat, the delivery gauges and the process metrics', async () => {
    expect((await fetch(`${worker.metricsUrl}/metrics`)).status).toBe(401);
    const text = await scrape();
    for (const loop of ['webhook-delivery', 's3-batches', 'retention', 'notifications', 'notification-watch'])
      expect(text).toMatch(new RegExp(`^tideway_loop_heartbeat_age_seconds\\{loop="${loop}"\\} \\d`, 'm'));
    for (const name of [
      'tideway_webhook_inflight',
      'tideway_webhook_unrecorded_attempts',
      'tideway_s3_batches_uploading',
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'tideway_gc_collections_observed_total',
    ]) {
      expect(text).toMatch(new RegExp(`^${name} \\d`, 'm'));
    }
  });

  test.skipIf(!existsSync(PROMTOOL))('its exposition passes promtool check metrics', async () => {
    const check = Bun.spawn([PROMTOOL, 'check', 'metrics'], {
      stdin: new Blob([await scrape()]),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const problems = (await new Response(check.stderr).text()) + (await new Response(check.stdout).text());
    expect({ exit: await check.exited, problems }).toEqual({ exit: 0, problems: '' });
  });

  test.skipIf(!existsSync(PROMETHEUS))(
    'a real Prometheus scrapes it with the token and stores the heartbeats',
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'tideway-prometheus-'));
      const port = await freePort();
      const target = new URL(worker.metricsUrl).host;
      writeFileSync(
        join(home, 'prometheus.yml'),
        `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: tideway-worker\n    authorization:\n      credentials: ${token}\n    static_configs:\n      - targets: ['${target}']\n`,
      );
      const prometheus = Bun.spawn(
        [
          PROMETHEUS,
          `--config.file=${join(home, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(home, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdout: 'ignore', stderr: 'ignore' },
      );
      try {
        const query = async (expression: string) => {
          const response = await fetch(
            `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expression)}`,
          ).catch(() => undefined);
          return response?.ok
            ? (
                (await response.json()) as {
                  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
                }
              ).data.result
            : [];
        };
        const deadline = Date.now() + 30_000;
        let beats: Awaited<ReturnType<typeof query>> = [];
        while (beats.length < 5 && Date.now() < deadline) {
          await Bun.sleep(500);
          beats = await query('tideway_loop_heartbeat_age_seconds');
        }
        expect(beats.map((beat) => beat.metric.loop).sort()).toEqual([
          'notification-watch',
          'notifications',
          'retention',
          's3-batches',
          'webhook-delivery',
        ]);
        expect(await query('up{job="tideway-worker"}')).toMatchObject([{ value: [expect.any(Number), '1'] }]);
      } finally {
        prometheus.kill();
        await prometheus.exited;
        rmSync(home, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
