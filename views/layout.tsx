import type { Child } from 'hono/jsx';

export const HTMX_SRC = '/static/vendor/htmx-4.0.1.min.js';

export interface LayoutProps {
  title: string;
  /** Which navigation entry is current, e.g. 'event-stream'. */
  section?: 'event-stream' | 'admin';
  children?: Child;
}

/** The page shell: head, the app's navigation, and the main area. */
export function Layout({ title, section, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Tideway`}</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/app.css" />
        <script src={HTMX_SRC} defer></script>
      </head>
      <body>
        <a class="skip-link" href="#main">Skip to content</a>
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
            </ul>
          </nav>
        </header>
        <main id="main" class="page">
          {children}
        </main>
      </body>
    </html>
  );
}
