/** Tools > Event Stream: the integration list (filled by the Integrations work). */
export function EventStreamPage() {
  return (
    <>
      <nav class="breadcrumbs" aria-label="Breadcrumb">
        <span>Tools</span> <span aria-hidden="true">›</span> <span>Event Stream</span>
      </nav>
      <h1>Event Stream</h1>
      <p class="lead">
        Integrations receive the platform's events: an HTTP webhook in near real time, or an S3 bucket in batches.
      </p>
      <section class="empty-state" aria-labelledby="empty-title">
        <h2 id="empty-title">No integrations yet</h2>
        <p>Managing integrations from this page is not available in this version yet.</p>
      </section>
    </>
  );
}
