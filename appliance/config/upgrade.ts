// Stored configurations written by earlier versions, brought up to rules added since, so a box
// that was running keeps starting after an update instead of refusing its own configuration.
// Only what a later rule made invalid is changed, and each change is said in the daemon's log.
import { HOST_NAME, qualifiedHostname } from './patterns.ts';

/** The stored document with earlier versions' values made valid, and what was changed. */
export function upgradeStoredConfig(stored: unknown): { document: unknown; changes: string[] } {
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) return { document: stored, changes: [] };
  const doc = { ...(stored as Record<string, unknown>) };
  const changes: string[] = [];
  // Host names had to be fully qualified from 0.1 on; a single label (the image's `mailmoat`) is
  // qualified the way a fresh box's default is, until the admin names the box.
  const host = doc.hostname;
  if (typeof host === 'string' && /^[a-z0-9-]{1,63}$/i.test(host) && !new RegExp(HOST_NAME).test(host)) {
    doc.hostname = qualifiedHostname(host);
    changes.push(`host name "${host}" is not fully qualified; using "${doc.hostname}" until it is set in System or the configuration`);
  }
  return { document: doc, changes };
}
