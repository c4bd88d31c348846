import { afterAll, expect, test } from 'bun:test';
import { createTestApp } from '../helpers/app.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { signedIn } from '../helpers/fixtures.ts';

/*
 * Behind a reverse proxy every sign-in comes from the proxy's address:
 * X-Forwarded-For names the client, but only when the connection is from a
 * proxy listed in TRUSTED_PROXIES (anyone can send the header).
 */

const database = useTestDatabase();
const PASSWORD = 'correct horse battery'; // signedIn()'s
const servers: ReturnType<typeof Bun.serve>[] = [];
afterAll(() => {
  for (const server of servers) server.stop(true);
});

/** The app over real HTTP on loopback, where the connection's address is 127.0.0.1. */
function serve(env: Record<string, string>) {
  const app = createTestApp(database(), { env });
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch });
  servers.push(server);
  return (email: string, password: string, forwardedFor: string) =>
    fetch(`http://127.0.0.1:${server.port}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor },
      body: new URLSearchParams({ email, password }).toString(),
    });
}

test('from a trusted proxy, each client is throttled on its own: one guessing does not lock the other out', async () => {
  const login = serve({ TRUSTED_PROXIES: '127.0.0.0/8' });
  const { email } = await signedIn(database().db, ['view_tools']);
  for (let i = 0; i < 5; i++) expect((await login(email, `wrong-${i}`, '203.0.113.5')).status).toBe(401);
  expect((await login(email, PASSWORD, '203.0.113.5')).status).toBe(429);
  // A client cannot escape by prepending addresses: the proxy appends the real one last.
  expect((await login(email, PASSWORD, '192.0.2.1, 203.0.113.5')).status).toBe(429);
  expect((await login(email, PASSWORD, '198.51.100.20')).status).toBe(303);
});

test('without TRUSTED_PROXIES, X-Forwarded-For is ignored: a forged one does not buy fresh attempts', async () => {
  const login = serve({});
  const { email } = await signedIn(database().db, ['view_tools']);
  for (let i = 0; i < 5; i++) expect((await login(email, `wrong-${i}`, `203.0.113.${i}`)).status).toBe(401);
  expect((await login(email, PASSWORD, '198.51.100.21')).status).toBe(429);
});
