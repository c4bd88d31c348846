import type { Child } from 'hono/jsx';

/** Error text for each form field that has one, keyed by the field's name. */
export type FieldErrors = Partial<Record<string, string>>;

/**
 * A labelled input with its error next to it. The error is linked with
 * aria-describedby so screen readers announce it with the field.
 */
export function Field(props: {
  name: string;
  label: string;
  errors: FieldErrors;
  hint?: Child;
  children: (attributes: { id: string; name: string; 'aria-invalid'?: 'true'; 'aria-describedby'?: string }) => Child;
}) {
  const error = props.errors[props.name];
  const describedBy = [error ? `${props.name}-error` : undefined, props.hint ? `${props.name}-hint` : undefined]
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
      {props.hint ? (
        <p class="hint" id={`${props.name}-hint`}>
          {props.hint}
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
