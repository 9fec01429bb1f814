// What reports must remember across restarts, in the 'reports' sublevel (this module owns it):
//   run!<report key>         → RunRecord   the slot a scheduled report last ran for, so a restart
//                                           between two slots sends nothing twice
//   used!<token id>          → UsedToken   action links already used, kept until they expire, so a
//                                           destructive link works once
//   sub!<address>            → Subscription a mailbox's own choice about its digest
//   notice!<kind>!<domain>   → number      when a notice of that kind last went out (rate limit)
//   search!<id>              → SavedSearch  a message-log search mailed on a schedule (saved-searches.ts);
//                                           its run record is run!search!<id>
// Writes that guard against sending twice are synced: the record must survive the crash it protects against.
import type { Store, Sublevel } from '../store/store.ts';
import type { SavedSearch } from './saved-searches.ts';

export interface RunRecord {
  /** The scheduled slot (ms) this report last ran for. */
  slot: number;
  /** When it ran (ms). */
  ranAt: number;
  /** Mails sent in that run. */
  sent: number;
}
export interface UsedToken { usedAt: number; expiresAt: number; by: string }
export interface Subscription { subscribed: boolean; at: number }
type Value = RunRecord | UsedToken | Subscription | SavedSearch | number;

export class ReportStore {
  #db: Sublevel<Value>;
  constructor(store: Store) {
    this.#db = store.sublevel<Value>('reports');
  }

  async lastRun(report: string): Promise<RunRecord | undefined> {
    const v = await this.#db.get(`run!${report}`);
    return typeof v === 'object' && v && 'slot' in v ? v : undefined;
  }

  async recordRun(report: string, run: RunRecord): Promise<void> {
    await this.#db.put(`run!${report}`, run, { sync: true });
  }

  /**
   * Marks a token used; false when it was used already. Callers serialise per token (the link
   * handler does), so check-then-put cannot interleave for one token.
   */
  async useToken(id: string, expiresAt: number, by: string, now: number): Promise<boolean> {
    const key = `used!${id}`;
    if (await this.#db.get(key)) return false;
    await this.#db.put(key, { usedAt: now, expiresAt, by }, { sync: true });
    return true;
  }

  async tokenUsed(id: string): Promise<UsedToken | undefined> {
    const v = await this.#db.get(`used!${id}`);
    return typeof v === 'object' && v && 'usedAt' in v ? v : undefined;
  }

  /** Forgets used tokens past their expiry (they are refused for being expired by then). */
  async pruneTokens(now: number): Promise<number> {
    const ops: { type: 'del'; key: string }[] = [];
    for await (const [key, v] of this.#db.iterator({ gte: 'used!', lt: 'used!~' })) {
      if (typeof v === 'object' && 'expiresAt' in v && v.expiresAt < now) ops.push({ type: 'del', key });
    }
    if (ops.length) await this.#db.batch(ops);
    return ops.length;
  }

  async subscription(address: string): Promise<Subscription | undefined> {
    const v = await this.#db.get(`sub!${address.toLowerCase()}`);
    return typeof v === 'object' && v && 'subscribed' in v ? v : undefined;
  }

  async setSubscription(address: string, subscribed: boolean, now: number): Promise<void> {
    await this.#db.put(`sub!${address.toLowerCase()}`, { subscribed, at: now }, { sync: true });
  }

  /** Takes the notice slot for kind and domain if the last one is older than `intervalMs`. */
  async takeNotice(kind: string, domain: string, intervalMs: number, now: number): Promise<boolean> {
    const key = `notice!${kind}!${domain.toLowerCase()}`;
    const last = await this.#db.get(key);
    if (typeof last === 'number' && now - last < intervalMs) return false;
    await this.#db.put(key, now, { sync: true });
    return true;
  }

  async savedSearches(): Promise<SavedSearch[]> {
    const out: SavedSearch[] = [];
    for await (const v of this.#db.values({ gte: 'search!', lt: 'search!~' })) if (typeof v === 'object' && 'query' in v) out.push(v);
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  async savedSearch(id: string): Promise<SavedSearch | undefined> {
    const v = await this.#db.get(`search!${id}`);
    return typeof v === 'object' && v && 'query' in v ? v : undefined;
  }

  async putSavedSearch(s: SavedSearch): Promise<void> {
    await this.#db.put(`search!${s.id}`, s, { sync: true });
  }

  /** Deletes a saved search with its run record. */
  async deleteSavedSearch(id: string): Promise<void> {
    await this.#db.batch([{ type: 'del', key: `search!${id}` }, { type: 'del', key: `run!search!${id}` }], { sync: true });
  }
}
