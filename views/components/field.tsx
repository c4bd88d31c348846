import type { Child } from 'hono/jsx';

/** Error text for each form field that has one, keyed by the field's name. */
export type FieldErrors = Partial<Record<string, string>>;

/**
 * A labelled input with its error next to it. The error is linked with
 * aria-describedby so screen readers announce it with the field. While the
 * field is in error its hint is left out (it usually states the rule the
 * error repeats), unless `keepHint` says the hint tells something else
 * (a stored secret's mask, an example).
 */
export function Field(props: {
  name: string;
  label: string;
  errors: FieldErrors;
  hint?: Child;
  keepHint?: boolean;
  children: (attributes: { id: string; name: string; 'aria-invalid'?: 'true'; 'aria-describedby'?: string }) => Child;
}) {
  const error = props.errors[props.name];
  const hint = error && !props.keepHint ? undefined : props.hint;
  const describedBy = [error ? `${props.name}-error` : undefined, hint ? `${props.name}-hint` : undefined]
    .filter(Boolean)
    .join(' ');
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={props.name}>{props.label}</label>
      {props.children({
        id: props.name,
        name: props.name,
        ...(error ? { 'aria-invalid': 'true' as const } : {}),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      })}
      {hint ? (
        <p class="hint" id={`${props.name}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={`${props.name}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * What a refused form says first: how many fields need attention, each a
 * link to its field. public/app.js moves the focus here when the page loads.
 *
 * @example <ErrorSummary errors={errors} fields={{ id: ['Integration ID', '#id'] }} />
 */
export function ErrorSummary({
  errors,
  fields,
}: {
  errors: FieldErrors;
  /** Each field's label and where its link goes. */
  fields: Record<string, [label: string, href: string]>;
}) {
  const entries = Object.entries(errors).filter((entry): entry is [string, string] => Boolean(entry[1]));
  if (entries.length === 0) return null;
  return (
    <div class="alert alert-error error-summary" role="alert" id="form-errors" tabindex={-1} data-error-summary>
      <p>
        {entries.length === 1 ? 'One field needs your attention.' : `${entries.length} fields need your attention.`}{' '}
        Nothing was saved.
      </p>
      <ul>
        {entries.map(([name, message]) => {
          const [label, href] = fields[name] ?? [name, `#${name}`];
          return (
            <li>
              <a href={href}>
                {label}: {message}
              </a>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
