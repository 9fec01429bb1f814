// The audit log: who changed what, when, from where. One record per successful change (the guard
// writes it for every state-changing API request) and per security event (failed or locked
// logins, setup claims). Keys sort by time (`<ISO time>!<sequence>`) in the `audit` sublevel.
import type { Store, Sublevel } from '../store/store.ts';
import { domainOf, type Principal, type Role } from './roles.ts';

export interface AuditRecord {
  at: string;
  actor: string;
  role?: string;
  ip: string;
  action: string;
  /**
   * The domains the change concerned, so domain admins can read their own part of the log. A
   * record without any is about the appliance as a whole (or nobody in particular): admin only.
   */
  domains?: string[];
  detail?: Record<string, unknown>;
}

export interface AuditQuery {
  limit: number;
  /** The key of the last record of the previous page: the page starts just before it. */
  after?: string;
  /** Substring of the actor (case-insensitive). */
  actor?: string;
  /** Substring of what was done: the action, its details or its domains (case-insensitive). */
  action?: string;
  /** ISO instants: from (inclusive) and to (exclusive). */
  from?: string;
  to?: string;
  /** Which records the caller may see. */
  visible: (r: AuditRecord) => boolean;
}

/** Most records one page reads before it stops and says where to resume. */
const SCAN_CAP = 20_000;

/** The domains an account's own actions (logins, its password, its tokens) concern. */
export function accountDomains(u: { role: Role; username: string; domains: string[] }): string[] | undefined {
  if (u.role === 'user') return [domainOf(u.username)];
  return u.role === 'domain-admin' && u.domains.length ? u.domains.map((d) => d.toLowerCase()) : undefined;
}

/**
 * The admin reads everything; a domain admin a record only when every domain it concerns is
 * theirs (a change touching another domain too would tell them about it); nobody else any.
 */
export function auditVisibility(p: Principal): (r: AuditRecord) => boolean {
  if (p.role === 'admin') return () => true;
  if (p.role !== 'domain-admin') return () => false;
  return (r) => Boolean(r.domains?.length) && r.domains!.every((d) => p.domains.includes(d.toLowerCase()));
}

const contains = (hay: string, needle: string | undefined) => !needle || hay.toLowerCase().includes(needle.toLowerCase());
const what = (r: AuditRecord) => `${JSON.stringify(r.detail ?? {})} ${(r.domains ?? []).join(' ')}`;

export class AuditLog {
  #db: Sublevel<AuditRecord>;
  #seq = 0;
  readonly #scanCap: number;
  constructor(store: Store, opts: { scanCap?: number } = {}) {
    this.#db = store.sublevel<AuditRecord>('audit');
    this.#scanCap = opts.scanCap ?? SCAN_CAP;
  }

  /** Whether `position` has the shape of a record's key (`<ISO time>!<6-digit sequence>`), as `search` resumes from. */
  static isPosition(position: string): boolean {
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z!\d{6}$/.test(position);
  }

  async record(entry: Omit<AuditRecord, 'at'>): Promise<void> {
    const at = new Date().toISOString();
    this.#seq = (this.#seq + 1) % 1_000_000;
    await this.#db.put(`${at}!${String(this.#seq).padStart(6, '0')}`, { at, ...entry }, { sync: true });
  }

  /**
   * Newest first. `resume` (a key) is set when more may follow: after a full page, or when the
   * scan cap stopped a search whose filters matched little, so one request never reads the whole log.
   */
  async search(q: AuditQuery): Promise<{ items: AuditRecord[]; resume?: string }> {
    // ISO instants and keys sort alike, so the date range narrows the walk itself.
    const upper = [q.after, q.to].filter((x): x is string => Boolean(x)).sort()[0];
    const range = { reverse: true, ...(upper ? { lt: upper } : {}), ...(q.from ? { gte: q.from } : {}) };
    const items: AuditRecord[] = [];
    let scanned = 0;
    let last: string | undefined;
    let full: string | undefined;
    for await (const [key, r] of this.#db.iterator(range)) {
      if (scanned++ === this.#scanCap) return { items, resume: full ?? last };
      last = key;
      if (!q.visible(r) || !contains(r.actor, q.actor) || !(contains(r.action, q.action) || contains(what(r), q.action))) continue;
      // A full page looks one match further, so that `resume` never leads to an empty page.
      if (full !== undefined) return { items, resume: full };
      items.push(r);
      if (items.length === q.limit) full = key;
    }
    return { items };
  }
}
