import { createApp } from '../../src/app.ts';
import type { HealthSource } from '../../src/health/health.routes.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger, type Logger } from '../../src/lib/log.ts';
import type { TestDatabase } from './database.ts';
import { testSecrets } from './fixtures.ts';

/** The real app on a test database, for `app.request()` tests. */
export function createTestApp(database: TestDatabase, options: { env?: Record<string, string>; log?: Logger; health?: HealthSource } = {}) {
  return createApp({
    health: options.health,
    db: database.db,
    databaseKind: database.kind,
    config: loadConfig(options.env ?? {}),
    secrets: testSecrets,
    log: options.log ?? silentLogger,
    version: '0.0.0-test',
  });
}

export type TestApp = ReturnType<typeof createTestApp>;
