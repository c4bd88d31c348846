import type { NotificationChannelRow } from '../../src/db/database.ts';
import type { SentNotice } from '../../src/db/read-models.ts';
import type { FieldErrors } from '../components/field.tsx';
import { Field } from '../components/field.tsx';
import { formatTime } from '../components/format.tsx';
import { Breadcrumbs, Notice, Table } from '../components/page.tsx';

/*
 * Tools › Event Stream › Notifications: the channels, a channel's page (its
 * recent notices and their outcome, Test, Delete), and the form for New
 * and Edit.
 */

const BASE = '/tools/event-stream/notifications';

export const NOTIFICATION_TYPE_LABELS: Record<string, string> = {
  'integration.stopped': 'Integration stopped by the system',
  'integration.completed': 'Temporary integration completed',
  'integration.backlog_delayed': 'Backlog delayed',
  'integration.backlog_recovered': 'Backlog recovered',
  'deliveries.failed': 'Deliveries failed (hourly digest)',
};

export interface ListedChannel {
  row: NotificationChannelRow;
  label: string;
}

function filterSummary(row: NotificationChannelRow): string {
  const integrations = row.filter_integrations.length === 0 ? 'all integrations' : row.filter_integrations.join(', ');
  const types = row.filter_types.length === 0 ? 'every notice' : row.filter_types.join(', ');
  return `${types}, ${integrations}`;
}

export function NotificationsPage(props: { channels: ListedChannel[]; notice?: string; emailAvailable: boolean }) {
  return (
    <>
      <Breadcrumbs last={{ label: 'Notifications' }} />
      <div class="page-header">
        <div>
          <h1>Notifications</h1>
          <p class="lead">
            Channels are told once per change when an integration is stopped by the system, completes, falls behind or
            recovers, and of deliveries that failed for good.
          </p>
        </div>
        <div class="actions-row">
          <a class="button button-primary" href={`${BASE}/new`}>
            New Channel
          </a>
        </div>
      </div>
      <Notice message={props.notice} />
      {props.emailAvailable ? null : <p class="hint">Email channels need SMTP_URL to be set on this deployment.</p>}
      {props.channels.length === 0 ? (
        <section class="empty-state" aria-labelledby="empty-title">
          <h2 id="empty-title">No notification channels yet</h2>
          <p>
            <a href={`${BASE}/new`}>Create the first channel</a>
          </p>
        </section>
      ) : (
        <Table class="channels">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Target</th>
              <th scope="col">Tells of</th>
              <th scope="col">Created at</th>
            </tr>
          </thead>
          <tbody>
            {props.channels.map(({ row, label }) => (
              <tr id={`channel-${row.id}`}>
                <td>{row.kind === 'webhook' ? (row.format === 'slack' ? 'Slack' : 'Webhook') : 'Email'}</td>
                <th scope="row" class="mono">
                  <a href={`${BASE}/${row.id}`}>{label}</a>
                </th>
                <td>{filterSummary(row)}</td>
                <td>{formatTime(row.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </>
  );
}

export function ChannelPage(props: {
  row: NotificationChannelRow;
  label: string;
  notices: SentNotice[];
  csrfToken: string;
  /** The signing secret in full, on the page that follows its creation only. */
  newSecret?: string;
  notice?: string;
}) {
  const { row } = props;
  const base = `${BASE}/${row.id}`;
  return (
    <>
      <Breadcrumbs last={{ label: 'Notifications', href: BASE }} />
      <div class="page-header">
        <div>
          <h1>{props.label}</h1>
          <p class="lead">
            {row.kind === 'email'
              ? `Email to ${row.email_to.join(', ')}`
              : `${row.format === 'slack' ? 'Slack' : 'Signed JSON'} webhook: `}
            {row.kind === 'webhook' ? <span class="mono">{row.url}</span> : null}
          </p>
          <p class="hint">Tells of {filterSummary(row)}.</p>
        </div>
        <div class="actions-row">
          <a class="button" href={`${base}/edit`}>
            Edit Channel
          </a>
          <form
            method="post"
            action={`${base}/delete`}
            hx-post={`${base}/delete`}
            hx-confirm="Delete this notification channel? What was queued for it is not sent."
          >
            <input type="hidden" name="_csrf" value={props.csrfToken} />
            <button type="submit" class="button button-danger-quiet">
              Delete
            </button>
          </form>
        </div>
      </div>
      <Notice message={props.notice} />
      {props.newSecret ? (
        <section class="card" aria-labelledby="secret-title" data-replace-url={base}>
          <h2 id="secret-title">Signing secret</h2>
          <p class="hint">
            Shown this once: receivers check the Standard Webhooks signature of every notice with it. Save it now.
          </p>
          <code class="mono" id="channel-signing-secret">
            {props.newSecret}
          </code>
        </section>
      ) : null}
      <section class="card" aria-labelledby="test-title">
        <h2 id="test-title">Test</h2>
        <p class="hint">Sends a notification.test notice now, as real notices go, and shows what came of it.</p>
        <form
          method="post"
          action={`${base}/test`}
          hx-post={`${base}/test`}
          hx-target="#channel-test"
          class="actions-row"
        >
          <input type="hidden" name="_csrf" value={props.csrfToken} />
          <button type="submit" class="button">
            Send test notification
          </button>
        </form>
        <div id="channel-test" aria-live="polite"></div>
      </section>
      <section aria-labelledby="recent-title">
        <h2 id="recent-title">Recent notifications</h2>
        {props.notices.length === 0 ? (
          <p class="muted">Nothing has been told on this channel yet.</p>
        ) : (
          <Table class="notices">
            <thead>
              <tr>
                <th scope="col">Occurred at</th>
                <th scope="col">Type</th>
                <th scope="col">Integration</th>
                <th scope="col">Reason</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {props.notices.map((sent) => (
                <tr data-status={sent.status}>
                  <td>{formatTime(sent.occurred_at)}</td>
                  <td class="mono">{sent.type}</td>
                  <td class="mono">
                    <a href={`/tools/event-stream/${encodeURIComponent(sent.integration_id)}/logs`}>
                      {sent.integration_id}
                    </a>
                  </td>
                  <td>{sent.reason}</td>
                  <td>{outcome(sent)}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </section>
    </>
  );
}

function outcome(sent: SentNotice): string {
  const tries = `${sent.attempts} ${sent.attempts === 1 ? 'attempt' : 'attempts'}`;
  if (sent.status === 'sent') return `Sent ${formatTime(sent.sent_at)} (${tries})`;
  if (sent.status === 'failed') return `Failed after ${tries}: ${sent.last_error ?? ''}`;
  if (sent.attempts === 0) return 'Pending';
  return `Retrying at ${formatTime(sent.next_attempt_at)} (${tries}; last: ${sent.last_error ?? ''})`;
}

export function ChannelTestResult({ result }: { result: { ok: boolean; summary: string } }) {
  return (
    <div class={`alert ${result.ok ? 'alert-success' : 'alert-error'}`} role="status">
      <p>{result.summary}</p>
    </div>
  );
}

export interface ChannelFormValues {
  kind: 'webhook' | 'email';
  url: string;
  format: 'json' | 'slack';
  to: string;
  integrations: string[];
  types: string[];
}

export function ChannelFormPage(props: {
  mode: 'new' | 'edit';
  id?: string;
  values: ChannelFormValues;
  errors: FieldErrors;
  integrationIds: string[];
  csrfToken: string;
}) {
  const { values, errors } = props;
  const action = props.mode === 'new' ? `${BASE}/new` : `${BASE}/${props.id}/edit`;
  return (
    <>
      <Breadcrumbs last={{ label: 'Notifications', href: BASE }} />
      <h1>{props.mode === 'new' ? 'New Channel' : 'Edit Channel'}</h1>
      {errors.form ? (
        <p class="alert alert-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <form method="post" action={action} class="card form" novalidate>
        <input type="hidden" name="_csrf" value={props.csrfToken} />
        {props.mode === 'new' ? (
          <fieldset class={`field radio-group${errors.kind ? ' field-invalid' : ''}`}>
            <legend>Kind</legend>
            <label>
              <input type="radio" name="kind" value="webhook" checked={values.kind === 'webhook'} /> Webhook
            </label>
            <label>
              <input type="radio" name="kind" value="email" checked={values.kind === 'email'} /> Email
            </label>
            {errors.kind ? <p class="field-error">{errors.kind}</p> : null}
          </fieldset>
        ) : (
          <input type="hidden" name="kind" value={values.kind} />
        )}
        {props.mode === 'new' || values.kind === 'webhook' ? (
          <>
            <Field name="url" label="Webhook URL" errors={errors} hint="Webhook channels: where notices are POSTed.">
              {(attributes) => <input type="url" {...attributes} value={values.url} />}
            </Field>
            <Field name="format" label="Format" errors={errors}>
              {(attributes) => (
                <select {...attributes}>
                  <option value="json" selected={values.format === 'json'}>
                    JSON (signed)
                  </option>
                  <option value="slack" selected={values.format === 'slack'}>
                    Slack incoming webhook
                  </option>
                </select>
              )}
            </Field>
          </>
        ) : null}
        {props.mode === 'new' || values.kind === 'email' ? (
          <Field
            name="to"
            label="Email recipients"
            errors={errors}
            hint="Email channels: addresses, separated by commas."
          >
            {(attributes) => <input type="text" {...attributes} value={values.to} />}
          </Field>
        ) : null}
        <fieldset class="field">
          <legend>Notify of</legend>
          <p class="hint">None ticked: every kind.</p>
          {Object.entries(NOTIFICATION_TYPE_LABELS).map(([type, label]) => (
            <label>
              <input type="checkbox" name="types" value={type} checked={values.types.includes(type)} /> {label}
            </label>
          ))}
          {errors.types ? <p class="field-error">{errors.types}</p> : null}
        </fieldset>
        <fieldset class="field">
          <legend>Integrations</legend>
          <p class="hint">None ticked: every integration, also those created later.</p>
          {props.integrationIds.map((id) => (
            <label>
              <input type="checkbox" name="integrations" value={id} checked={values.integrations.includes(id)} />{' '}
              <span class="mono">{id}</span>
            </label>
          ))}
        </fieldset>
        <div class="actions-row">
          <button type="submit" class="button button-primary">
            {props.mode === 'new' ? 'Create channel' : 'Save'}
          </button>
          <a class="button" href={props.mode === 'new' ? BASE : `${BASE}/${props.id}`}>
            Cancel
          </a>
        </div>
      </form>
    </>
  );
}
