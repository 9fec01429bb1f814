// Console accounts and their API tokens: this module is the only one that reads or writes the
// `users` sublevel. `user!<id>` holds an account, `name!<lower-case name>` maps a login name to its
// id, `token!<hash>` holds a token. A mailbox user's login name is their address; admins and
// domain admins choose any name. Failed logins are counted on the record so a lock-out survives a
// restart. Deleting an account takes its tokens and sessions with it in one atomic batch.
//
// API tokens are for automation: `Authorization: Bearer mmt_…`. A token acts as its owner, narrowed
// by its own scope: read-only or read-write, and optionally a subset of the owner's domains. Only
// the token's SHA-256 is stored, so the secret is shown once, at creation. Revoking deletes the
// record; the next request with it is refused.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { delOp, putOp, type BatchOp, type Store, type Sublevel } from '../store/store.ts';
import type { Role } from './roles.ts';
import { hashPassword } from './passwords.ts';
import type { SessionStore } from './sessions.ts';

export interface UserRecord {
  id: string;
  username: string;
  role: Role;
  domains: string[];
  passwordHash: string;
  disabled: boolean;
  language: 'ja' | 'en';
  createdAt: string;
  failedLogins: number;
  lockedUntil?: string;
}

/** What the API shows of an account (never the hash). */
export type PublicUser = Omit<UserRecord, 'passwordHash' | 'failedLogins'> & { locked: boolean };

export function publicUser(u: UserRecord, now = Date.now()): PublicUser {
  const { passwordHash: _h, failedLogins: _f, ...rest } = u;
  return { ...rest, locked: Boolean(u.lockedUntil && Date.parse(u.lockedUntil) > now) };
}

export interface NewUser {
  username: string;
  role: Role;
  domains?: string[];
  password: string;
  language: 'ja' | 'en';
}

export interface TokenRecord {
  id: string;
  userId: string;
  name: string;
  access: 'read' | 'write';
  /** When set, the token reaches only these of its owner's domains. */
  domains?: string[];
  createdAt: string;
  lastUsedAt?: string;
}

const TOKEN_PREFIX = 'mmt_';
const hashToken = (secret: string) => createHash('sha256').update(secret).digest('base64url');

const watchers = new WeakMap<Store, Set<() => Promise<void>>>();

export class UserStore {
  #store: Store;
  #db: Sublevel<unknown>;
  readonly tokens: TokenStore;
  constructor(store: Store) {
    this.#store = store;
    this.#db = store.sublevel<unknown>('users');
    this.tokens = new TokenStore(this.#db, () => this.#changed());
  }

  /**
   * Calls `listener` after every change of who can read which domains — an account or token created
   * or removed, an account saved with another role or other domains — whichever UserStore made it
   * (the console, the local API and the daemon each have one), and the change resolves when the
   * listener has: the statistics follow an account from the moment it is saved. Saves that change
   * nothing of that (a failed log-in's count, a password, a language) tell no one, so a box with
   * thousands of accounts does not re-read them all at each log-in. The listener reports its own
   * failures. Returns the function that stops it.
   */
  static watch(store: Store, listener: () => Promise<void>): () => void {
    const set = watchers.get(store) ?? new Set();
    watchers.set(store, set);
    set.add(listener);
    return () => { set.delete(listener); };
  }

  async #changed(): Promise<void> {
    await Promise.all([...watchers.get(this.#store) ?? []].map((listener) => listener()));
  }

  /** Whether saving `user` changes what it can read: its role or domains differ from the stored ones. */
  async #changesReach(user: UserRecord): Promise<boolean> {
    const before = await this.byId(user.id);
    return !before || before.role !== user.role || before.domains.join('\n') !== user.domains.join('\n');
  }

  async byId(id: string): Promise<UserRecord | undefined> {
    return (await this.#db.get(`user!${id}`)) as UserRecord | undefined;
  }

  async byName(username: string): Promise<UserRecord | undefined> {
    const id = (await this.#db.get(`name!${username.toLowerCase()}`)) as string | undefined;
    return id ? this.byId(id) : undefined;
  }

  async all(): Promise<UserRecord[]> {
    const out: UserRecord[] = [];
    for await (const value of this.#db.values({ gt: 'user!', lt: 'user!\xff' })) out.push(value as UserRecord);
    return out.sort((a, b) => a.username.localeCompare(b.username));
  }

  async create(input: NewUser): Promise<UserRecord> {
    const user: UserRecord = {
      id: randomUUID(),
      username: input.role === 'user' ? input.username.toLowerCase() : input.username,
      role: input.role,
      domains: input.role === 'domain-admin' ? [...new Set((input.domains ?? []).map((d) => d.toLowerCase()))] : [],
      passwordHash: await hashPassword(input.password),
      disabled: false,
      language: input.language,
      createdAt: new Date().toISOString(),
      failedLogins: 0,
    };
    const ops: { type: 'put'; key: string; value: unknown }[] = [
      { type: 'put', key: `user!${user.id}`, value: user },
      { type: 'put', key: `name!${user.username.toLowerCase()}`, value: user.id },
    ];
    await this.#db.batch(ops, { sync: true });
    await this.#changed();
    return user;
  }

  async save(user: UserRecord): Promise<void> {
    const reach = await this.#changesReach(user);
    await this.#db.put(`user!${user.id}`, user, { sync: true });
    if (reach) await this.#changed();
  }

  /**
   * Saves an account whose password was set and ends its console sessions (but `exceptId`, the
   * caller's own), all or nothing: a password reset leaves no one logged in with the old one.
   */
  async saveEndingSessions(user: UserRecord, sessions: SessionStore, exceptId?: string): Promise<void> {
    const reach = await this.#changesReach(user);
    await this.#store.batch([putOp<unknown>(this.#db, `user!${user.id}`, user), ...(await sessions.endAllForOps(user.id, exceptId))], { sync: true });
    if (reach) await this.#changed();
  }

  /** Deletes an account with its tokens and its sessions, all or nothing. */
  async remove(user: UserRecord, sessions: SessionStore): Promise<void> {
    await this.#store.batch([
      delOp(this.#db, `user!${user.id}`),
      delOp(this.#db, `name!${user.username.toLowerCase()}`),
      ...(await this.tokens.keysOf(user.id)).map((key) => delOp(this.#db, key)),
      ...(await sessions.endAllForOps(user.id)),
    ], { sync: true });
    await this.#changed();
  }
}

/** The tokens part of this sublevel; made only by UserStore, which owns the sublevel. */
export class TokenStore {
  #db: Sublevel<unknown>;
  #changed: () => Promise<void>;
  constructor(db: Sublevel<unknown>, changed: () => Promise<void>) {
    this.#db = db;
    this.#changed = changed;
  }

  async create(fields: Omit<TokenRecord, 'id' | 'createdAt' | 'lastUsedAt'>): Promise<{ secret: string; token: TokenRecord }> {
    const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const token: TokenRecord = { ...fields, id: randomUUID(), createdAt: new Date().toISOString() };
    await this.#db.put(`token!${hashToken(secret)}`, token, { sync: true });
    await this.#changed();
    return { secret, token };
  }

  async lookup(secret: string): Promise<TokenRecord | undefined> {
    if (!secret.startsWith(TOKEN_PREFIX)) return undefined;
    const key = `token!${hashToken(secret)}`;
    const token = (await this.#db.get(key)) as TokenRecord | undefined;
    if (token) {
      const day = new Date().toISOString().slice(0, 10);
      // Recording the day of last use is enough to spot stale tokens without a write per request.
      if (token.lastUsedAt?.slice(0, 10) !== day) await this.#db.put(key, { ...token, lastUsedAt: new Date().toISOString() });
    }
    return token;
  }

  async list(userId?: string): Promise<TokenRecord[]> {
    const out: TokenRecord[] = [];
    for await (const value of this.#db.values({ gt: 'token!', lt: 'token!\xff' })) {
      const t = value as TokenRecord;
      if (!userId || t.userId === userId) out.push(t);
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Deletes a token by id; returns the deleted record. */
  async revoke(id: string): Promise<TokenRecord | undefined> {
    for await (const [key, value] of this.#db.iterator({ gt: 'token!', lt: 'token!\xff' })) {
      const t = value as TokenRecord;
      if (t.id === id) {
        await this.#db.del(key, { sync: true });
        await this.#changed();
        return t;
      }
    }
    return undefined;
  }

  /** The keys of one account's tokens (for deleting the account in one batch). */
  async keysOf(userId: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const [key, value] of this.#db.iterator({ gt: 'token!', lt: 'token!\xff' })) {
      if ((value as TokenRecord).userId === userId) keys.push(key);
    }
    return keys;
  }
}
