/** A time as operators read it: `2026-11-30 10:00:00 UTC`. */
export function formatTime(value: Date | null | undefined): string {
  if (!value) return '—';
  return `${value.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * How long ago (or how soon) `value` is from `now`, in the largest unit that fits.
 *
 * @example relativeTime(new Date(Date.now() - 90_000), new Date()) // '2 min ago'
 */
export function relativeTime(value: Date, now: Date): string {
  const seconds = Math.round((value.getTime() - now.getTime()) / 1000);
  const magnitude = Math.abs(seconds);
  if (magnitude < 45) return seconds > 0 ? 'in a few seconds' : 'just now';
  const [amount, unit] =
    magnitude < 3_600
      ? [Math.round(magnitude / 60), 'min']
      : magnitude < 86_400
        ? [Math.round(magnitude / 3_600), 'h']
        : [Math.round(magnitude / 86_400), magnitude < 172_800 ? 'day' : 'days'];
  return seconds > 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
}

/**
 * A time shown relative to now ("5 min ago") with the absolute one on hover
 * and in `datetime`; public/app.js keeps the relative text current.
 */
export function Time({ value, now }: { value: Date | null | undefined; now: Date }) {
  if (!value) return <span>—</span>;
  return (
    <time class="time" datetime={value.toISOString()} title={formatTime(value)} data-relative>
      {relativeTime(value, now)}
    </time>
  );
}

/** An identifier with break opportunities after its separators, so that it wraps at `-`, `_` or `.` and never mid-word. */
export function BreakableId({ id }: { id: string }) {
  const parts = id.split(/(?<=[-_.])/);
  return (
    <>
      {parts.map((part, i) => (
        <>
          {part}
          {i < parts.length - 1 ? <wbr /> : null}
        </>
      ))}
    </>
  );
}
