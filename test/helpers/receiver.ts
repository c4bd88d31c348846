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

  constructor() {
    this.server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
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
    return `http://127.0.0.1:${this.server.port}${path}`;
  }

  stop(): void {
    this.server.stop(true);
  }
}
