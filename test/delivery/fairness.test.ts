import { afterAll, expect, test } from 'bun:test';
import { createServer, type Socket } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { createIngestWriter } from '../../src/events/ingest-writer.ts';
import { createWebhookLoop } from '../../src/delivery/webhook-loop.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { testSecrets, webhookIntegration, newEvent } from '../helpers/fixtures.ts';
import { Receiver } from '../helpers/receiver.ts';

/*
 * A misbehaving receiver costs only its own integration: one that sends its
 * headers and then never finishes holds its integration's slots until the
 * timeout, while a healthy integration's events flow beside it. Real
 * sockets on loopback, a running loop.
 */

const database = useTestDatabase();
const healthy = new Receiver();
const open = new Set<Socket>();
// Answers "200 OK" with a Content-Length it never fulfils.
const hanging = createServer((socket) => {
  open.add(socket);
  socket.once('data', () =>
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\npartial'),
  );
  socket.on('close', () => open.delete(socket));
});
await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
afterAll(() => {
  healthy.stop();
  for (const socket of open) socket.destroy();
  hanging.close();
});

test('a receiver that hangs after its headers holds up only its own integration; each of its attempts is a timeout', async () => {
  const port = (hanging.address() as { port: number }).port;
  await webhookIntegration(database(), {
    id: 'stalled',
    filter: { events: ['order.cancelled'] },
    target: { kind: 'webhook', callbackUrl: `http://127.0.0.1:${port}/hook` },
  });
  await webhookIntegration(database(), {
    id: 'flowing',
    filter: { events: ['order.created'] },
    target: { kind: 'webhook', callbackUrl: healthy.url() },
  });
  const writer = createIngestWriter(database().db, 'default');
  const event = (name: string) => newEvent(name, new Date(Date.now() + 300));
  await writer.write(Array.from({ length: 40 }, () => event('order.cancelled')));
  await writer.write(Array.from({ length: 300 }, () => event('order.created')));
  await Bun.sleep(400);

  const config = loadConfig({
    ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_TIMEOUT_MS: '4000',
    DELIVERY_CONCURRENCY: '8',
    DELIVERY_CONCURRENCY_PER_INTEGRATION: '4',
  });
  const loop = createWebhookLoop({
    db: database().db,
    session: await database().session(),
    secrets: testSecrets,
    config,
    log: silentLogger,
    pollIntervalMs: 100,
  });
  const started = Date.now();
  loop.start();
  try {
    while (healthy.received.length < 300 && Date.now() - started < 10_000) await Bun.sleep(20);
    // All 300 before the first of the stalled receiver's attempts could even time out
    // (WEBHOOK_TIMEOUT_MS), with 4 of the 8 slots held by it all along. (It was
    // "under 3 s": on this machine the code before and after took 1.8–3.1 s.)
    expect(healthy.received.length).toBe(300);
    expect(Date.now() - started).toBeLessThan(config.webhook.timeoutMs);

    while (Date.now() - started < 5_000) await Bun.sleep(50);
    const attempts = await database()
      .db.selectFrom('delivery_attempts')
      .select(['outcome', 'error_class', 'duration_ms'])
      .where('integration_id', '=', 'stalled')
      .execute();
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ outcome: 'retry', error_class: 'timeout' });
      expect(attempt.duration_ms).toBeLessThan(4_000 + 300);
    }
  } finally {
    await loop.stop(3_000);
  }
}, 30_000);
