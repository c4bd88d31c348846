/*
 * Pieces shared by the lists of deliveries (View Events, View Rejected
 * Events) and of logs: the filter fields and the Newer/Older pager.
 */

export interface EventFilterValues {
  domain_entity_id: string;
  status: string;
  event_name: string;
  from: string;
  to: string;
}

export const STATUS_LABELS: Record<string, string> = {
  pending: 'Pending',
  success: 'Success',
  failure: 'Failure',
  rejected: 'Rejected',
};

function Select({
  name,
  label,
  values,
  selected,
}: {
  name: string;
  label: string;
  values: [string, string][];
  selected: string;
}) {
  return (
    <div class="field">
      <label for={name}>{label}</label>
      <select id={name} name={name}>
        <option value="">Any</option>
        {values.map(([value, text]) => (
          <option value={value} selected={selected === value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Domain Entity ID, (Status,) Event type, From and To: the fields of a filter form. */
export function FilterFields({
  values,
  eventNames,
  withStatus,
}: {
  values: EventFilterValues;
  eventNames: string[];
  withStatus: boolean;
}) {
  return (
    <>
      <div class="field">
        <label for="domain_entity_id">Domain Entity ID</label>
        <input
          id="domain_entity_id"
          name="domain_entity_id"
          type="search"
          value={values.domain_entity_id}
          placeholder="e.g. an order ID"
          autocomplete="off"
        />
      </div>
      {withStatus ? (
        <Select name="status" label="Status" values={Object.entries(STATUS_LABELS)} selected={values.status} />
      ) : null}
      <Select
        name="event_name"
        label="Event type"
        values={eventNames.map((name) => [name, name])}
        selected={values.event_name}
      />
      <div class="field">
        <label for="from">From (UTC)</label>
        <input id="from" name="from" type="datetime-local" step="1" value={values.from} />
      </div>
      <div class="field">
        <label for="to">To (UTC)</label>
        <input id="to" name="to" type="datetime-local" step="1" value={values.to} />
      </div>
    </>
  );
}

/** Keyset paging links: Newer goes back towards the first page, Older on. */
export function Pager({
  newerHref,
  olderHref,
  olderLabel = 'Older →',
}: {
  newerHref?: string;
  olderHref?: string;
  olderLabel?: string;
}) {
  return (
    <nav class="pager" aria-label="Pages">
      {newerHref ? (
        <a class="button" href={newerHref}>
          ← Newer
        </a>
      ) : null}
      {olderHref ? (
        <a class="button" href={olderHref}>
          {olderLabel}
        </a>
      ) : null}
    </nav>
  );
}
