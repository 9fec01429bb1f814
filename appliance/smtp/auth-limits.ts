// Brute-force limits for SMTP AUTH (limits.auth), in the spirit of the console's login limits:
// - per connection: after `failuresPerConnection` failures the answer is 421 and the connection
//   closes, so one connection cannot try a list of passwords;
// - per client (an IPv4 address or an IPv6 /64) and per user name: failures are counted in a
//   sliding window (the console's AttemptLimiter); past the limit AUTH is answered 454 without
//   looking at the password, so even the right one does not get in until the window has passed.
//   A client that logged in as a user in the last 7 days is not shut out by others' failures for
//   that user, so an attacker cannot lock a working application out;
// - every failure is answered after a delay that doubles with the failures already counted for
//   the client or the user (tarpitting), counted before the wait so hanging up early saves nothing.
// Failures are logged (one line each, and one when a client or user is shut out) and counted:
// `failures` since this object was made, `onFailure` for the persistent statistics (SNMP).
import { AttemptLimiter } from '../limits/attempt-limiter.ts';
import type { AuthLimitSettings } from '../config/schema.ts';
import { addressGroup } from './client-limits.ts';

export type AuthOutcome =
  | { ok: true; user: string }
  | { ok: false; code: 535 | 454 | 421; message: string };

const GOOD_PAIR_MS = 7 * 24 * 3_600_000;
const MAX_GOOD_PAIRS = 10_000;

export class AuthLimits {
  #settings: () => AuthLimitSettings;
  #say: (line: string) => void;
  #sleep: (ms: number) => Promise<void>;
  #onFailure: () => void;
  #clients = new AttemptLimiter(1, 1);
  #users = new AttemptLimiter(1, 1);
  #perConnection = new WeakMap<object, number>();
  #goodPairs = new Map<string, number>();
  #failures = 0;

  constructor(settings: () => AuthLimitSettings, opts: { say?: (line: string) => void; sleep?: (ms: number) => Promise<void>; onFailure?: () => void } = {}) {
    this.#settings = settings;
    this.#say = opts.say ?? ((line) => console.log(line));
    this.#sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#onFailure = opts.onFailure ?? (() => {});
  }

  /** Refused AUTH attempts since this object was made (the daemon started). */
  get failures(): number {
    return this.#failures;
  }

  /**
   * One AUTH attempt by `username` on `connection` (any object that lives as long as the SMTP
   * session) from `ip`; `login` checks the password and gives the user logged in as, or null.
   */
  async attempt(connection: object, ip: string, username: string, login: () => Promise<string | null>, now = Date.now()): Promise<AuthOutcome> {
    const s = this.#settings();
    const windowMs = s.windowMinutes * 60_000;
    this.#clients.max = s.failuresPerClient;
    this.#users.max = s.failuresPerUser;
    this.#clients.windowMs = this.#users.windowMs = windowMs;
    const client = addressGroup(ip, 32, 64);
    const user = username.toLowerCase();
    const shown = JSON.stringify(username.slice(0, 64));

    let refusal: { code: 535 | 454; status: string; text: string };
    const clientWait = this.#clients.wait(client, now);
    const userWait = this.#isGoodPair(user, client, now) ? 0 : this.#users.wait(user, now);
    if (clientWait || userWait) {
      const minutes = Math.ceil(Math.max(clientWait, userWait) / 60);
      refusal = { code: 454, status: '4.7.0', text: `Too many failed logins${clientWait ? ' from your address' : ''}, try again in ${minutes} min` };
    } else {
      const loggedIn = await login();
      if (loggedIn !== null) {
        this.#rememberGoodPair(user, client, now);
        return { ok: true, user: loggedIn };
      }
      const byClient = this.#clients.add(client, now);
      const byUser = this.#users.add(user, now);
      this.#say(`mailmoat: SMTP AUTH failed for ${shown} from ${ip} (${byClient} failures from this client, ${byUser} for this user in ${s.windowMinutes} min)`);
      if (byClient === s.failuresPerClient) this.#say(`mailmoat: SMTP AUTH from ${client} refused for ${s.windowMinutes} min after ${byClient} failures`);
      if (byUser === s.failuresPerUser) this.#say(`mailmoat: SMTP AUTH as ${shown} refused for ${s.windowMinutes} min after ${byUser} failures (except from clients it logged in from before)`);
      await this.#sleep(Math.min(s.maxDelayMs, s.delayMs * 2 ** (Math.max(byClient, byUser) - 1)));
      refusal = { code: 535, status: '5.7.8', text: 'Authentication failed' };
    }
    this.#failures += 1;
    this.#onFailure();
    const onConnection = (this.#perConnection.get(connection) ?? 0) + 1;
    this.#perConnection.set(connection, onConnection);
    if (onConnection >= s.failuresPerConnection) {
      return { ok: false, code: 421, message: `4.7.0 ${refusal.text}; too many failed logins on this connection, closing it` };
    }
    return { ok: false, code: refusal.code, message: `${refusal.status} ${refusal.text}` };
  }

  #isGoodPair(user: string, client: string, now: number): boolean {
    const at = this.#goodPairs.get(`${user}\n${client}`);
    return at !== undefined && now - at < GOOD_PAIR_MS;
  }

  #rememberGoodPair(user: string, client: string, now: number): void {
    const key = `${user}\n${client}`;
    this.#goodPairs.delete(key); // re-inserted last: the map stays in order of last login
    this.#goodPairs.set(key, now);
    for (const [k, at] of this.#goodPairs) {
      if (this.#goodPairs.size <= MAX_GOOD_PAIRS && now - at < GOOD_PAIR_MS) break;
      this.#goodPairs.delete(k);
    }
  }
}
