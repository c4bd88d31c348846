import { createApp } from '../../src/app.ts';
import type { HealthSource } from '../../src/health/health.routes.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger, type Logger } from '../../src/lib/log.ts';
import { checkContract, methodAndPath } from './contract.ts';
import type { TestDatabase } from './database.ts';
import { testSecrets } from './fixtures.ts';

/**
 * The real app on a test database, for `app.request()` tests. Every API
 * response it gives is checked against the OpenAPI document (./contract.ts).
 */
export function createTestApp(
  database: TestDatabase,
  options: { env?: Record<string, string>; log?: Logger; health?: HealthSource } = {},
) {
  return heldToContract(
    createApp({
      health: options.health,
      db: database.db,
      databaseKind: database.kind,
      config: loadConfig(options.env ?? {}),
      secrets: testSecrets,
      log: options.log ?? silentLogger,
      version: '0.0.0-test',
    }),
  );
}

function heldToContract<
  App extends { request: (input: RequestInfo | URL, init?: RequestInit) => Response | Promise<Response> },
>(app: App): App {
  const request = app.request.bind(app);
  app.request = (async (input: RequestInfo | URL, init?: RequestInit, ...rest: unknown[]) => {
    const response = await (request as (...args: unknown[]) => Response | Promise<Response>)(input, init, ...rest);
    const { method, path } = methodAndPath(input, init);
    await checkContract(method, path, response.clone());
    return response;
  }) as App['request'];
  return app;
}

export type TestApp = ReturnType<typeof createTestApp>;
