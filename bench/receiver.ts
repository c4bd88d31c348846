/*
 * A webhook receiver for the benchmarks, run as its own process so that it
 * does not share an event loop with what is measured. Answers 200 to every
 * POST, counts them per path, and tells the counts on GET /__counts.
 * Under /fail-twice/, the first two requests whose body has FAIL_TEXT
 * (default `"id":"ent-0"`) get a 503.
 *   PORT=4001 bun bench/receiver.ts
 */
const counts: Record<string, number> = {};
const FAIL_TEXT = process.env.FAIL_TEXT ?? '"id":"ent-0"';
let failuresLeft = 2;
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  idleTimeout: 120,
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (request.method === 'GET' && path === '/__counts') return Response.json(counts);
    const body = await request.text();
    counts[path] = (counts[path] ?? 0) + 1;
    if (path.startsWith('/fail-twice/') && failuresLeft > 0 && body.includes(FAIL_TEXT)) {
      failuresLeft--;
      return new Response('busy', { status: 503 });
    }
    return new Response('ok');
  },
});
console.log(JSON.stringify({ msg: 'receiver listening', port: server.port }));
