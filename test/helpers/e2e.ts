import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import { launchChromium } from './browser.ts';
import { prepareDataDir } from './database.ts';
import { childEnv, ROOT, startTideway, stopTideway, type RunningTideway } from './process.ts';

export const ARTIFACTS = join(ROOT, 'test-results', 'e2e');
export const ADMIN = { email: 'admin@localhost', password: 'e2e-admin-password' };
export const VIEWER_LESS = { email: 'publisher@example.com', password: 'e2e-publisher-password' };

/**
 * A real Tideway process on a prepared embedded database, with the admin and
 * a user without view_tools, and Debian's Chromium.
 */
export async function startBrowserStack(
  env: Record<string, string> = {},
): Promise<{ server: RunningTideway; browser: Browser; apiToken: string; stop(): Promise<void> }> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'tideway-e2e-'));
  await prepareDataDir(dataDir);
  for (const [user, permissions] of [
    [ADMIN, 'view_tools,publish_events,manage_users'],
    [VIEWER_LESS, 'publish_events'],
  ] as const) {
    const cli = Bun.spawnSync(
      [
        'bun',
        'src/cli.ts',
        'user',
        'create',
        '--email',
        user.email,
        '--password',
        user.password,
        '--permission',
        permissions,
      ],
      {
        cwd: ROOT,
        env: childEnv({ DATA_DIR: dataDir }),
      },
    );
    if (cli.exitCode !== 0) throw new Error(`user create failed: ${cli.stderr.toString()}`);
  }
  const token = Bun.spawnSync(
    ['bun', 'src/cli.ts', 'token', 'create', '--name', 'e2e', '--permission', 'view_tools,publish_events'],
    {
      cwd: ROOT,
      env: childEnv({ DATA_DIR: dataDir }),
    },
  );
  if (token.exitCode !== 0) throw new Error(`token create failed: ${token.stderr.toString()}`);
  const [server, browser] = await Promise.all([startTideway({ DATA_DIR: dataDir, ...env }), launchChromium()]);
  return {
    server,
    browser,
    apiToken: token.stdout.toString().trim(),
    async stop() {
      await browser.close();
      await stopTideway(server);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the login form. */
export async function signIn(page: Page, baseUrl: string, user = ADMIN): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}
