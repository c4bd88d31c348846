import { describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/lib/log.ts';
import { createLoop } from '../../src/loops/loop.ts';

/*
 * The shell every background loop runs in: rounds, waking, the heartbeat,
 * failures logged once per outage, and stop within its deadline.
 */

function logged() {
  const lines: { level: string; msg: string }[] = [];
  return { lines, log: createLogger('debug', (line) => lines.push(JSON.parse(line))) };
}

describe('the loop shell', () => {
  test('runs rounds back to back while they find work, then waits the poll interval unless woken', async () => {
    const { log } = logged();
    let rounds = 0;
    let work = 3;
    const loop = createLoop({
      name: 'test',
      log,
      pollIntervalMs: 60_000,
      core: () => ({
        round: async () => {
          rounds++;
          return work-- > 0;
        },
      }),
    });
    loop.start();
    await Bun.sleep(50);
    expect(rounds).toBe(4); // three with work, one that found none
    loop.wake();
    await Bun.sleep(20);
    expect(rounds).toBe(5);
    await loop.stop(1_000);
  });

  test('a failing round is logged once when the outage starts and once when it ends, with backoff between tries', async () => {
    const { log, lines } = logged();
    let calls = 0;
    let failing = true;
    const loop = createLoop({
      name: 'flaky',
      log,
      pollIntervalMs: 10,
      core: () => ({
        round: async () => {
          calls++;
          if (failing) throw new Error('database unavailable');
          return false;
        },
      }),
    });
    loop.start();
    await Bun.sleep(1_000); // backoff 250 + 500 ms: about three tries, not a hundred
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(4);
    failing = false;
    await Bun.sleep(1_200);
    await loop.stop(1_000);
    expect(
      lines.filter((line) => line.msg.startsWith('flaky round failed')).map((line) => [line.level, line.msg]),
    ).toEqual([
      ['warn', 'flaky round failed'],
      ['info', 'flaky round failed: recovered'],
    ]);
  });

  test('the heartbeat stays fresh while idle and grows while a round is stuck', async () => {
    const { log } = logged();
    let release = () => {};
    let rounds = 0;
    const loop = createLoop({
      name: 'stuck',
      log,
      pollIntervalMs: 50,
      core: () => ({
        round: () =>
          ++rounds === 3 ? new Promise<boolean>((resolve) => (release = () => resolve(false))) : Promise.resolve(false),
      }),
    });
    loop.start();
    await Bun.sleep(80);
    expect(loop.heartbeatAgeSeconds()).toBeLessThan(0.06);
    await Bun.sleep(400);
    expect(rounds).toBe(3);
    expect(loop.heartbeatAgeSeconds()).toBeGreaterThan(0.3);
    release();
    await Bun.sleep(20);
    expect(loop.heartbeatAgeSeconds()).toBeLessThan(0.05);
    await loop.stop(1_000);
  });

  test('stop calls drain with the deadline at once, and resolves by the deadline even if the round hangs', async () => {
    const { log } = logged();
    let drainedWith: number | undefined;
    const loop = createLoop({
      name: 'hung',
      log,
      pollIntervalMs: 10,
      core: () => ({
        round: () => new Promise<boolean>(() => {}),
        drain: async (deadline) => {
          drainedWith = deadline;
        },
      }),
    });
    loop.start();
    await Bun.sleep(20);
    const started = Date.now();
    await loop.stop(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(500);
    expect(drainedWith).toBeGreaterThanOrEqual(started + 290);
  });
});
