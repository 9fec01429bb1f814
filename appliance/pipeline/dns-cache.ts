// DNS for the authentication checks, with a cache.
//
// mailauth asks for the same SPF, DKIM key and DMARC records over and over (every message from a
// big sender), and has no cache of its own. Answers are kept for their TTL, capped by
// `filtering.dnsCacheMaxSeconds`; "no such name / no data" answers are kept briefly too (they are
// what most spam domains return); server failures and timeouts are never cached, so a DNS outage
// heals as soon as the server answers again. Concurrent questions for the same name share one query.
//
// A resolver reports a TTL by resolving to `{ [ANSWER_TTL]: seconds, records }`; node:dns only
// tells TTLs for A and AAAA, so the system resolver gives other types `unknownTtlSeconds`.
import { Resolver as DnsResolver } from 'node:dns/promises';

export type Resolver = (name: string, rrtype: string) => Promise<unknown>;

export const ANSWER_TTL = Symbol('ttl');
export interface TtlAnswer { [ANSWER_TTL]: number; records: unknown }

export function isTtlAnswer(v: unknown): v is TtlAnswer {
  return typeof v === 'object' && v !== null && ANSWER_TTL in v;
}

const NEGATIVE_CODES = new Set(['ENOTFOUND', 'ENODATA']);

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
    const key = `${rrtype}\0${name.toLowerCase()}`;
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

  return {
    resolve,
    size: () => cache.size,
    hits: () => hitCount,
    clear: () => cache.clear(),
    setMaxSeconds: (s) => { maxSeconds = s; },
  };
}

/** The system's resolver (or the given servers, "ip" or "ip:port"), reporting TTLs where node:dns can. */
export function systemResolver(servers: string[] = []): Resolver {
  const r = new DnsResolver({ timeout: 5000, tries: 2 });
  if (servers.length) r.setServers(servers);
  return async (name, rrtype) => {
    if (rrtype === 'A' || rrtype === 'AAAA') {
      const recs = rrtype === 'A' ? await r.resolve4(name, { ttl: true }) : await r.resolve6(name, { ttl: true });
      const answer: TtlAnswer = { [ANSWER_TTL]: Math.min(...recs.map((x) => x.ttl)), records: recs.map((x) => x.address) };
      return answer;
    }
    return r.resolve(name, rrtype);
  };
}
