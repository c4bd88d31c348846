import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { ConfigError, describeSettings, loadConfig } from '../../src/config.ts';
import { ROOT } from '../helpers/process.ts';

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  test('an empty environment gives the documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.dataDir).toBe('./data');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.role).toBe('all');
    expect(config.adminEmail).toBe('admin@localhost');
    expect(config.outbound.allowPrivateTargets).toBe(false);
    expect(config.webhook.timeoutMs).toBe(15_000);
    expect(config.webhook.retryScheduleSeconds).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000, 50400, 72000, 86400]);
    expect(config.webhook.concurrency).toBe(256);
    expect(config.webhook.concurrencyPerIntegration).toBe(16);
    expect(config.s3).toEqual({ batchMaxBytes: 52_428_800, batchIntervalMs: 300_000 });
    expect(config.retentionDays).toBe(14);
    expect(config.ingest).toEqual({ maxRequestBytes: 5_242_880, maxEventBytes: 1_048_576, maxJsonDepth: 64 });
  });

  test('parses every kind of value', () => {
    const config = loadConfig({
      PORT: '8080',
      ALLOW_PRIVATE_TARGETS: 'TRUE',
      ALLOWED_TARGET_CIDRS: '10.0.0.0/8, fd00::/8',
      WEBHOOK_RETRY_SCHEDULE: '1, 2,3',
      ROLE: 'worker',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      SECRET_KEY: 'AB'.repeat(32),
    });
    expect(config.port).toBe(8080);
    expect(config.outbound).toEqual({ allowPrivateTargets: true, allowedCidrs: ['10.0.0.0/8', 'fd00::/8'] });
    expect(config.webhook.retryScheduleSeconds).toEqual([1, 2, 3]);
    expect(config.role).toBe('worker');
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/test');
  });

  test('empty variables count as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' }).port).toBe(3000);
  });

  test('--role overrides ROLE', () => {
    expect(loadConfig({ ROLE: 'web' }, { role: 'worker' }).role).toBe('worker');
    expect(loadConfig({ ROLE: 'bogus' }, { role: 'web' }).role).toBe('web');
    expect(() => loadConfig({}, { role: 'chef' })).toThrow(/ROLE: must be web, worker or all/);
  });

  test('the result is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.webhook)).toBe(true);
  });

  test('one error lists every bad variable and why', () => {
    const error = problemsOf({
      PORT: 'abc',
      DATABASE_URL: 'nope',
      RETENTION_DAYS: '0',
      WEBHOOK_RETRY_SCHEDULE: '5,soon',
      ALLOW_PRIVATE_TARGETS: 'maybe',
      ALLOWED_TARGET_CIDRS: '10.0.0.0/8,office',
      LOG_LEVEL: 'loud',
    });
    expect(error.problems.map((problem) => problem.variable).sort()).toEqual([
      'ALLOWED_TARGET_CIDRS',
      'ALLOW_PRIVATE_TARGETS',
      'DATABASE_URL',
      'LOG_LEVEL',
      'PORT',
      'RETENTION_DAYS',
      'WEBHOOK_RETRY_SCHEDULE',
    ]);
    expect(error.message).toContain('PORT: must be a whole number, e.g. 3000 (got "abc")');
    expect(error.message).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(error.message).toContain('RETENTION_DAYS: must be at least 1');
    expect(error.message).toContain('LOG_LEVEL: must be debug, info, warn or error (got "loud")');
  });

  test('never repeats the value of a secret variable', () => {
    const error = problemsOf({
      SECRET_KEY: 'my-very-secret-value',
      ADMIN_PASSWORD: 'short',
      DATABASE_URL: 'mysql://root:pa55word@db/x',
    });
    expect(error.problems.map((problem) => problem.variable).sort()).toEqual([
      'ADMIN_PASSWORD',
      'DATABASE_URL',
      'SECRET_KEY',
    ]);
    expect(error.message).not.toContain('my-very-secret-value');
    expect(error.message).not.toContain('short"');
    expect(error.message).not.toContain('pa55word');
  });

  test('the README documents every variable with its default', () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    for (const setting of describeSettings()) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting.name}\``));
      expect(row, `README row for ${setting.name}`).toBeDefined();
      if (setting.fallback) expect(row).toContain(`\`${setting.fallback}\``);
    }
  });
});
