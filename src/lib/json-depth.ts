/*
 * How deeply a JSON text nests, read off its characters without parsing:
 * strings are skipped (escapes included), each `{` or `[` goes one level
 * down. Deep nesting costs the parser and every pretty-printer after it
 * (indentation grows with the square of the depth), so ingest refuses it
 * before JSON.parse and the delivery page checks it before pretty-printing.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** The index of the quote that closes the string opened at `open` (native search; a quote after an odd run of backslashes is escaped). */
function endOfString(text: string, open: number): number {
  let quote = open;
  for (;;) {
    quote = text.indexOf('"', quote + 1);
    if (quote === -1) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
}

/** The deepest nesting of a JSON text: `1` for `{"a":1}`, `2` for `{"a":[1]}`, `0` for `1`. */
export function jsonDepth(text: string): number {
  return nestedDeeperThan(text, Number.POSITIVE_INFINITY, false).deepest;
}

/**
 * The values of a JSON text nested deeper than `limit`: of each element
 * when `elements` and the text is an array (the array itself not counted,
 * elements numbered from 0), else of the whole value (index undefined).
 */
export function nestedDeeperThan(
  text: string,
  limit: number,
  elements = true,
): { deepest: number; values: { index?: number; depth: number }[] } {
  let start = 0;
  while (start < text.length && text.charCodeAt(start) <= 0x20) start++;
  const batch = elements && text.charCodeAt(start) === OPEN_BRACKET;
  const base = batch ? 1 : 0;
  const values: { index?: number; depth: number }[] = [];
  let depth = 0;
  let deepestHere = 0;
  let deepest = 0;
  let index = 0;
  const close = () => {
    if (deepestHere > limit) values.push(batch ? { index, depth: deepestHere } : { depth: deepestHere });
    deepest = Math.max(deepest, deepestHere);
    deepestHere = 0;
  };
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth - base > deepestHere) deepestHere = depth - base;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (batch && depth === 0) close();
    } else if (c === COMMA && batch && depth === 1) {
      close();
      index++;
    }
  }
  if (!batch) close();
  return { deepest, values };
}
