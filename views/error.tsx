export interface ErrorPageProps {
  status: number;
  title: string;
  detail: string;
}

/** A whole-page error: 403, 404, 500. */
export function ErrorPage({ status, title, detail }: ErrorPageProps) {
  return (
    <section class="error-page" aria-labelledby="error-title">
      <p class="error-status">{status}</p>
      <h1 id="error-title">{title}</h1>
      <p class="error-detail">{detail}</p>
      <p>
        <a href="/tools/event-stream">Back to Event Stream</a>
      </p>
    </section>
  );
}
