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
  moveDomainContact(doc, changes);
  return { document: doc, changes };
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Moves a value each domain carried (`take` finds it and gives the domain without it) into the
 * domain's policy under `key`, unless the policy already sets it; says each move.
 */
function moveIntoDomainPolicy(doc: Record<string, unknown>, changes: string[], key: string,
  take: (d: Record<string, unknown>) => { value: unknown; rest: Record<string, unknown> } | undefined,
  say: (name: string, value: unknown, kept: boolean) => string): void {
  if (!Array.isArray(doc.domains)) return;
  const policy = isRecord(doc.policy) ? { ...doc.policy } : {};
  const byDomain = isRecord(policy.domains) ? { ...policy.domains } : {};
  let moved = false;
  doc.domains = doc.domains.map((d) => {
    const found = isRecord(d) ? take(d) : undefined;
    if (!found) return d;
    moved = true;
    const name = String(d.name);
    const own = isRecord(byDomain[name]) ? byDomain[name] : {};
    const kept = own[key] === undefined;
    if (kept) byDomain[name] = { ...own, [key]: found.value };
    changes.push(say(name, found.value, kept));
    return found.rest;
  });
  if (!moved) return;
  policy.domains = byDomain;
  doc.policy = policy;
}

/**
 * A domain's greylisting switch was a field of the domain until 0.1; it is a policy setting now
 * (so a mailbox can have its own, and the policy page shows where the value comes from). A value
 * the domain's policy already sets wins.
 */
function moveDomainGreylisting(doc: Record<string, unknown>, changes: string[]): void {
  moveIntoDomainPolicy(doc, changes, 'greylisting',
    (d) => { if (!('greylisting' in d)) return undefined; const { greylisting, ...rest } = d; return { value: greylisting, rest }; },
    (name, value) => `domain ${name}: its greylisting switch (${String(value)}) is now the domain's policy setting policy.domains["${name}"].greylisting`);
}

/**
 * A domain had two contacts until 0.1: `reports.contact` for its notices and its policy's
 * `contact` for quota warnings. The policy's is the one now; where both were set, it wins and the
 * dropped address is named.
 */
function moveDomainContact(doc: Record<string, unknown>, changes: string[]): void {
  moveIntoDomainPolicy(doc, changes, 'contact',
    (d) => {
      if (!isRecord(d.reports) || !('contact' in d.reports)) return undefined;
      const { contact, ...reports } = d.reports;
      return { value: contact, rest: { ...d, reports } };
    },
    (name, value, kept) => kept
      ? `domain ${name}: its notice contact ${String(value)} is now the domain's contact policy.domains["${name}"].contact`
      : `domain ${name}: its notice contact ${String(value)} was dropped; the domain's contact policy.domains["${name}"].contact now receives its notices too`);
}
