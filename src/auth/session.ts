import type { Context } from 'hono';
import { getConnInfo } from 'hono/bun';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Kysely } from 'kysely';
import { ErrorPage } from '../../views/error.tsx';
import type { Database, Permission } from '../db/database.ts';
import { PERMISSION_LABELS } from './permissions.ts';
import { safeEqual } from '../lib/crypto.ts';
import { findActiveSession, SESSION_MAX_MS, type ActiveSession } from './sessions.repo.ts';
import type { BlockList } from 'node:net';
import { cidrList, inList } from '../lib/cidr.ts';

export const SESSION_COOKIE = 'tideway_session';
/** Over https the cookie is `__Host-` prefixed: browsers then hold it to Secure, Path=/ and this host alone. */
const HTTPS_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

/** The session cookie's name for this request's scheme. */
export function sessionCookieName(c: Context): string {
  return isHttps(c) ? HTTPS_SESSION_COOKIE : SESSION_COOKIE;
}
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export type SessionVariables = { session: ActiveSession | undefined };

/** Reads the session cookie into `c.var.session` (undefined when signed out). */
export function loadSession(db: Kysely<Database>, now: () => Date = () => new Date()) {
  return createMiddleware<{ Variables: SessionVariables }>(async (c, next) => {
    const token = getCookie(c, sessionCookieName(c));
    const session = token ? await findActiveSession(db, token, now()) : undefined;
    c.set('session', session);
    await next();
    // What a signed-in user sees stays out of shared and browser caches.
    if (session && !c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
  });
}

/** HttpOnly, SameSite=Lax, Secure when the request came over https. */
export function setSessionCookie(c: Context, token: string) {
  setCookie(c, sessionCookieName(c), token, {
    httpOnly: true,
    sameSite: 'Lax',
    secure: isHttps(c),
    path: '/',
    maxAge: Math.floor(SESSION_MAX_MS / 1000),
  });
}

export function clearSessionCookie(c: Context) {
  deleteCookie(c, sessionCookieName(c), { path: '/', secure: isHttps(c) });
}

/** Over https, directly or as the proxy in front says. */
export function isHttps(c: Context) {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

const trustedLists = new WeakMap<readonly string[], BlockList>();

/**
 * The caller's address, for login throttling: the connection's, or, when
 * that is one of `trustedProxies`, the last address in X-Forwarded-For that
 * is not (a client can put anything at the front of that header; only what
 * the trusted proxies appended counts).
 */
export function clientAddress(c: Context, trustedProxies: readonly string[] = []): string {
  let peer: string;
  try {
    peer = getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    peer = 'unknown';
  }
  if (trustedProxies.length === 0) return peer;
  let trusted = trustedLists.get(trustedProxies);
  if (!trusted) {
    trusted = cidrList(trustedProxies);
    trustedLists.set(trustedProxies, trusted);
  }
  if (!inList(trusted, peer)) return peer;
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    if (!inList(trusted, forwarded[i]!)) return forwarded[i]!;
  }
  return forwarded[0] ?? peer;
}

/**
 * Pages that need a signed-in user with `permission`: signed out → the login
 * page (for htmx requests, through HX-Redirect); without the permission → a
 * 403 page that says which permission is missing.
 */
export function requirePermission(permission: Permission) {
  return createMiddleware<{ Variables: SessionVariables }>(async (c, next) => {
    const session = c.get('session');
    if (!session) {
      const login = `/login?next=${encodeURIComponent(returnPath(c))}`;
      if (c.req.header('hx-request')) {
        // Not HX-Redirect: the page stays as it was, and public/app.js says
        // "Your session expired — sign in again" with this link.
        c.header('x-login-url', login);
        return c.body(null, 401);
      }
      return c.redirect(login);
    }
    if (!session.user.permissions.includes(permission)) {
      c.status(403);
      return c.render(
        ErrorPage({
          status: 403,
          title: 'You do not have access to this page',
          detail: `This page needs the ${PERMISSION_LABELS[permission]} permission. Ask an administrator to grant it to ${session.user.email}.`,
        }),
        { title: 'Forbidden' },
      );
    }
    await next();
  });
}

/**
 * Where to come back to after signing in: the page itself for a GET, else
 * the page the action was on (htmx's HX-Current-URL, or the Referer of a
 * plain form post) — never the action's own POST-only address.
 */
export function returnPath(c: Context): string {
  const here = new URL(c.req.url);
  if (c.req.method === 'GET' && !c.req.header('hx-request')) return here.pathname + here.search;
  for (const candidate of [c.req.header('hx-current-url'), c.req.header('referer')]) {
    if (!candidate || !URL.canParse(candidate)) continue;
    const page = new URL(candidate);
    if (page.host === here.host && page.pathname !== '/login') return page.pathname + page.search;
  }
  return c.req.method === 'GET' ? here.pathname + here.search : '/tools/event-stream';
}

/**
 * Every state-changing request of a signed-in user must carry the session's
 * CSRF token: htmx sends it as the X-CSRF-Token header (set on <body> by the
 * layout), plain forms as the `_csrf` field.
 */
export function requireCsrfToken() {
  return createMiddleware<{ Variables: SessionVariables }>(async (c, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next();
    const session = c.get('session');
    let presented = c.req.header(CSRF_HEADER);
    if (!presented && session) {
      const type = c.req.header('content-type') ?? '';
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        const field = (await c.req.parseBody())[CSRF_FIELD];
        presented = typeof field === 'string' ? field : undefined;
      }
    }
    if (!session || !presented || !safeEqual(presented, session.csrfToken)) {
      c.status(403);
      return c.render(
        ErrorPage({
          status: 403,
          title: 'This page is out of date',
          detail:
            'Your session changed since this page was loaded (you signed out, or signed in again in another tab), so its security token is no longer valid. Reload the page and try again.',
        }),
        { title: 'Forbidden' },
      );
    }
    await next();
  });
}
