/** A time as operators read it: `2026-11-30 10:00:00 UTC`. */
export function formatTime(value: Date | null | undefined): string {
  if (!value) return '—';
  return `${value.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
