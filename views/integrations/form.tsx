import type { EventTypeRow } from '../../src/db/database.ts';
import { ErrorSummary, Field, type FieldErrors } from '../components/field.tsx';
import { Breadcrumbs } from '../components/page.tsx';
import { ConnectionTestPanel, SigningSecretPanel } from './edit-panels.tsx';
import { IntegrationHeader, type IntegrationSummary } from './home.tsx';

/*
 * New Integration and Edit Integration Details: one form in two modes. It
 * works without JavaScript (a plain POST, re-rendered with errors next to
 * their fields); CSS shows the end date for temporary integrations and the
 * fields of the chosen target; public/app.js adds the events search.
 * Secrets are never written back into the page.
 */

export interface IntegrationFormValues {
  id: string;
  integration_type: 'permanent' | 'temporary';
  starts_at: string;
  ends_at: string;
  entities: string[];
  events: string[];
  target: 'webhook' | 's3';
  ordering: 'unordered' | 'by_domain_entity';
  callback_url: string;
  aws_access_key_id: string;
  aws_region: string;
  bucket: string;
  key_prefix: string;
  endpoint: string;
  compression: 'none' | 'gzip' | 'zstd';
  format: 'ndjson' | 'parquet';
  /** Empty: NewStore's key. */
  key_template: string;
}

export interface IntegrationFormProps {
  mode: 'new' | 'edit';
  values: IntegrationFormValues;
  errors: FieldErrors;
  catalog: EventTypeRow[];
  csrfToken: string;
  /** Edit mode: the stored secrets' masks, e.g. { api_key: '••••3f9a' }. */
  masks?: { api_key?: string | null; aws_secret_access_key?: string | null };
  keyTemplate: KeyTemplateHelp;
  /** Edit mode: the integration's shared header (its home). */
  summary?: IntegrationSummary;
}

/** What the key template field explains: the default, the placeholders, and an example key for what is typed. */
export interface KeyTemplateHelp {
  defaultTemplate: string;
  batchPlaceholders: readonly string[];
  eventPlaceholders: readonly string[];
  /** The key the next object would have, or why the template cannot be used. */
  example: string;
}

/** Each field's label and focusable element, for the error summary's links. */
const FIELD_LINKS: Record<string, [string, string]> = {
  id: ['Integration ID', '#id'],
  integration_type: ['Integration Type', '#type-permanent'],
  starts_at: ['Start', '#starts_at'],
  ends_at: ['End', '#ends_at'],
  events: ['Events', '#event-search'],
  target: ['Integration Target', '#target-webhook'],
  callback_url: ['Callback URL', '#callback_url'],
  api_key: ['API Key', '#api_key'],
  ordering: ['Delivery order', '#ordering-unordered'],
  aws_access_key_id: ['AWS Access Key', '#aws_access_key_id'],
  aws_secret_access_key: ['AWS Secret Key', '#aws_secret_access_key'],
  aws_region: ['AWS Region', '#aws_region'],
  bucket: ['S3 Bucket Name', '#bucket'],
  key_prefix: ['Key Prefix', '#key_prefix'],
  endpoint: ['Endpoint', '#endpoint'],
  format: ['Format', '#format'],
  compression: ['Compression', '#compression'],
  key_template: ['Object key template', '#key_template'],
};

const placeholderList = (names: readonly string[]) =>
  names.map((name, i) => (
    <>
      {i > 0 ? ', ' : ''}
      <code>{`{${name}}`}</code>
    </>
  ));

export function IntegrationFormPage(props: IntegrationFormProps) {
  const { mode, values } = props;
  const title = mode === 'new' ? 'New Integration' : `Edit ${values.id}`;
  return (
    <>
      {props.summary ? (
        <IntegrationHeader summary={props.summary} current="settings" />
      ) : (
        <>
          <Breadcrumbs last={{ label: mode === 'new' ? 'New Integration' : 'Edit Integration Details' }} />
          <h1>{title}</h1>
        </>
      )}
      <IntegrationForm {...props} />
      {mode === 'edit' ? <ConnectionTestPanel id={values.id} /> : null}
      {mode === 'edit' ? <SigningSecretPanel id={values.id} /> : null}
    </>
  );
}

function IntegrationForm({ mode, values, errors, catalog, csrfToken, masks, keyTemplate }: IntegrationFormProps) {
  const action =
    mode === 'new' ? '/tools/event-stream/new' : `/tools/event-stream/${encodeURIComponent(values.id)}/edit`;
  return (
    <form method="post" action={action} class="form integration-form" novalidate>
      <input type="hidden" name="_csrf" value={csrfToken} />
      <ErrorSummary errors={errors} fields={FIELD_LINKS} />

      <fieldset class="card">
        <legend>Integration Details</legend>
        {mode === 'new' ? (
          <Field
            name="id"
            label="Integration ID"
            errors={errors}
            hint="Lower-case letters, digits, - and _; 3 to 64 characters. It cannot be changed later."
          >
            {(attributes) => (
              <input {...attributes} type="text" value={values.id} required autocomplete="off" spellcheck={false} />
            )}
          </Field>
        ) : (
          <p class="readonly">
            <span class="readonly-label">Integration ID</span> <span class="mono">{values.id}</span>
          </p>
        )}
        {mode === 'new' ? (
          <fieldset class={`field radio-group${errors.integration_type ? ' field-invalid' : ''}`}>
            <legend>Integration Type</legend>
            <label>
              <input
                type="radio"
                name="integration_type"
                value="permanent"
                id="type-permanent"
                checked={values.integration_type === 'permanent'}
              />{' '}
              Permanent
              <span class="hint">no end date</span>
            </label>
            <label>
              <input
                type="radio"
                name="integration_type"
                value="temporary"
                id="type-temporary"
                checked={values.integration_type === 'temporary'}
              />{' '}
              Temporary
              <span class="hint">stops consuming events at its end date</span>
            </label>
            {errors.integration_type ? <p class="field-error">{errors.integration_type}</p> : null}
          </fieldset>
        ) : (
          <p class="readonly">
            <span class="readonly-label">Integration Type</span>{' '}
            {values.integration_type === 'temporary'
              ? `Temporary, ends ${values.ends_at.replace('T', ' ')} UTC`
              : 'Permanent'}
          </p>
        )}
        {mode === 'new' ? (
          <div class="field-row">
            <Field
              name="starts_at"
              label="Start (UTC, optional)"
              errors={errors}
              hint="Empty: now. A past time replays every stored matching event since then."
            >
              {(attributes) => <input {...attributes} type="datetime-local" step="1" value={values.starts_at} />}
            </Field>
            <div class="ends-at">
              <Field name="ends_at" label="End (UTC)" errors={errors} hint="Required for a temporary integration.">
                {(attributes) => <input {...attributes} type="datetime-local" step="1" value={values.ends_at} />}
              </Field>
            </div>
          </div>
        ) : null}
      </fieldset>

      <EventTree catalog={catalog} values={values} error={errors.events} />

      <fieldset class="card">
        <legend>Integration Target</legend>
        {mode === 'new' ? (
          <fieldset class="field radio-group target-choice">
            <legend>Send events to</legend>
            <label>
              <input
                type="radio"
                name="target"
                value="webhook"
                id="target-webhook"
                checked={values.target === 'webhook'}
              />{' '}
              Webhook
            </label>
            <label>
              <input type="radio" name="target" value="s3" id="target-s3" checked={values.target === 's3'} /> AWS S3
            </label>
            {errors.target ? <p class="field-error">{errors.target}</p> : null}
          </fieldset>
        ) : (
          <input type="hidden" name="target" value={values.target} />
        )}
        <div
          class={`target-fields target-webhook${mode === 'edit' && values.target !== 'webhook' ? ' is-hidden' : ''}`}
        >
          <Field name="callback_url" label="Callback URL" errors={errors}>
            {(attributes) => (
              <input
                {...attributes}
                type="url"
                value={values.callback_url}
                placeholder="https://erp.example.com/hooks/tideway"
              />
            )}
          </Field>
          <Field
            name="api_key"
            label="API Key (optional)"
            errors={errors}
            hint={secretHint(mode, masks?.api_key, 'Sent as "Authorization: Bearer <key>".')}
            keepHint
          >
            {(attributes) => <input {...attributes} type="password" value="" autocomplete="new-password" />}
          </Field>
          <fieldset class={`field radio-group${errors.ordering ? ' field-invalid' : ''}`}>
            <legend>Delivery order</legend>
            <label>
              <input
                type="radio"
                name="ordering"
                value="unordered"
                id="ordering-unordered"
                checked={values.ordering !== 'by_domain_entity'}
              />{' '}
              Any order — fastest
            </label>
            <label>
              <input
                type="radio"
                name="ordering"
                value="by_domain_entity"
                id="ordering-by-domain-entity"
                checked={values.ordering === 'by_domain_entity'}
              />{' '}
              In order per domain entity
              <span class="hint">
                one order’s events one at a time, as published; a failing one holds back only its own entity
              </span>
            </label>
            {errors.ordering ? <p class="field-error">{errors.ordering}</p> : null}
          </fieldset>
        </div>
        <div class={`target-fields target-s3${mode === 'edit' && values.target !== 's3' ? ' is-hidden' : ''}`}>
          <div class="field-row">
            <Field name="aws_access_key_id" label="AWS Access Key" errors={errors}>
              {(attributes) => (
                <input
                  {...attributes}
                  type="text"
                  value={values.aws_access_key_id}
                  autocomplete="off"
                  spellcheck={false}
                />
              )}
            </Field>
            <Field
              name="aws_secret_access_key"
              label="AWS Secret Key"
              errors={errors}
              hint={secretHint(mode, masks?.aws_secret_access_key)}
              keepHint
            >
              {(attributes) => <input {...attributes} type="password" value="" autocomplete="new-password" />}
            </Field>
          </div>
          <div class="field-row">
            <Field name="aws_region" label="AWS Region" errors={errors}>
              {(attributes) => (
                <input {...attributes} type="text" value={values.aws_region} placeholder="eu-central-1" />
              )}
            </Field>
            <Field name="bucket" label="S3 Bucket Name" errors={errors}>
              {(attributes) => <input {...attributes} type="text" value={values.bucket} />}
            </Field>
          </div>
          <div class="field-row">
            <Field name="key_prefix" label="Key Prefix" errors={errors}>
              {(attributes) => (
                <input {...attributes} type="text" value={values.key_prefix} placeholder="tideway/events" />
              )}
            </Field>
            <Field
              name="endpoint"
              label="Endpoint (optional)"
              errors={errors}
              hint="Only for S3-compatible stores such as MinIO or R2."
            >
              {(attributes) => (
                <input {...attributes} type="url" value={values.endpoint} placeholder="https://minio.internal:9000" />
              )}
            </Field>
          </div>
          <div class="field-row">
            <Field name="format" label="Format" errors={errors}>
              {(attributes) => (
                <select {...attributes}>
                  <option value="ndjson" selected={values.format === 'ndjson'}>
                    NDJSON (one event per line)
                  </option>
                  <option value="parquet" selected={values.format === 'parquet'}>
                    Parquet (one row per event, .parquet)
                  </option>
                </select>
              )}
            </Field>
            <Field name="compression" label="Compression" errors={errors}>
              {(attributes) => (
                <select {...attributes}>
                  <option value="none" selected={values.compression === 'none'}>
                    None (.export; Parquet: uncompressed pages)
                  </option>
                  <option value="gzip" selected={values.compression === 'gzip'}>
                    gzip (.export.gz; Parquet: inside the file)
                  </option>
                  <option value="zstd" selected={values.compression === 'zstd'}>
                    zstd (.export.zst; Parquet: inside the file)
                  </option>
                </select>
              )}
            </Field>
          </div>
          <Field
            name="key_template"
            label="Object key template (optional)"
            errors={errors}
            keepHint
            hint={
              <>
                Empty: NewStore’s key, <code>{keyTemplate.defaultTemplate}</code>. Per batch:{' '}
                {placeholderList(keyTemplate.batchPlaceholders)}; per event, one object per value:{' '}
                {placeholderList(keyTemplate.eventPlaceholders)}. Must hold <code>{'{batch_id}'}</code>.
                <br />
                Example key:{' '}
                <code data-key-example aria-live="polite">
                  {keyTemplate.example}
                </code>
              </>
            }
          >
            {(attributes) => (
              <input
                {...attributes}
                type="text"
                value={values.key_template}
                placeholder="{key_prefix}/event_name={event_name}/dt={yyyy}-{MM}-{dd}/{batch_id}"
                spellcheck={false}
                autocomplete="off"
              />
            )}
          </Field>
        </div>
      </fieldset>

      <div class="actions-row">
        <button type="submit" class="button button-primary">
          {mode === 'new' ? 'Create' : 'Save changes'}
        </button>
        <a class="button" href="/tools/event-stream">
          Cancel
        </a>
      </div>
    </form>
  );
}

function secretHint(mode: 'new' | 'edit', mask: string | null | undefined, extra = '') {
  if (mode === 'new') return extra || undefined;
  return `${mask ? `Stored: ${mask}. ` : 'None stored. '}Leave empty to keep it. ${extra}`.trim();
}

/**
 * Events grouped by entity: tick an entity for all its events (today's and
 * future ones), or single event types.
 */
function EventTree({
  catalog,
  values,
  error,
}: {
  catalog: EventTypeRow[];
  values: IntegrationFormValues;
  error?: string;
}) {
  const entities = [...new Set(catalog.map((type) => type.entity))];
  return (
    <fieldset
      class={`card event-tree${error ? ' field-invalid' : ''}`}
      aria-describedby={error ? 'events-error' : 'events-hint'}
    >
      <legend>Events</legend>
      <p class="hint" id="events-hint">
        Choose whole entities or single events. Choose nothing to receive every event.
      </p>
      <div class="field event-search">
        <label for="event-search">Search events</label>
        <input id="event-search" type="search" placeholder="e.g. fulfillment" autocomplete="off" data-event-search />
      </div>
      {error ? (
        <p class="field-error" id="events-error">
          {error}
        </p>
      ) : null}
      <div class="entities">
        {entities.map((entity) => {
          const types = catalog.filter((type) => type.entity === entity);
          const whole = values.entities.includes(entity);
          return (
            <fieldset class="entity" data-entity={entity}>
              <legend>
                <label>
                  <input type="checkbox" name="entities" value={entity} checked={whole} data-entity-toggle />{' '}
                  <span class="mono">{entity}</span> <span class="hint">all events</span>
                </label>
              </legend>
              <ul>
                {types.map((type) => (
                  <li data-event={type.name}>
                    <label title={type.description}>
                      <input
                        type="checkbox"
                        name="events"
                        value={type.name}
                        checked={whole || values.events.includes(type.name)}
                        disabled={whole}
                      />{' '}
                      <span class="mono">{type.name}</span>
                      {type.deprecated ? (
                        <span class="badge badge-warning">
                          deprecated{type.replaced_by ? `: use ${type.replaced_by}` : ''}
                        </span>
                      ) : null}
                    </label>
                  </li>
                ))}
              </ul>
            </fieldset>
          );
        })}
      </div>
    </fieldset>
  );
}
