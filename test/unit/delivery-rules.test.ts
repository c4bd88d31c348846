import { describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config.ts';
import { checkOutboundUrl, pinnedTo } from '../../src/delivery/outbound.ts';
import { classifyError, classifyStatus, settlementFor } from '../../src/delivery/outcome.ts';
import type { AttemptResult } from '../../src/delivery/webhook.ts';
import { nextRetryDelayMs, parseRetryAfter, s3RetryDelayMs } from '../../src/delivery/retry.ts';
import { signatureOf, standardWebhookHeaders } from '../../src/delivery/signature.ts';

// The schedule Tideway ships with (WEBHOOK_RETRY_SCHEDULE's default): retries over about 3.5 days.
const SCHEDULE = loadConfig({}).webhook.retryScheduleSeconds;

describe('Standard Webhooks signatures', () => {
  test('the official test vector', () => {
    expect(
      signatureOf(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('during a rotation both secrets sign, separated by a space', () => {
    const headers = standardWebhookHeaders(
      ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', `whsec_${Buffer.alloc(24, 1).toString('base64')}`],
      'e1',
      1,
      '{}',
    );
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(headers['webhook-id']).toBe('e1');
    expect(headers['webhook-timestamp']).toBe('1');
  });
});

describe('outcome classes (SPEC §4)', () => {
  test.each([
    [200, 'success'],
    [204, 'success'],
    [299, 'success'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [401, 'interrupt'],
    [403, 'interrupt'],
    [404, 'interrupt'],
    [410, 'interrupt'],
    [400, 'rejected'],
    [409, 'rejected'],
    [422, 'rejected'],
    [301, 'rejected'],
    [302, 'rejected'],
  ] as const)('HTTP %i is %s', (status, expected) => {
    expect(classifyStatus(status)).toBe(expected);
  });

  test('network errors are retried; a refused address interrupts', () => {
    for (const error of [
      'timeout',
      'connection_refused',
      'connection_error',
      'invalid_response',
      'dns',
      'tls',
    ] as const)
      expect(classifyError(error)).toBe('retry');
    expect(classifyError('blocked_address')).toBe('interrupt');
  });
});

describe('the retry schedule', () => {
  test('an S3 batch backs off 5 s, 30 s, 2 min, 10 min, then every 30 min, and is never given up', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map(s3RetryDelayMs)).toEqual([
      5_000, 30_000, 120_000, 600_000, 1_800_000, 1_800_000, 1_800_000,
    ]);
  });

  test('follows the schedule with ±20 % jitter, then stops after the last retry', () => {
    expect(nextRetryDelayMs({ attempts: 1, scheduleSeconds: SCHEDULE, random: () => 0.5 })).toBe(5_000);
    expect(nextRetryDelayMs({ attempts: 1, scheduleSeconds: SCHEDULE, random: () => 0 })).toBe(4_000);
    expect(nextRetryDelayMs({ attempts: 1, scheduleSeconds: SCHEDULE, random: () => 0.999999 })).toBe(6_000);
    expect(nextRetryDelayMs({ attempts: 2, scheduleSeconds: SCHEDULE, random: () => 0.5 })).toBe(300_000);
    expect(nextRetryDelayMs({ attempts: 10, scheduleSeconds: SCHEDULE, random: () => 0.5 })).toBe(86_400_000);
    expect(nextRetryDelayMs({ attempts: 11, scheduleSeconds: SCHEDULE })).toBeUndefined();
    const total = SCHEDULE.reduce((sum, seconds) => sum + seconds, 0);
    expect(total / 86_400).toBeCloseTo(3.5, 0);
  });

  test('waits at least a minute after a timeout or a 429', () => {
    expect(nextRetryDelayMs({ attempts: 1, scheduleSeconds: SCHEDULE, overloaded: true, random: () => 0.5 })).toBe(
      60_000,
    );
    expect(nextRetryDelayMs({ attempts: 2, scheduleSeconds: SCHEDULE, overloaded: true, random: () => 0.5 })).toBe(
      300_000,
    );
  });

  test('the overload floor is WEBHOOK_OVERLOAD_BACKOFF_MS when set', () => {
    const floorMs = loadConfig({ WEBHOOK_OVERLOAD_BACKOFF_MS: '500' }).webhook.overloadBackoffMs;
    expect(nextRetryDelayMs({ attempts: 1, scheduleSeconds: [0], overloaded: true, overloadFloorMs: floorMs })).toBe(
      500,
    );
    expect(loadConfig({}).webhook.overloadBackoffMs).toBe(60_000);
  });

  test('honours Retry-After, clamped to a day, and never below the overload floor', () => {
    expect(nextRetryDelayMs({ attempts: 1, scheduleSeconds: SCHEDULE, retryAfterMs: 120_000 })).toBe(120_000);
    expect(nextRetryDelayMs({ attempts: 1, scheduleSeconds: SCHEDULE, retryAfterMs: 90 * 86_400_000 })).toBe(
      86_400_000,
    );
    expect(nextRetryDelayMs({ attempts: 1, scheduleSeconds: SCHEDULE, retryAfterMs: 1_000, overloaded: true })).toBe(
      60_000,
    );
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter(new Date(30_000).toUTCString(), 0)).toBe(30_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('outbound addresses', () => {
  const strict = { allowPrivateTargets: false, allowedCidrs: [] };
  test.each([
    'http://127.0.0.1:8080/x',
    'http://10.1.2.3/x',
    'http://172.20.0.1/x',
    'http://192.168.1.1/x',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]:80/x',
    'http://[fd00::1]/x',
    'http://[::ffff:10.0.0.1]/x',
    'http://[::ffff:7f00:1]/x',
    'http://[::127.0.0.1]/x',
    'http://[64:ff9b::7f00:1]/x',
    'http://[2002:7f00:1::1]/x',
    'http://[fec0::1]/x',
    'http://0.0.0.0/x',
    'http://localhost:3000/x',
  ])('%s is refused by default, naming the setting that allows it', async (url) => {
    const check = await checkOutboundUrl(url, strict);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.errorClass).toBe('blocked_address');
      expect(check.reason).toContain('ALLOW_PRIVATE_TARGETS=true');
      expect(check.reason).toContain('ALLOWED_TARGET_CIDRS');
    }
  });

  test('public addresses pass; the settings open private ones', async () => {
    expect((await checkOutboundUrl('https://93.184.216.34/hook', strict)).ok).toBe(true);
    expect((await checkOutboundUrl('http://127.0.0.1/x', { allowPrivateTargets: true, allowedCidrs: [] })).ok).toBe(
      true,
    );
    expect(
      (await checkOutboundUrl('http://10.1.2.3/x', { allowPrivateTargets: false, allowedCidrs: ['10.1.0.0/16'] })).ok,
    ).toBe(true);
    expect(
      (await checkOutboundUrl('http://10.2.0.1/x', { allowPrivateTargets: false, allowedCidrs: ['10.1.0.0/16'] })).ok,
    ).toBe(false);
  });

  test('every address a name resolves to is checked: one private answer among public ones refuses it', async () => {
    const resolve = async () => ['93.184.216.34', '10.0.0.7'];
    const check = await checkOutboundUrl('https://hooks.example.com/in', { ...strict, resolve });
    expect(check).toMatchObject({ ok: false, errorClass: 'blocked_address' });
    if (!check.ok) expect(check.reason).toStartWith('hooks.example.com resolves to 10.0.0.7');
  });

  test('a name that resolves to nothing is a DNS error, not a pass', async () => {
    const check = await checkOutboundUrl('https://hooks.example.com/in', { ...strict, resolve: async () => [] });
    expect(check).toMatchObject({ ok: false, errorClass: 'dns' });
  });

  test('pinned to an address, a request keeps its Host header, port, path and TLS server name', () => {
    expect(pinnedTo('https://hooks.example.com/in?x=1', '93.184.216.34')).toEqual({
      url: 'https://93.184.216.34/in?x=1',
      host: 'hooks.example.com',
      servername: 'hooks.example.com',
    });
    expect(pinnedTo('http://hooks.example.com:8080/in', '2001:db8::1')).toEqual({
      url: 'http://[2001:db8::1]:8080/in',
      host: 'hooks.example.com:8080',
      servername: undefined,
    });
    // An address in the URL has no name to send.
    expect(pinnedTo('https://93.184.216.34/in', '93.184.216.34').servername).toBeUndefined();
  });
});

describe('what an attempt leaves of its delivery (settlementFor)', () => {
  const at = new Date('2026-12-01T10:00:00.000Z');
  const delivery = { integration_id: 'erp', event_id: 'e-1', attempts: 0, next_attempt_trigger: 'scheduled' as const };
  const result = (fields: Partial<AttemptResult>): AttemptResult => ({
    attemptClass: 'success',
    attemptedAt: at,
    durationMs: 12,
    statusCode: 200,
    errorClass: null,
    errorMessage: null,
    responseBody: 'ok',
    ...fields,
  });
  const options = { scheduleSeconds: [5, 300], random: () => 0.5 };

  test('success and rejected settle it, counting the attempt', () => {
    expect(settlementFor(delivery, result({}), options)).toMatchObject({
      status: 'success',
      outcome: 'success',
      counted: 1,
      nextAttemptAt: at,
      statusCode: 200,
      responseBody: 'ok',
    });
    expect(settlementFor(delivery, result({ attemptClass: 'rejected', statusCode: 422 }), options)).toMatchObject({
      status: 'rejected',
      outcome: 'rejected',
      counted: 1,
    });
  });

  test('an interrupt leaves it pending and uncounted, for when the integration is started again', () => {
    expect(settlementFor(delivery, result({ attemptClass: 'interrupt', statusCode: 401 }), options)).toMatchObject({
      status: 'pending',
      outcome: 'interrupt',
      counted: 0,
      nextAttemptAt: at,
    });
  });

  test('a manual attempt (Resend) settles on success or a refusal, and otherwise leaves the delivery and its schedule alone', () => {
    const due = new Date('2026-12-01T11:00:00.000Z');
    const manual = { ...options, trigger: 'manual' as const };
    for (const status of ['pending', 'failure', 'success'] as const) {
      const held = { ...delivery, attempts: 3, status, next_attempt_at: due };
      expect(settlementFor(held, result({}), manual)).toMatchObject({
        status: 'success',
        trigger: 'manual',
        counted: 0,
        nextAttemptAt: at,
      });
      expect(settlementFor(held, result({ attemptClass: 'rejected', statusCode: 422 }), manual)).toMatchObject({
        status: 'rejected',
        counted: 0,
      });
      for (const attemptClass of ['retry', 'interrupt'] as const) {
        expect(settlementFor(held, result({ attemptClass, statusCode: 503 }), manual)).toMatchObject({
          status,
          outcome: attemptClass,
          trigger: 'manual',
          counted: 0,
          nextAttemptAt: status === 'pending' ? due : at,
        });
      }
    }
  });

  test('a retry is due after the next delay of the schedule; once it is used up, a failure', () => {
    const retry = result({ attemptClass: 'retry', statusCode: 503 });
    expect(settlementFor(delivery, retry, options)).toMatchObject({
      status: 'pending',
      outcome: 'retry',
      counted: 1,
      nextAttemptAt: new Date(at.getTime() + 5_000),
    });
    expect(settlementFor({ ...delivery, attempts: 1 }, retry, options)).toMatchObject({
      status: 'pending',
      nextAttemptAt: new Date(at.getTime() + 300_000),
    });
    expect(settlementFor({ ...delivery, attempts: 2 }, retry, options)).toMatchObject({
      status: 'failure',
      outcome: 'failure',
      counted: 1,
    });
  });

  test('a timeout waits at least a minute; the trigger of a manual retry is kept on its record', () => {
    expect(
      settlementFor(delivery, result({ attemptClass: 'retry', statusCode: null, errorClass: 'timeout' }), options)
        .nextAttemptAt,
    ).toEqual(new Date(at.getTime() + 60_000));
    expect(settlementFor({ ...delivery, next_attempt_trigger: 'manual' }, result({}), options).trigger).toBe('manual');
  });
});
