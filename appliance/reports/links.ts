// Action links in reports. Mail scanners and previews follow links, and a report is forwarded
// and kept for days, so a link must be harmless to follow, say exactly what it does, and stop
// working. A link carries a token: its claims (one message, one action, one recipient, an expiry
// and a nonce) as base64url JSON, a dot, and their HMAC-SHA256 under a key kept on the data
// partition (<data>/report-links.key, 32 random bytes, made at first use with mode 0600). The
// key never leaves the appliance; deleting it voids every link sent so far.
// Following a link (GET) only shows a confirmation page; the action happens on its POST.
// Destructive actions are single use: the token's id (a hash of the whole token) is remembered
// in the report store until the token expires. Opening "my quarantine" and (un)subscribing are
// not destructive and may be repeated until the link expires.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ReportAction } from '../config/schema.ts';

export type LinkAction = ReportAction | 'open' | 'unsubscribe' | 'subscribe';
export const LINK_ACTIONS: readonly LinkAction[] = ['release', 'release-train', 'allow-release', 'block-delete', 'delete', 'open', 'unsubscribe', 'subscribe'];

/** Whether a used token of this action is refused afterwards. */
export const singleUse = (a: LinkAction): boolean => a !== 'open' && a !== 'unsubscribe' && a !== 'subscribe';

export interface LinkClaims {
  /** Quarantine id ('' for links about the mailbox rather than one message). */
  message: string;
  action: LinkAction;
  /** The recipient the link was made for (lower case). */
  recipient: string;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
  /** Language of the pages the link shows. */
  language: 'ja' | 'en';
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims; id: string }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

const KEY_FILE = 'report-links.key';

/** Reads the link key, creating it (0600, exclusively) when the data partition has none yet. */
export async function loadLinkKey(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, KEY_FILE);
  try {
    const fh = await open(file, 'wx', 0o600);
    const key = randomBytes(32);
    try {
      await fh.writeFile(key);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = await readFile(file);
  if (key.length < 32) throw new Error(`${file} is shorter than 32 bytes: delete it to make a new key (links already sent stop working)`);
  if (((await stat(file)).mode & 0o077) !== 0) throw new Error(`${file} is readable by others: chmod 600 it`);
  return key;
}

export class LinkSigner {
  #key: Buffer;
  constructor(key: Buffer) {
    this.#key = key;
  }

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#key).update(payload).digest();
  }

  sign(claims: LinkClaims): string {
    const payload = Buffer.from(JSON.stringify({
      m: claims.message, a: claims.action, r: claims.recipient.toLowerCase(), e: claims.expiresAt, l: claims.language, n: randomBytes(6).toString('base64url'),
    })).toString('base64url');
    return `${payload}.${this.#mac(payload).toString('base64url')}`;
  }

  verify(token: string, now: number): LinkCheck {
    const m = /^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) return { ok: false, reason: 'malformed' };
    const given = Buffer.from(m[2], 'base64url');
    const want = this.#mac(m[1]);
    if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'forged' };
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const c = raw as { m?: unknown; a?: unknown; r?: unknown; e?: unknown; l?: unknown };
    if (typeof c.m !== 'string' || typeof c.r !== 'string' || typeof c.e !== 'number' || !LINK_ACTIONS.includes(c.a as LinkAction)
      || (c.l !== 'ja' && c.l !== 'en')) {
      return { ok: false, reason: 'malformed' };
    }
    if (now >= c.e) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      id: createHash('sha256').update(token).digest('base64url'),
      claims: { message: c.m, action: c.a as LinkAction, recipient: c.r, expiresAt: c.e, language: c.l },
    };
  }
}
