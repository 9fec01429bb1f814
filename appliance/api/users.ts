// Console accounts, kept in the `users` sublevel (api/ owns it): `user!<id>` holds the record,
// `name!<lower-case name>` maps a login name to its id. A mailbox user's login name is their
// address; admins and domain admins choose any name. Failed logins are counted on the record so
// a lock-out survives a restart.
import { randomUUID } from 'node:crypto';
import type { Store, Sublevel } from '../store/store.ts';
import type { Role } from './roles.ts';
import { hashPassword } from './passwords.ts';

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

export class UserStore {
  #db: Sublevel<unknown>;
  constructor(store: Store) {
    this.#db = store.sublevel<unknown>('users');
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
    return user;
  }

  /** Puts back an account from a backup, keeping its id and password hash. */
  async restore(user: UserRecord): Promise<void> {
    const ops: { type: 'put'; key: string; value: unknown }[] = [
      { type: 'put', key: `user!${user.id}`, value: { ...user, failedLogins: 0, lockedUntil: undefined } },
      { type: 'put', key: `name!${user.username.toLowerCase()}`, value: user.id },
    ];
    await this.#db.batch(ops, { sync: true });
  }

  async save(user: UserRecord): Promise<void> {
    await this.#db.put(`user!${user.id}`, user, { sync: true });
  }

  async remove(user: UserRecord): Promise<void> {
    await this.#db.batch([
      { type: 'del', key: `user!${user.id}` },
      { type: 'del', key: `name!${user.username.toLowerCase()}` },
    ], { sync: true });
  }
}
