/*
 * Opaque cursors for keyset paging on (time, id): the position of the last
 * row of a page, base64url-encoded. A cursor that does not decode is treated
 * as absent (the first page), never as an error deep in a query.
 */

export interface KeysetPosition {
  at: Date;
  id: string;
}

/** @example encodeKeyset({ at: row.created_at, id: row.id }) */
export function encodeKeyset(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.at.toISOString(), position.id])).toString('base64url');
}

/** The position in `cursor`, when it is one and its id has the expected shape. */
export function decodeKeyset(cursor: string | undefined, idShape: RegExp = /^\S+$/): KeysetPosition | undefined {
  if (!cursor) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    const time = new Date(String(at));
    if (Number.isNaN(time.getTime()) || typeof id !== 'string' || !idShape.test(id)) return undefined;
    return { at: time, id };
  } catch {
    return undefined;
  }
}
