// The appliance's DNS: one cache, one policy, for every module that asks — the authentication
// checks (SPF, DKIM, DMARC through mailauth), delivery's MX lookups and the SMTP listener's PTR
// lookups. main.ts makes the one instance; the analysis threads keep a small cache each (pipeline/
// analysis-worker.ts) whose misses come to this one, which tells them how long an answer may stay.
//
// Answers are kept for their TTL, capped by `filtering.dnsCacheMaxSeconds`; "no such name / no
// data" answers are kept briefly too (they are what most spam domains return); server failures and
// timeouts are never cached, so a DNS outage heals as soon as the server answers again. Concurrent
// questions for the same name share one query. mailauth asks for the same records over and over
// (every message from a big sender) and has no cache of its own.
//
// A resolver reports a TTL by resolving to `{ [ANSWER_TTL]: seconds, records }`; node:dns only
// tells TTLs for A and AAAA, so the system resolver gives other types (MX, TXT, PTR)
// `unknownTtlSeconds`.
import { Resolver as DnsResolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export type Resolver = (name: string, rrtype: string) => Promise<unknown>;

export const ANSWER_TTL = Symbol('ttl');
export interface TtlAnswer { [ANSWER_TTL]: number; records: unknown }

export function isTtlAnswer(v: unknown): v is TtlAnswer {
  return typeof v === 'object' && v !== null && ANSWER_TTL in v;
}

const NEGATIVE_CODES = new Set(['ENOTFOUND', 'ENODATA']);
const keyOf = (name: string, rrtype: string) => `${rrtype}\0${name.toLowerCase()}`;

export interface CacheOptions {
  maxSeconds: number;
  /** TTL used when the resolver does not report one. */
  unknownTtlSeconds?: number;
  negativeSeconds?: number;
  maxEntries?: number;
  now?: () => number;
}

export interface CachingResolver {
  resolve: Resolver;
  /** As `resolve`, with the seconds the answer may still be kept (for the analysis threads' caches). */
  answer(name: string, rrtype: string): Promise<TtlAnswer>;
  /** Entries currently held (for tests and the status page). */
  size(): number;
  /** How many questions were answered from the cache. */
  hits(): number;
  clear(): void;
  setMaxSeconds(seconds: number): void;
}

export function createCachingResolver(inner: Resolver, opts: CacheOptions): CachingResolver {
  const now = opts.now ?? Date.now;
  let maxSeconds = opts.maxSeconds;
  const unknownTtl = opts.unknownTtlSeconds ?? 300;
  const negative = opts.negativeSeconds ?? 60;
  const maxEntries = opts.maxEntries ?? 20000;
  const cache = new Map<string, { expires: number; value: Promise<unknown> }>();
  let hitCount = 0;

  const put = (key: string, value: Promise<unknown>, seconds: number) => {
    const ttl = Math.min(seconds, maxSeconds);
    if (ttl <= 0) { cache.delete(key); return; }
    cache.set(key, { expires: now() + ttl * 1000, value });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
  };

  const resolve: Resolver = (name, rrtype) => {
    const key = keyOf(name, rrtype);
    const hit = cache.get(key);
    if (hit && hit.expires > now()) { hitCount++; return hit.value; }
    const query = inner(name, rrtype).then(
      (answer) => {
        if (isTtlAnswer(answer)) { put(key, Promise.resolve(answer.records), answer[ANSWER_TTL]); return answer.records; }
        put(key, Promise.resolve(answer), unknownTtl);
        return answer;
      },
      (err: NodeJS.ErrnoException) => {
        if (err.code && NEGATIVE_CODES.has(err.code)) {
          const stored = Promise.reject(err);
          stored.catch(() => {}); // held for later askers; not an unhandled rejection
          put(key, stored, negative);
        } else {
          cache.delete(key);
        }
        throw err;
      },
    );
    // While in flight, others asking the same question wait for this one query.
    cache.set(key, { expires: now() + 30_000, value: query });
    query.catch(() => {});
    return query;
  };

  // Read once the answer is in: by then the entry holds the answer's own expiry (or is gone: 0 s).
  const answer = (name: string, rrtype: string): Promise<TtlAnswer> => resolve(name, rrtype).then((records) => {
    const entry = cache.get(keyOf(name, rrtype));
    const seconds = entry ? Math.max(0, Math.floor((entry.expires - now()) / 1000)) : 0;
    return { [ANSWER_TTL]: seconds, records };
  });

  return {
    resolve,
    answer,
    size: () => cache.size,
    hits: () => hitCount,
    clear: () => cache.clear(),
    setMaxSeconds: (s) => { maxSeconds = s; },
  };
}

/**
 * The system's resolver (or the given servers, "ip" or "ip:port"), reporting TTLs where node:dns can.
 * PTR questions get one short try: the SMTP greeting waits for them, and a client without a PTR is
 * only logged by address.
 */
export function systemResolver(servers: string[] = []): Resolver {
  const r = new DnsResolver({ timeout: 5000, tries: 2 });
  const ptr = new DnsResolver({ timeout: 1200, tries: 1 });
  if (servers.length) { r.setServers(servers); ptr.setServers(servers); }
  return async (name, rrtype) => {
    if (rrtype === 'A' || rrtype === 'AAAA') {
      const recs = rrtype === 'A' ? await r.resolve4(name, { ttl: true }) : await r.resolve6(name, { ttl: true });
      const answer: TtlAnswer = { [ANSWER_TTL]: Math.min(...recs.map((x) => x.ttl)), records: recs.map((x) => x.address) };
      return answer;
    }
    return (rrtype === 'PTR' ? ptr : r).resolve(name, rrtype);
  };
}

/** The name a PTR question asks for an address: 4.3.2.1.in-addr.arpa (IPv4-mapped too), or IPv6's nibbles under ip6.arpa. */
export function reverseName(ip: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return reverseName(mapped[1]);
  const family = isIP(ip);
  if (family === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (family !== 6) return undefined;
  // Expand "::" and any embedded IPv4 tail into eight groups of four hex digits.
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const groups = (part: string) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? v4Groups(g) : [g])) : []);
  const left = groups(head);
  const right = ip.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${[...all.map((g) => g.padStart(4, '0')).join('')].reverse().join('.')}.ip6.arpa`;
}

function v4Groups(v4: string): string[] {
  const [a, b, c, d] = v4.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
