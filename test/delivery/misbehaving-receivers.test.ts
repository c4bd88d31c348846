import { afterAll, describe, expect, spyOn, test } from 'bun:test';
import { randomBytes, randomUUID } from 'node:crypto';
import * as dns from 'node:dns/promises';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  RESPONSE_EXCERPT_BYTES,
  sendWebhook,
  type AttemptResult,
  type WebhookRequest,
} from '../../src/delivery/webhook.ts';

/*
 * Receivers that misbehave on real loopback sockets: each must become one
 * attempt with an error class (or a status), within the timeout, without
 * buffering more than the excerpt, and without holding up other requests.
 */

const TIMEOUT_MS = 1_200;
/** Scheduling slack on a busy CI machine; the attempt itself must not overrun. */
const MARGIN_MS = 500;
const GIGABYTE = 1024 ** 3;
const BOMB_BYTES = 256 * 1024 ** 2;
const secret = `whsec_${randomBytes(32).toString('base64')}`;

function webhookRequest(url: string): WebhookRequest {
  const id = randomUUID();
  return {
    url,
    signingSecrets: [secret],
    id,
    body: JSON.stringify({
      id,
      tenant: 't',
      name: 'order.created',
      published_at: new Date().toISOString(),
      payload: {},
    }),
    timeoutMs: TIMEOUT_MS,
    policy: { allowPrivateTargets: true, allowedCidrs: [] },
  };
}

/** A raw TCP server on loopback that remembers its sockets so afterAll can close every one. */
interface RawServer {
  url: (scheme?: 'http' | 'https') => string;
  /** Connections accepted so far. */
  connections: () => number;
  /** Connections still open: a client that gave up must also hang up. */
  open: () => number;
  close: () => Promise<void>;
}

const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

async function rawServer(onConnection: (socket: Socket) => void): Promise<RawServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: NetServer = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // the client hanging up mid-write is expected here
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  closers.push(close);
  return {
    url: (scheme = 'http') => `${scheme}://127.0.0.1:${port}/hook`,
    connections: () => connections,
    open: () => sockets.size,
    close,
  };
}

/** Calls `respond` once the request's head has arrived (the body is tiny and comes with it or just after). */
function onRequest(socket: Socket, respond: () => void): void {
  let head = '';
  const listener = (chunk: Buffer) => {
    head += chunk.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    socket.off('data', listener);
    respond();
  };
  socket.on('data', listener);
}

/**
 * The attempt ended by the deadline and kept no more than the excerpt. The
 * excerpt is measured in characters: at most one per byte read, though bytes
 * that are not UTF-8 become U+FFFD, three bytes each once stored.
 */
function expectWithinTimeout(result: AttemptResult): void {
  expect(result.durationMs).toBeLessThanOrEqual(TIMEOUT_MS + MARGIN_MS);
  expect((result.responseBody ?? '').length).toBeLessThanOrEqual(RESPONSE_EXCERPT_BYTES);
}

/** The client closed its end once the attempt was over: nothing lingers on either side. */
async function expectHungUp(server: RawServer): Promise<void> {
  for (let waited = 0; server.open() > 0 && waited < 500; waited += 10) await Bun.sleep(10);
  expect(server.open()).toBe(0);
}

/** A 200 whose body never finishes: the headers (and `prefix`) then silence, connection left open. */
const hangsAfterHeaders =
  (prefix = '') =>
  (socket: Socket) =>
    onRequest(socket, () =>
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n${prefix}`),
    );

describe('a receiver that hangs after the headers', () => {
  test('is a timeout at the deadline: the answer never completed, so it is retried', async () => {
    const server = await rawServer(hangsAfterHeaders('partial'));
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({
      attemptClass: 'retry',
      errorClass: 'timeout',
      statusCode: null,
      errorMessage: `Answered HTTP 200 OK, but the body was not complete within ${TIMEOUT_MS} ms`,
      responseBody: 'partial',
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expectWithinTimeout(result);
    await expectHungUp(server);
  });

  test('does not hold up a healthy receiver called at the same time', async () => {
    const hanging = await rawServer(hangsAfterHeaders());
    const healthy = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('ok') });
    closers.push(() => healthy.stop(true));
    const stuck = Array.from({ length: 5 }, () => sendWebhook(webhookRequest(hanging.url())));
    await Bun.sleep(50);
    expect(hanging.open()).toBe(5); // all five are in flight, holding their connections
    const fine = await sendWebhook(webhookRequest(`http://127.0.0.1:${healthy.port}/hook`));
    expect(fine).toMatchObject({ attemptClass: 'success', statusCode: 200, responseBody: 'ok' });
    expect(fine.durationMs).toBeLessThan(300);
    for (const result of await Promise.all(stuck)) {
      expect(result.errorClass).toBe('timeout');
      expect(result.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expectWithinTimeout(result);
    }
    await expectHungUp(hanging);
  });
});

describe('a receiver that trickles its body one byte a second', () => {
  function trickle(socket: Socket, prefix: string) {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${prefix.length + 1000}\r\n\r\n${prefix}.`);
    const timer = setInterval(() => socket.write('.'), 1_000);
    socket.on('close', () => clearInterval(timer));
  }

  test('is a timeout at the deadline', async () => {
    const server = await rawServer((socket) => onRequest(socket, () => trickle(socket, '')));
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'timeout', statusCode: null });
    expect(result.errorMessage).toStartWith('Answered HTTP 200 OK, but the body was not complete');
    expect(result.responseBody).toMatch(/^\.{1,2}$/); // what came in time is kept
    expectWithinTimeout(result);
    await expectHungUp(server);
  });

  test('uses the status once the 20 KB excerpt is complete, without waiting for the rest', async () => {
    const server = await rawServer((socket) =>
      onRequest(socket, () => trickle(socket, 'x'.repeat(RESPONSE_EXCERPT_BYTES))),
    );
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'success', statusCode: 200, errorClass: null });
    expect(result.responseBody).toBe('x'.repeat(RESPONSE_EXCERPT_BYTES));
    expect(result.durationMs).toBeLessThan(500);
  });
});

describe('a receiver that resets the connection', () => {
  test('before reading the request is a connection error, at once', async () => {
    const server = await rawServer((socket) => socket.resetAndDestroy());
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'connection_error', statusCode: null });
    expect(result.durationMs).toBeLessThan(500);
  });

  test('after reading the request is a connection error, at once', async () => {
    const server = await rawServer((socket) => onRequest(socket, () => socket.resetAndDestroy()));
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'connection_error', statusCode: null });
    expect(result.durationMs).toBeLessThan(500);
  });

  test('halfway through the body is a connection error that keeps the status in its message, at once', async () => {
    const server = await rawServer((socket) =>
      onRequest(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort');
        setTimeout(() => socket.resetAndDestroy(), 50);
      }),
    );
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'connection_error', statusCode: null });
    expect(result.errorMessage).toStartWith('Answered HTTP 200 OK, but the body broke off');
    expect(result.durationMs).toBeLessThan(500);
  });

  test('after the request, closing without an answer is a connection error, at once', async () => {
    const server = await rawServer((socket) => onRequest(socket, () => socket.destroy()));
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'connection_error', statusCode: null });
    expect(result.durationMs).toBeLessThan(500);
  });
});

describe('a receiver that answers with a 1 GB body', () => {
  /** Streams zeros until the client hangs up, honouring backpressure, counting what the socket accepted. */
  function streamGigabyte(socket: Socket, written: { bytes: number }) {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const pump = () => {
      while (written.bytes < GIGABYTE && !socket.destroyed) {
        written.bytes += chunk.byteLength;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${GIGABYTE}\r\n\r\n`);
    pump();
  }

  test('reads the 20 KB excerpt, uses the status and hangs up: quick, bounded memory', async () => {
    const written = { bytes: 0 };
    let closedAt = 0;
    const server = await rawServer((socket) => {
      socket.on('close', () => (closedAt = performance.now()));
      onRequest(socket, () => streamGigabyte(socket, written));
    });
    Bun.gc(true);
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    const result = await sendWebhook(webhookRequest(server.url()));
    await Bun.sleep(200); // give a client that kept downloading the chance to show it
    Bun.gc(true);
    const rssRise = process.memoryUsage.rss() - rssBefore;
    console.log(
      `1 GB body: ${result.durationMs} ms, server wrote ${written.bytes} bytes, RSS rose ${(rssRise / 1024 ** 2).toFixed(1)} MB`,
    );

    expect(result).toMatchObject({ attemptClass: 'success', statusCode: 200, errorClass: null });
    expect(result.responseBody).toBe('a'.repeat(RESPONSE_EXCERPT_BYTES));
    expect(result.durationMs).toBeLessThan(500);
    expect(closedAt).toBeGreaterThan(started); // we hung up rather than draining it
    expect(written.bytes).toBeLessThan(GIGABYTE / 16);
    expect(rssRise).toBeLessThan(50 * 1024 ** 2);
  });

  test('sent chunked by Bun.serve from a generating stream: the same', async () => {
    let pulled = 0;
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => {
        const chunk = new Uint8Array(64 * 1024).fill(98);
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (pulled >= GIGABYTE) return controller.close();
            pulled += chunk.byteLength;
            controller.enqueue(chunk);
          },
        });
        return new Response(body);
      },
    });
    closers.push(() => server.stop(true));
    const result = await sendWebhook(webhookRequest(`http://127.0.0.1:${server.port}/hook`));
    await Bun.sleep(200);
    expect(result).toMatchObject({ attemptClass: 'success', statusCode: 200 });
    expect(result.responseBody).toBe('b'.repeat(RESPONSE_EXCERPT_BYTES));
    expect(result.durationMs).toBeLessThan(500);
    expect(pulled).toBeLessThan(GIGABYTE / 16);
  });
});

describe('a receiver that answers with a compressed body', () => {
  test('is not inflated: a 256 MB gzip bomb costs no more memory than its excerpt', async () => {
    const bomb = gzipSync(Buffer.alloc(BOMB_BYTES), { level: 9 }); // ~250 KB on the wire
    const seen: { acceptEncoding?: string | null } = {};
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (request) => {
        seen.acceptEncoding = request.headers.get('accept-encoding');
        return new Response(bomb, { headers: { 'content-encoding': 'gzip', 'content-type': 'text/plain' } });
      },
    });
    closers.push(() => server.stop(true));
    Bun.gc(true);
    const rssBefore = process.memoryUsage.rss();
    let peakRise = 0;
    const sampler = setInterval(() => (peakRise = Math.max(peakRise, process.memoryUsage.rss() - rssBefore)), 2);
    const result = await sendWebhook(webhookRequest(`http://127.0.0.1:${server.port}/hook`));
    await Bun.sleep(100);
    clearInterval(sampler);
    console.log(`gzip bomb: ${result.durationMs} ms, peak RSS rise ${(peakRise / 1024 ** 2).toFixed(1)} MB`);

    expect(seen.acceptEncoding).toBe('identity');
    expect(result).toMatchObject({ attemptClass: 'success', statusCode: 200 });
    expect(result.responseBody?.charCodeAt(0)).toBe(0x1f); // the gzip bytes as sent, not zeros inflated from them
    expectWithinTimeout(result);
    expect(peakRise).toBeLessThan(50 * 1024 ** 2);
  });
});

describe('a receiver that redirects to itself', () => {
  for (const status of [302, 307]) {
    test(`${status} is not followed: one request, rejected`, async () => {
      let requests = 0;
      const server = Bun.serve({
        hostname: '127.0.0.1',
        port: 0,
        fetch: (request) => {
          requests += 1;
          return new Response(null, { status, headers: { location: request.url } });
        },
      });
      closers.push(() => server.stop(true));
      const result = await sendWebhook(webhookRequest(`http://127.0.0.1:${server.port}/hook`));
      await Bun.sleep(100); // a follow-up request would have arrived by now
      expect(result).toMatchObject({ attemptClass: 'rejected', statusCode: status, errorClass: null });
      expect(requests).toBe(1);
      expectWithinTimeout(result);
    });
  }
});

describe('a receiver that does not speak HTTP', () => {
  const answers = {
    'a greeting instead of a status line': 'HELLO THERE, THIS IS NOT HTTP\r\n\r\n',
    'a malformed status line': 'HTTP/1.1 OK-ish\r\n\r\n',
    'a status line with a non-numeric code': 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n',
    'a header line without a colon': 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
    'an invalid Content-Length': 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello',
    'a broken chunk size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nhello\r\n',
  };
  for (const [what, answer] of Object.entries(answers)) {
    test(`${what}, connection left open, is an invalid response, at once`, async () => {
      const server = await rawServer((socket) => onRequest(socket, () => socket.write(answer)));
      const result = await sendWebhook(webhookRequest(server.url()));
      expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'invalid_response', statusCode: null });
      expect(result.durationMs).toBeLessThan(500);
    });
  }

  test('headers that never end are an invalid response, at once, without buffering them', async () => {
    const written = { bytes: 0 };
    const server = await rawServer((socket) =>
      onRequest(socket, () => {
        socket.write('HTTP/1.1 200 OK\r\nX-Endless: ');
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          while (written.bytes < GIGABYTE && !socket.destroyed) {
            written.bytes += chunk.byteLength;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
        };
        pump();
      }),
    );
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'invalid_response', statusCode: null });
    expect(result.durationMs).toBeLessThan(500);
    expect(written.bytes).toBeLessThan(GIGABYTE / 16);
  });

  // Bun's client does not try a status line until 16 bytes have arrived, so a
  // shorter answer on a connection left open looks like a slow one: it ends
  // at the deadline, not at once. Bounded, which is what matters.
  test('a greeting shorter than a status line, connection left open, is a timeout at the deadline', async () => {
    const server = await rawServer((socket) => onRequest(socket, () => socket.write('HELLO\r\n\r\n')));
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'timeout', statusCode: null });
    expectWithinTimeout(result);
  });

  test('a short greeting and a hang-up is a connection error, at once', async () => {
    const server = await rawServer((socket) => onRequest(socket, () => socket.end('HELLO\r\n\r\n')));
    const result = await sendWebhook(webhookRequest(server.url()));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'connection_error', statusCode: null });
    expect(result.durationMs).toBeLessThan(500);
  });
});

describe('a TLS handshake that never completes', () => {
  test('is a timeout at the deadline', async () => {
    const server = await rawServer(() => {}); // accepts, reads the ClientHello, never answers
    const result = await sendWebhook(webhookRequest(server.url('https')));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'timeout', statusCode: null });
    expect(server.connections()).toBe(1);
    expectWithinTimeout(result);
    await expectHungUp(server);
  });

  test('answered in plain HTTP is a TLS error, at once', async () => {
    const server = await rawServer((socket) =>
      socket.once('data', () => socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')),
    );
    const result = await sendWebhook(webhookRequest(server.url('https')));
    expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'tls', statusCode: null });
    expect(result.durationMs).toBeLessThan(500);
  });
});

describe('a name that never resolves', () => {
  test('is a DNS error at the deadline: resolving counts against the timeout too', async () => {
    const lookup = spyOn(dns, 'lookup').mockImplementation((() => new Promise(() => {})) as typeof dns.lookup);
    try {
      const result = await sendWebhook(webhookRequest('http://receiver.example/hook'));
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(result).toMatchObject({ attemptClass: 'retry', errorClass: 'dns', statusCode: null });
      expect(result.errorMessage).toBe(`Could not resolve receiver.example within ${TIMEOUT_MS} ms`);
      expectWithinTimeout(result);
    } finally {
      lookup.mockRestore();
    }
  });
});
