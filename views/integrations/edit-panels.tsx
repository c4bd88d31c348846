/*
 * The Edit page's side panels: Test connection and the signing secret,
 * each acting in place through htmx; their fragments are what the routes answer.
 */

/** The webhook signing secret: revealed or rotated on demand only. */
export function SigningSecretPanel({ id }: { id: string }) {
  const base = `/tools/event-stream/${encodeURIComponent(id)}/signing-secret`;
  return (
    <section class="card" aria-labelledby="signing-title">
      <h2 id="signing-title">Signing secret</h2>
      <p class="hint">
        Deliveries carry Standard Webhooks signatures made with this secret, so receivers can check they came from
        Tideway.
      </p>
      <div id="signing-secret" class="secret-box">
        <SigningSecretValue />
      </div>
      <div class="actions-row">
        <button type="button" class="button" hx-post={base} hx-target="#signing-secret">
          Reveal signing secret
        </button>
        <button
          type="button"
          class="button"
          hx-post={`${base}/rotate`}
          hx-target="#signing-secret"
          hx-confirm="Rotate the signing secret? The old one keeps signing alongside the new one for 24 hours."
        >
          Rotate
        </button>
      </div>
    </section>
  );
}

/** The secret when revealed, else a placeholder. */
export function SigningSecretValue({ secret, rotated }: { secret?: string; rotated?: boolean }) {
  if (!secret) return <span class="mono muted">whsec_••••••••</span>;
  return (
    <>
      <code class="mono" id="signing-secret-value">
        {secret}
      </code>
      {rotated ? <p class="hint">New secret. The previous one keeps signing alongside it for 24 hours.</p> : null}
    </>
  );
}

/** Test connection: sends a signed test event (webhook) and shows what came back. */
export function ConnectionTestPanel({ id }: { id: string }) {
  return (
    <section class="card" aria-labelledby="test-title">
      <h2 id="test-title">Test connection</h2>
      <p class="hint">
        Webhook: sends a signed tideway.test event, as a delivery would, and shows the answer. S3: writes and deletes a
        small test object under the key prefix.
      </p>
      <div class="actions-row">
        <button
          type="button"
          class="button"
          hx-post={`/tools/event-stream/${encodeURIComponent(id)}/test`}
          hx-target="#connection-test"
        >
          Test connection
        </button>
      </div>
      <div id="connection-test" aria-live="polite"></div>
    </section>
  );
}

export function ConnectionTestResult({
  result,
}: {
  result: { ok: boolean; summary: string; response_body?: string | null };
}) {
  return (
    <div class={`alert ${result.ok ? 'alert-success' : 'alert-error'}`} role="status">
      <p>{result.summary}</p>
      {result.response_body ? (
        <pre class="mono response-excerpt" tabindex={0}>
          {result.response_body.slice(0, 2000)}
        </pre>
      ) : null}
    </div>
  );
}
