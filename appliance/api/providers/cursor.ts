// Resume points for the paged searches (quarantine, message log, audit log). A cursor names only a position
// in the index a search walks — never a filter or a scope — so whatever a caller puts in one, the
// search that resumes from it applies the caller's own scope and filters again. It is opaque to
// clients (base64url) and checked strictly on the way in: anything that is not a position of the
// right kind is a 400, not a silent restart from the top.
import { ApiError } from '../errors.ts';

const SHAPES = {
  // <13-digit ms>!<quarantine id>, as in the quarantine's index keys.
  quarantine: /^\d{13}![A-Za-z0-9._-]{1,200}$/,
  // A message log id (time-sortable).
  log: /^[A-Za-z0-9._-]{1,200}$/,
  // An audit log key: <ISO time>!<6-digit sequence>.
  audit: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z!\d{6}$/,
};
export type CursorKind = keyof typeof SHAPES;

export function encodeCursor(kind: CursorKind, position: string): string {
  return Buffer.from(`${kind}:${position}`).toString('base64url');
}

export function decodeCursor(kind: CursorKind, cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const position = text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : '';
  if (!SHAPES[kind].test(position)) throw new ApiError(400, 'bad-cursor', 'api.bad-cursor');
  return position;
}
