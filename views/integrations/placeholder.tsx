/** A page whose content is not built yet: says so plainly. */
export function PlaceholderPage({ title, what }: { title: string; what: string }) {
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumb">
        <span>Tools</span> <span aria-hidden="true">›</span> <a href="/tools/event-stream">Event Stream</a>
      </nav>
      <h1>{title}</h1>
      <section class="empty-state">
        <h2>Not available yet</h2>
        <p>{what} will appear here in a coming version of Tideway.</p>
        <p>
          <a href="/tools/event-stream">Back to Event Stream</a>
        </p>
      </section>
    </>
  );
}
