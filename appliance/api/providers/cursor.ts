// Resume points for the paged searches (quarantine, message log, audit log). A cursor names only a position
// in the index a search walks — never a filter or a scope — so whatever a caller puts in one, the
// search that resumes from it applies the caller's own scope and filters again. It is opaque to
// clients (base64url) and checked strictly on the way in: anything that is not a position of the
// right kind is a 400, not a silent restart from the top. Which positions are valid is the word of
// the module that owns the index (its keys' shape is its own business), asked here.
import { MessageLog } from '../../logsearch/message-log.ts';
import { Quarantine } from '../../quarantine/quarantine-store.ts';
import { AuditLog } from '../audit.ts';
import { ApiError } from '../errors.ts';

const POSITIONS = {
  quarantine: Quarantine.isPosition,
  log: MessageLog.isPosition,
  audit: AuditLog.isPosition,
};
export type CursorKind = keyof typeof POSITIONS;

export function encodeCursor(kind: CursorKind, position: string): string {
  return Buffer.from(`${kind}:${position}`).toString('base64url');
}

export function decodeCursor(kind: CursorKind, cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const position = text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : '';
  if (!POSITIONS[kind](position)) throw new ApiError(400, 'bad-cursor', 'api.bad-cursor');
  return position;
}
