// Server-side console sessions in the `sessions` sublevel. The browser holds only a random id in
// an HttpOnly cookie; the store keys the record by the id's SHA-256, so reading the database does
// not yield usable cookies. A session ends after `console.sessionIdleMinutes` without a request.
// Each session carries its own CSRF token, which state-changing requests must echo in a header.
// A setup session (first-boot wizard) has no user: it only proves the setup code was given.
// A mailbox session ("my quarantine", opened from a report's signed link) has no account either:
// it acts as the mailbox user of one address and ends at `expiresAt` whatever its use.
import { createHash, randomBytes } from 'node:crypto';
import { delOp, type BatchOp, type Store, type Sublevel } from '../store/store.ts';

export interface SessionRecord {
  userId?: string;
  setup?: boolean;
  /** The one mailbox a session opened from a report link may see (lower case). */
  mailbox?: string;
  language?: 'ja' | 'en';
  /** A hard end (ms), for sessions opened from a link. */
  expiresAt?: number;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

const TOUCH_EVERY_MS = 30_000;

export const hashId = (id: string) => createHash('sha256').update(id).digest('base64url');

export class SessionStore {
  #db: Sublevel<SessionRecord>;
  #idleMs: () => number;
  constructor(store: Store, idleMinutes: () => number) {
    this.#db = store.sublevel<SessionRecord>('sessions');
    this.#idleMs = () => idleMinutes() * 60_000;
  }

  /** Starts a session; returns the id for the cookie and the record. */
  async create(fields: { userId?: string; setup?: boolean; mailbox?: string; language?: 'ja' | 'en'; expiresAt?: number }): Promise<{ id: string; record: SessionRecord }> {
    const id = randomBytes(32).toString('base64url');
    const now = Date.now();
    const record: SessionRecord = { ...fields, csrf: randomBytes(24).toString('base64url'), createdAt: now, lastSeenAt: now };
    await this.#db.put(hashId(id), record);
    return { id, record };
  }

  /** The live session for a cookie value, refreshed; undefined when unknown or idle too long. */
  async get(id: string): Promise<SessionRecord | undefined> {
    const key = hashId(id);
    const record = await this.#db.get(key);
    if (!record) return undefined;
    const now = Date.now();
    if (now - record.lastSeenAt > this.#idleMs() || (record.expiresAt !== undefined && now >= record.expiresAt)) {
      await this.#db.del(key);
      return undefined;
    }
    if (now - record.lastSeenAt > TOUCH_EVERY_MS) {
      record.lastSeenAt = now;
      await this.#db.put(key, record);
    }
    return record;
  }

  async end(id: string): Promise<void> {
    await this.#db.del(hashId(id));
  }

  /**
   * The batch operations that end every session of one user, optionally but one, to commit with
   * the account's change (new password, disabled, deleted: UserStore).
   */
  async endAllForOps(userId: string, exceptId?: string): Promise<BatchOp[]> {
    const keep = exceptId ? hashId(exceptId) : undefined;
    const ops: BatchOp[] = [];
    for await (const [key, value] of this.#db.iterator()) {
      if (value.userId === userId && key !== keep) ops.push(delOp(this.#db, key));
    }
    return ops;
  }

  /** Ends every setup session (the wizard is finished). */
  async endSetupSessions(): Promise<void> {
    const ops: { type: 'del'; key: string }[] = [];
    for await (const [key, value] of this.#db.iterator()) if (value.setup) ops.push({ type: 'del', key });
    if (ops.length) await this.#db.batch(ops);
  }

  /** Deletes idle sessions; run periodically so abandoned sessions do not pile up. */
  async sweep(): Promise<number> {
    const limit = Date.now() - this.#idleMs();
    const ops: { type: 'del'; key: string }[] = [];
    const now = Date.now();
    for await (const [key, value] of this.#db.iterator()) if (value.lastSeenAt < limit || (value.expiresAt ?? Infinity) <= now) ops.push({ type: 'del', key });
    if (ops.length) await this.#db.batch(ops);
    return ops.length;
  }
}
