// API tokens for automation: `Authorization: Bearer mmt_…`. A token acts as its owner, narrowed
// by its own scope: read-only or read-write, and optionally a subset of the owner's domains.
// Only the token's SHA-256 is stored (key `token!<hash>` in the `users` sublevel), so the secret
// is shown once, at creation. Revoking deletes the record; the next request with it is refused.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Store, Sublevel } from '../store/store.ts';

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

const PREFIX = 'mmt_';
const hashToken = (secret: string) => createHash('sha256').update(secret).digest('base64url');

export class TokenStore {
  #db: Sublevel<unknown>;
  constructor(store: Store) {
    this.#db = store.sublevel<unknown>('users');
  }

  async create(fields: Omit<TokenRecord, 'id' | 'createdAt' | 'lastUsedAt'>): Promise<{ secret: string; token: TokenRecord }> {
    const secret = PREFIX + randomBytes(32).toString('base64url');
    const token: TokenRecord = { ...fields, id: randomUUID(), createdAt: new Date().toISOString() };
    await this.#db.put(`token!${hashToken(secret)}`, token, { sync: true });
    return { secret, token };
  }

  async lookup(secret: string): Promise<TokenRecord | undefined> {
    if (!secret.startsWith(PREFIX)) return undefined;
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
        return t;
      }
    }
    return undefined;
  }

  async revokeAllOf(userId: string): Promise<void> {
    for (const t of await this.list(userId)) await this.revoke(t.id);
  }
}
