import type { Child } from 'hono/jsx';

export const HTMX_SRC = '/static/vendor/htmx-4.0.1.min.js';

export interface LayoutProps {
  title: string;
  /** Which navigation entry is current, e.g. 'event-stream'. */
  section?: 'event-stream' | 'admin';
  /** The signed-in user's email, when there is one. */
  user?: string;
  /** Sent by htmx with every request (X-CSRF-Token) and by forms (_csrf). */
  csrfToken?: string;
  /** Show the Users entry (manage_users). */
  canManageUsers?: boolean;
  children?: Child;
}

/** The page shell: head, the app's navigation, and the main area. */
export function Layout({ title, section, user, csrfToken, canManageUsers, children }: LayoutProps) {
  // htmx 4 inherits nothing implicitly: `:inherited` hands the header to every request on the page.
  const htmxHeaders = csrfToken ? { 'hx-headers:inherited': JSON.stringify({ 'X-CSRF-Token': csrfToken }) } : {};
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* An error answer to an htmx request is never swapped into the page: public/app.js says what happened instead. */}
        <meta name="htmx-config" content='{"noSwap":[204,304,"4xx","5xx"]}' />
        <title>{`${title} · Tideway`}</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/app.css" />
        <script src={HTMX_SRC} defer></script>
        <script src="/static/app.js" defer></script>
      </head>
      <body {...htmxHeaders}>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="topbar">
          <a class="brand" href="/">
            Tideway
          </a>
          <nav aria-label="Main">
            <ul class="nav">
              <li class="nav-group">
                <span class="nav-label">Tools</span>
                <ul>
                  <li>
                    <a href="/tools/event-stream" aria-current={section === 'event-stream' ? 'page' : undefined}>
                      Event Stream
                    </a>
                  </li>
                </ul>
              </li>
              {canManageUsers ? (
                <li>
                  <a href="/admin/users" aria-current={section === 'admin' ? 'page' : undefined}>
                    Users
                  </a>
                </li>
              ) : null}
            </ul>
          </nav>
          {user && csrfToken ? (
            <form class="account" method="post" action="/logout">
              <span class="account-email">{user}</span>
              <input type="hidden" name="_csrf" value={csrfToken} />
              <button type="submit" class="button button-quiet">
                Sign out
              </button>
            </form>
          ) : null}
        </header>
        <main id="main" class="page">
          <div id="page-notices" class="page-notices"></div>
          {children}
        </main>
        <footer class="footer">
          <a href="/api/docs">API reference</a>
          <span aria-hidden="true">·</span>
          <a href="/api/openapi.json">OpenAPI document</a>
        </footer>
      </body>
    </html>
  );
}
