import { expect, test } from 'bun:test';
import { createLogger } from '../../src/lib/log.ts';

function capture(level: 'debug' | 'info' | 'warn' | 'error') {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger(level, (line) => lines.push(JSON.parse(line))) };
}

test('writes one JSON object per line with level, time, message and context', () => {
  const { lines, log } = capture('info');
  log.info('listening', { port: 3000 });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 'info', msg: 'listening', port: 3000 });
  expect(new Date(String(lines[0]!.time)).toISOString()).toBe(String(lines[0]!.time));
});

test('drops lines below the configured level', () => {
  const { lines, log } = capture('warn');
  log.debug('a');
  log.info('b');
  log.warn('c');
  log.error('d');
  expect(lines.map((line) => line.msg)).toEqual(['c', 'd']);
});

test('child loggers add their context to every line', () => {
  const { lines, log } = capture('debug');
  log.child({ component: 'retention' }).info('pruned', { rows: 10 });
  expect(lines[0]).toMatchObject({ component: 'retention', rows: 10 });
});

test('never writes secrets, even nested', () => {
  const { lines, log } = capture('info');
  log.info('integration saved', {
    integration: {
      id: 'erp',
      callback_parameters: { api_key: 'k-123456' },
      s3: { aws_secret_access_key: 'AKIA-SECRET' },
    },
    password: 'hunter2hunter2',
    headers: { Authorization: 'Bearer tw_abc' },
  });
  const text = JSON.stringify(lines);
  for (const secret of ['k-123456', 'AKIA-SECRET', 'hunter2hunter2', 'tw_abc']) expect(text).not.toContain(secret);
  expect(text).toContain('erp');
});

test('errors are logged with name, message and stack', () => {
  const { lines, log } = capture('info');
  log.error('boom', { error: new TypeError('bad thing') });
  expect(lines[0]!.error).toMatchObject({ name: 'TypeError', message: 'bad thing' });
});
