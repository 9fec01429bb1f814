// The audit log: who changed what, when, from where. One record per successful change (the guard
// writes it for every state-changing API request) and per security event (failed or locked
// logins, setup claims). Keys sort by time (`<ISO time>!<sequence>`) in the `audit` sublevel.
import type { Store, Sublevel } from '../store/store.ts';

export interface AuditRecord {
  at: string;
  actor: string;
  role?: string;
  ip: string;
  action: string;
  /** The domains the change concerned, so domain admins can read their own part of the log. */
  domains?: string[];
  detail?: Record<string, unknown>;
}

export class AuditLog {
  #db: Sublevel<AuditRecord>;
  #seq = 0;
  constructor(store: Store) {
    this.#db = store.sublevel<AuditRecord>('audit');
  }

  async record(entry: Omit<AuditRecord, 'at'>): Promise<void> {
    const at = new Date().toISOString();
    this.#seq = (this.#seq + 1) % 1_000_000;
    await this.#db.put(`${at}!${String(this.#seq).padStart(6, '0')}`, { at, ...entry }, { sync: true });
  }

  /** Newest first, optionally only entries touching one of `domains`. */
  async list(opts: { limit: number; before?: string; domains?: string[] }): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    const range = opts.before ? { lt: opts.before, reverse: true } : { reverse: true };
    for await (const value of this.#db.values(range)) {
      if (opts.domains && !(value.domains ?? []).some((d) => opts.domains!.includes(d))) continue;
      out.push(value);
      if (out.length >= opts.limit) break;
    }
    return out;
  }
}
