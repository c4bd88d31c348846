import { Hono, type Context } from 'hono';
import { serveStatic } from 'hono/bun';
import { jsxRenderer, useRequestContext } from 'hono/jsx-renderer';
import { requestId } from 'hono/request-id';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { getPath } from 'hono/utils/url';
import type { Kysely } from 'kysely';
import { resolve } from 'node:path';
import { Layout, type LayoutProps } from '../views/layout.tsx';
import { ErrorPage } from '../views/error.tsx';
import type { Config } from './config.ts';
import type { DatabaseKind } from './db/client.ts';
import type { Database } from './db/database.ts';
import { authRoutes } from './auth/auth.routes.tsx';
import { userPages } from './auth/users.routes.tsx';
import { createTokenVerifier } from './auth/bearer.ts';
import { accessTokenKey, tokenRoutes } from './auth/token.routes.ts';
import { openApiRoutes } from './openapi/openapi.routes.tsx';
import { isHttps, loadSession, type SessionVariables } from './auth/session.ts';
import { eventApiRoutes } from './events/events.routes.ts';
import { healthRoutes } from './health/health.routes.ts';
import { auditPages } from './deliveries/audit.routes.tsx';
import { deliveryApiRoutes } from './deliveries/deliveries.api.ts';
import { integrationPages } from './integrations/integrations.routes.tsx';
import { PageNotFound } from './integrations/pages.tsx';
import type { SecretBox } from './lib/crypto.ts';
import type { Logger } from './lib/log.ts';
import { integrationApiRoutes } from './integrations/integrations.api.ts';
import { metricsRoutes } from './metrics/metrics.routes.ts';
import { notificationApiRoutes } from './notifications/notifications.api.ts';
import { notificationPages } from './notifications/notifications.routes.tsx';
import { ProblemError, problemResponse } from './lib/problem.ts';
import { isDatabaseUnavailable } from './db/unavailable.ts';
import { outageReporter } from './lib/outage.ts';
import type { HealthSource } from './health/health.routes.ts';

/** Everything the HTTP app needs, passed in explicitly (no globals). */
export interface AppDeps {
  db: Kysely<Database>;
  databaseKind: DatabaseKind;
  config: Config;
  secrets: SecretBox;
  log: Logger;
  version: string;
  /** The background loops' heartbeats, for /readyz (none in a web-only process). */
  health?: HealthSource;
}

/**
 * Largest body of any request but ingest (which reads its own, up to
 * MAX_REQUEST_BYTES): the sign-in form, the UI's forms, the configuration
 * API. Refused before it is buffered.
 */
export const FORM_BODY_LIMIT_BYTES = 64 * 1024;

/** Seconds a client is asked to wait while the database is away. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

declare module 'hono' {
  // An interface, not a type: it merges with Hono's own ContextRenderer.
  interface ContextRenderer {
    // biome-ignore lint/style/useShorthandFunctionType: declaration merging needs the interface
    (content: string | Promise<string>, props: Omit<LayoutProps, 'children'>): Response | Promise<Response>;
  }
}

const PUBLIC_DIR = resolve(import.meta.dir, '../public');

export function createApp(deps: AppDeps) {
  const app = new Hono<{ Variables: SessionVariables }>({ getPath: apiPathWithoutTrailingSlash });
  const databaseOutage = outageReporter(deps.log, 'requests fail: the database is unavailable');

  app.use(requestId());
  const formLimit = bodyLimit({
    maxSize: FORM_BODY_LIMIT_BYTES,
    onError: (c) => {
      const detail = `The body is larger than ${FORM_BODY_LIMIT_BYTES / 1024} KiB; only POST /api/v1/events takes more.`;
      if (isApiPath(c.req.path))
        return problemResponse(c, { status: 413, type: 'payload-too-large', title: 'Payload too large', detail });
      return c.text(detail, 413);
    },
  });
  app.use((c, next) => (c.req.path === '/api/v1/events' ? next() : formLimit(c, next)));
  app.use(
    secureHeaders({
      // 'no-referrer' (the default) makes browsers send "Origin: null" on
      // form posts, which the sign-in's same-origin check must refuse.
      referrerPolicy: 'same-origin',
      // Set below, over https only: HSTS over plain http is meaningless and can pin a host that has no TLS.
      strictTransportSecurity: false,
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
      },
    }),
  );
  app.use(async (c, next) => {
    await next();
    if (isHttps(c)) c.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
  });
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    if (c.res.status < 500 && databaseOutage.failing) databaseOutage.recovered();
    deps.log.debug('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      request_id: c.get('requestId'),
    });
  });

  app.use(
    '/static/*',
    serveStatic({
      root: PUBLIC_DIR,
      rewriteRequestPath: (path) => path.replace(/^\/static/, ''),
      // Vendored files carry their version in the name, so they never change.
      onFound: (path, c) => {
        c.header('cache-control', path.includes('/vendor/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );

  app.route('/', healthRoutes(deps));
  const tokens = createTokenVerifier(deps.db, { accessTokenKey: accessTokenKey(deps.secrets) });
  app.route('/api', openApiRoutes(deps));
  app.route('/v0', tokenRoutes(deps));
  app.route('/api/v1', eventApiRoutes({ ...deps, tokens }));
  app.route('/api/v1/org/integrations', integrationApiRoutes({ ...deps, tokens }));
  app.route('/api/v1/org/integrations', deliveryApiRoutes({ ...deps, tokens }));
  app.route('/api/v1/org/notification-channels', notificationApiRoutes({ ...deps, tokens }));
  app.route('/', metricsRoutes({ ...deps, tokens }));

  app.use('*', loadSession(deps.db));
  app.use(
    '*',
    jsxRenderer(
      ({ children, title, section }) => {
        const session = useRequestContext<{ Variables: SessionVariables }>().get('session');
        return Layout({
          title,
          section,
          children,
          user: session?.user.email,
          csrfToken: session?.csrfToken,
          canManageUsers: session?.user.permissions.includes('manage_users'),
        });
      },
      { docType: true },
    ),
  );
  app.get('/', (c) => c.redirect('/tools/event-stream'));
  app.route('/', authRoutes(deps));
  app.route('/tools/event-stream', auditPages(deps));
  app.route('/tools/event-stream', integrationPages(deps));
  app.route('/tools/event-stream/notifications', notificationPages(deps));
  app.route('/admin', userPages(deps));

  app.notFound((c) => {
    if (isApiPath(c.req.path)) {
      return problemResponse(c, { status: 404, title: 'Not found', detail: `No resource at ${c.req.path}` });
    }
    c.status(404);
    return c.render(ErrorPage({ status: 404, title: 'Page not found', detail: 'There is nothing at this address.' }), {
      title: 'Page not found',
    });
  });

  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(c, error.problem);
    if (error instanceof PageNotFound) {
      c.status(404);
      return c.render(ErrorPage({ status: 404, title: error.title, detail: error.message }), {
        title: 'Not found',
        section: 'event-stream',
      });
    }
    if (deps.health?.stopping()) return shuttingDown(c);
    if (isDatabaseUnavailable(error)) {
      databaseOutage.failed(error, { path: c.req.path });
      c.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      const detail = `The database is unavailable (restarting or failing over). Try again in ${DATABASE_RETRY_AFTER_SECONDS} seconds; resending the same event ids is safe.`;
      if (isApiPath(c.req.path))
        return problemResponse(c, { status: 503, type: 'database-unavailable', title: 'Database unavailable', detail });
      c.status(503);
      return c.html(
        `<!DOCTYPE html>${Layout({ title: 'Unavailable', children: ErrorPage({ status: 503, title: 'The database is unavailable', detail }) })}`,
      );
    }
    deps.log.error('unhandled error', {
      method: c.req.method,
      path: c.req.path,
      request_id: c.get('requestId'),
      error,
    });
    const detail = `Something went wrong on our side. Reference: ${c.get('requestId')}`;
    if (isApiPath(c.req.path)) return problemResponse(c, { status: 500, title: 'Internal server error', detail });
    c.status(500);
    return c.render(ErrorPage({ status: 500, title: 'Something went wrong', detail }), { title: 'Error' });
  });

  return app;
}

/**
 * What a process serves on METRICS_PORT: /healthz, /readyz and /metrics
 * alone, so that a worker, which serves no web app, can be probed and scraped.
 */
export function createOpsApp(deps: AppDeps) {
  const app = new Hono();
  app.use(requestId());
  app.route('/', healthRoutes(deps));
  app.route(
    '/',
    metricsRoutes({ ...deps, tokens: createTokenVerifier(deps.db, { accessTokenKey: accessTokenKey(deps.secrets) }) }),
  );
  app.notFound((c) =>
    problemResponse(c, {
      status: 404,
      title: 'Not found',
      detail: `${c.req.path}: this port serves /healthz, /readyz and /metrics only`,
    }),
  );
  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(c, error.problem);
    if (deps.health?.stopping()) return shuttingDown(c);
    if (isDatabaseUnavailable(error)) {
      c.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      return problemResponse(c, {
        status: 503,
        type: 'database-unavailable',
        title: 'Database unavailable',
        detail: 'The database is unavailable (restarting or failing over).',
      });
    }
    deps.log.error('unhandled error', { path: c.req.path, error });
    return problemResponse(c, {
      status: 500,
      title: 'Internal server error',
      detail: `Something went wrong on our side. Reference: ${c.get('requestId')}`,
    });
  });
  return app;
}

/**
 * A request caught by the shutdown (its database closing under it) is the
 * process going away, not a fault: 503, try another process, nothing logged.
 */
function shuttingDown(c: Context) {
  c.header('retry-after', '1');
  return problemResponse(c, {
    status: 503,
    type: 'shutting-down',
    title: 'Shutting down',
    detail: 'This process is shutting down; send the request again (another process will take it).',
  });
}

/** The JSON API: NewStore's clients call /v0/token beside /api/…. */
function isApiPath(path: string) {
  return path.startsWith('/api/') || path.startsWith('/v0/');
}

/**
 * Routes an API path with a trailing slash as the path without it, for
 * every method (NewStore's clients list with `GET …/eventstream/`); a
 * redirect would turn their POSTs into GETs.
 */
function apiPathWithoutTrailingSlash(request: Request): string {
  const path = getPath(request);
  return path.length > 1 && path.endsWith('/') && isApiPath(path) ? path.replace(/\/+$/, '') : path;
}
