// Stored configurations written by earlier versions, brought up to rules added since, so a box
// that was running keeps starting after an update instead of refusing its own configuration.
// Only what a later rule made invalid or moved is changed, and each change is said in the daemon's log.
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
  moveDomainGreylisting(doc, changes);
  return { document: doc, changes };
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * A domain's greylisting switch was a field of the domain until 0.1; it is a policy setting now
 * (so a mailbox can have its own, and the policy page shows where the value comes from). A value
 * the domain's policy already sets wins.
 */
function moveDomainGreylisting(doc: Record<string, unknown>, changes: string[]): void {
  if (!Array.isArray(doc.domains) || !doc.domains.some((d) => isRecord(d) && 'greylisting' in d)) return;
  const policy = isRecord(doc.policy) ? { ...doc.policy } : {};
  const byDomain = isRecord(policy.domains) ? { ...policy.domains } : {};
  doc.domains = doc.domains.map((d) => {
    if (!isRecord(d) || !('greylisting' in d)) return d;
    const { greylisting, ...rest } = d;
    const name = String(d.name);
    const own = isRecord(byDomain[name]) ? byDomain[name] : {};
    if (typeof greylisting === 'boolean' && own.greylisting === undefined) byDomain[name] = { ...own, greylisting };
    changes.push(`domain ${name}: its greylisting switch (${String(greylisting)}) is now the domain's policy setting policy.domains["${name}"].greylisting`);
    return rest;
  });
  policy.domains = byDomain;
  doc.policy = policy;
}
