import type { Child } from 'hono/jsx';

/*
 * Small pieces every Event Stream and admin page shares: the trail above the
 * title, the success notice, the card a table sits in.
 */

/** Tools › Event Stream › `last` (a link when it has an href); without `last`, Event Stream is the page. */
export function Breadcrumbs({ last }: { last?: { label: Child; href?: string } }) {
  if (!last) {
    return (
      <nav class="breadcrumbs" aria-label="Breadcrumb">
        <span>Tools</span> <span aria-hidden="true">›</span> <span>Event Stream</span>
      </nav>
    );
  }
  return (
    <nav class="breadcrumbs" aria-label="Breadcrumb">
      <span>Tools</span> <span aria-hidden="true">›</span> <a href="/tools/event-stream">Event Stream</a>{' '}
      <span aria-hidden="true">›</span> {last.href ? <a href={last.href}>{last.label}</a> : <span>{last.label}</span>}
    </nav>
  );
}

/** What an action just did, announced to screen readers; nothing without a message. */
export function Notice({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <p class="alert alert-success" role="status">
      {message}
    </p>
  );
}

/** A table in its card, scrolling inside it when too wide. */
export function Table({ class: extra, children }: { class?: string; children?: Child }) {
  return (
    <div class="table-wrap">
      <table class={extra ? `table ${extra}` : 'table'}>{children}</table>
    </div>
  );
}
