/**
 * A schema message ("is required", "must be an email address") as a sentence
 * to show under a form field ("Required.", "Must be an email address.").
 *
 * @example asSentence('must be at least 8 characters') // 'Must be at least 8 characters.'
 */
export function asSentence(message: string): string {
  const text = message.startsWith('is ') ? message.slice(3) : message;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.?!]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}
