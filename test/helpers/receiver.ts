import type { Server } from 'bun';

export interface Received {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/**
 * A real HTTP receiver on loopback that records every request and answers
 * with whatever `respond` says (200 by default).
 */
export class Receiver {
  readonly received: Received[] = [];
  respond: (request: Received) => Response | Promise<Response> = () => new Response('ok');
  readonly server: Server<undefined>;

  /** On 127.0.0.1 and a free port unless told; `tls` makes it an https receiver. */
  constructor(options: { hostname?: string; port?: number; tls?: { cert: string; key: string } } = {}) {
    this.server = Bun.serve({
      hostname: options.hostname ?? '127.0.0.1',
      port: options.port ?? 0,
      ...(options.tls ? { tls: options.tls } : {}),
      idleTimeout: 60,
      fetch: async (request) => {
        const received: Received = {
          method: request.method,
          path: new URL(request.url).pathname,
          headers: Object.fromEntries(request.headers),
          body: await request.text(),
          at: Date.now(),
        };
        this.received.push(received);
        return this.respond(received);
      },
    });
  }

  url(path = '/hook'): string {
    return `${this.server.protocol}://${this.server.hostname}:${this.server.port}${path}`;
  }

  stop(): void {
    this.server.stop(true);
  }
}
