/*
 * A webhook receiver for the benchmarks, run as its own process so that it
 * does not share an event loop with what is measured. Answers 200 to every
 * POST, counts them per path, and tells the counts on GET /__counts.
 *   PORT=4001 bun bench/receiver.ts
 */
const counts: Record<string, number> = {};
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  idleTimeout: 120,
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (request.method === 'GET' && path === '/__counts') return Response.json(counts);
    await request.arrayBuffer();
    counts[path] = (counts[path] ?? 0) + 1;
    return new Response('ok');
  },
});
console.log(JSON.stringify({ msg: 'receiver listening', port: server.port }));
