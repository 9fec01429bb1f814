// Greylisting (the "Greylist" main class): an inbound message whose triplet — the client's network
// (IPv4 /24, IPv6 /64, so a sender's pool of outgoing servers counts as one), the envelope sender
// and the recipient — has not been seen is answered 451 4.7.1 at RCPT. A real mail server retries;
// a retry at least `delaySeconds` after the first attempt and within `retryWindowHours` passes, and
// the triplet then passes at once for `passedDays` after its last message. A client network whose
// retries passed `autoWhitelistAfter` times (distinct triplets) is whitelisted for as long.
//
// This module owns the `greylist` sublevel:
//   t!<network>!<sender>!<recipient> → { first, passedAt?, expires }   one triplet
//   c!<network>                       → { passes, whitelisted, expires } one client network
// Every record carries its expiry: reads ignore expired ones, and `sweep` deletes them (main.ts runs
// it every `sweepMinutes`). The clock is injected, so tests move time instead of waiting for it.
import type { GreylistSettings } from '../config/schema.ts';
import type { Store, Sublevel } from '../store/store.ts';
import { addressGroup } from './client-limits.ts';

interface TripletRecord { first: number; passedAt?: number; expires: number }
interface ClientRecord { passes: number; whitelisted: boolean; expires: number }
type GreylistRecord = TripletRecord | ClientRecord;

export interface Triplet {
  clientIp: string;
  /** '' is the null sender. */
  sender: string;
  recipient: string;
}

export type GreylistAnswer =
  | { kind: 'pass'; why: 'retried' | 'known' | 'whitelisted client' }
  | { kind: 'defer'; retryInSeconds: number };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export class Greylist {
  #db: Sublevel<GreylistRecord>;
  #now: () => number;

  constructor(store: Store, now: () => number = Date.now) {
    this.#db = store.sublevel<GreylistRecord>('greylist');
    this.#now = now;
  }

  static networkOf(ip: string): string {
    return addressGroup(ip, 24, 64);
  }

  /** Checks a triplet and records the attempt. */
  async check(t: Triplet, cfg: GreylistSettings): Promise<GreylistAnswer> {
    const now = this.#now();
    const network = Greylist.networkOf(t.clientIp);
    const clientKey = `c!${network}`;
    const tripletKey = `t!${network}!${t.sender.toLowerCase() || '<>'}!${t.recipient.toLowerCase()}`;
    const keepPassed = now + cfg.passedDays * DAY;

    const client = live(await this.#db.get(clientKey) as ClientRecord | undefined, now);
    if (client?.whitelisted) {
      await this.#db.put(clientKey, { ...client, expires: keepPassed });
      return { kind: 'pass', why: 'whitelisted client' };
    }
    const triplet = live(await this.#db.get(tripletKey) as TripletRecord | undefined, now);
    if (triplet?.passedAt !== undefined) {
      await this.#db.put(tripletKey, { ...triplet, expires: keepPassed });
      return { kind: 'pass', why: 'known' };
    }
    const firstSeen = triplet && now - triplet.first <= cfg.retryWindowHours * HOUR ? triplet.first : undefined;
    if (firstSeen === undefined || now - firstSeen < cfg.delaySeconds * 1000) {
      const first = firstSeen ?? now;
      if (firstSeen === undefined) await this.#db.put(tripletKey, { first, expires: first + cfg.retryWindowHours * HOUR });
      return { kind: 'defer', retryInSeconds: Math.max(1, Math.ceil((first + cfg.delaySeconds * 1000 - now) / 1000)) };
    }
    // A retry in the window: the triplet passes from now on, and the client earns a pass.
    const passes = (client?.passes ?? 0) + 1;
    await this.#db.batch([
      { type: 'put', key: tripletKey, value: { first: firstSeen, passedAt: now, expires: keepPassed } },
      { type: 'put', key: clientKey, value: { passes, whitelisted: cfg.autoWhitelistAfter > 0 && passes >= cfg.autoWhitelistAfter, expires: keepPassed } },
    ]);
    return { kind: 'pass', why: 'retried' };
  }

  /** Deletes every expired record; returns how many. */
  async sweep(): Promise<number> {
    const now = this.#now();
    const expired: string[] = [];
    for await (const [key, value] of this.#db.iterator()) if (value.expires <= now) expired.push(key);
    for (let i = 0; i < expired.length; i += 5000) {
      await this.#db.batch(expired.slice(i, i + 5000).map((key) => ({ type: 'del' as const, key })));
    }
    return expired.length;
  }

  /** Records held now, expired or not (for tests and the status page). */
  async size(): Promise<number> {
    return (await this.#db.keys().all()).length;
  }
}

function live<R extends { expires: number }>(r: R | undefined, now: number): R | undefined {
  return r && r.expires > now ? r : undefined;
}

/** Sweeps now and then every `minutes()` minutes (read at each run); returns the stop function. */
export function startGreylistSweep(greylist: Greylist, minutes: () => number, onError: (err: Error) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = () => {
    greylist.sweep().catch(onError).finally(() => {
      if (!stopped) { timer = setTimeout(run, minutes() * 60_000); timer.unref(); }
    });
  };
  run();
  return () => { stopped = true; clearTimeout(timer); };
}
