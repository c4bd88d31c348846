import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { LoginPage, LogoutPage } from '../../views/auth/login.tsx';
import type { Database } from '../db/database.ts';
import { createSession, deleteSession } from './sessions.repo.ts';
import { checkSignIn } from './sign-in.ts';
import { getCookie } from 'hono/cookie';
import type { Config } from '../config.ts';
import {
  clearSessionCookie,
  clientAddress,
  requireCsrfToken,
  sessionCookieName,
  setSessionCookie,
  type SessionVariables,
} from './session.ts';

/** Only same-site paths: `next` must never send a user to another site. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/tools/event-stream';
}

export function authRoutes(deps: { db: Kysely<Database>; config?: Config; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return new Hono<{ Variables: SessionVariables }>()
    .get('/login', (c) => {
      const next = safeNext(c.req.query('next'));
      if (c.get('session')) return c.redirect(next);
      return c.render(<LoginPage next={next} />, { title: 'Sign in' });
    })
    .post('/login', async (c) => {
      const origin = c.req.header('origin');
      if (origin && origin !== new URL(c.req.url).origin) return c.text('Cross-site sign-in refused', 403);
      const form = await c.req.parseBody();
      const email = typeof form.email === 'string' ? form.email.trim() : '';
      const password = typeof form.password === 'string' ? form.password : '';
      const next = safeNext(form.next);
      const address = clientAddress(c, deps.config?.trustedProxies);
      const refuse = (status: 401 | 429, error: string) => {
        c.status(status);
        return c.render(<LoginPage next={next} email={email} error={error} />, { title: 'Sign in' });
      };

      const signIn = await checkSignIn(deps.db, { email, password, address, now: now() });
      if (signIn.kind === 'throttled') return refuse(429, 'Too many failed sign-ins. Wait 15 minutes, then try again.');
      if (signIn.kind === 'refused') return refuse(401, 'The email or password is incorrect.');

      const { token } = await createSession(deps.db, {
        userId: signIn.user.id,
        address,
        userAgent: c.req.header('user-agent') ?? null,
        now: now(),
      });
      setSessionCookie(c, token);
      return c.redirect(next, 303);
    })
    .get('/logout', (c) => {
      const session = c.get('session');
      if (!session) return c.redirect('/login');
      return c.render(<LogoutPage email={session.user.email} csrfToken={session.csrfToken} />, { title: 'Sign out' });
    })
    .post('/logout', requireCsrfToken(), async (c) => {
      const token = getCookie(c, sessionCookieName(c));
      if (token) await deleteSession(deps.db, token);
      clearSessionCookie(c);
      return c.redirect('/login', 303);
    });
}
