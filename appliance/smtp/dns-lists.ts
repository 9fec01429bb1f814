// DNS blocklists and allowlists (DNSBL/DNSWL, RFC 5782), asked about an inbound client's address
// at its first RCPT. Every configured zone is asked at once, through the appliance's one DNS cache
// (dns/cache.ts: answers kept for their TTL, timeouts never kept), and each gets the same short
// deadline: a zone that has not answered by then is left out and named, so a slow list costs at
// most `timeoutMs` and never decides anything. A listing adds the zone's weight (spam-score points,
// negative for an allowlist); screening.ts refuses the client when the sum reaches `rejectScore`
// and otherwise hands the listings to the pipeline's score.
//
// What counts as a listing: an A answer in 127.0.0.0/8 (or only the zone's `answers`), except
// 127.255.255.0/24, which list operators use for "query refused" errors, not for listings.
import type { DnsListSettings } from '../config/schema.ts';
import { reverseName, type Resolver } from '../dns/cache.ts';

export interface DnsListHit {
  zone: string;
  weight: number;
  /** The A records that made it a listing. */
  answers: string[];
}

export interface DnsListResult {
  hits: DnsListHit[];
  /** Zones that did not answer within the deadline (or failed): left out. */
  unanswered: string[];
  /** The sum of the listed zones' weights. */
  score: number;
}

const NOT_LISTED = new Set(['ENOTFOUND', 'ENODATA']);

/** The name a list is asked for an address: reversed octets (IPv4) or nibbles (IPv6), then the zone. */
export function listQueryName(ip: string, zone: string): string | undefined {
  const r = reverseName(ip);
  return r ? `${r.replace(/\.(in-addr|ip6)\.arpa$/, '')}.${zone}` : undefined;
}

/** Races `p` against a deadline; `undefined` when the deadline came first. */
export async function withDeadline<T>(p: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  try {
    return await Promise.race([p.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function checkDnsLists(ip: string, settings: DnsListSettings, resolve: Resolver): Promise<DnsListResult> {
  const result: DnsListResult = { hits: [], unanswered: [], score: 0 };
  await Promise.all(settings.zones.map(async (z) => {
    const name = listQueryName(ip, z.zone);
    if (!name) return;
    const asked = resolve(name, 'A').then(
      (records) => ({ ok: true as const, records: Array.isArray(records) ? records.map(String) : [] }),
      (err: NodeJS.ErrnoException) => ({ ok: false as const, failed: !(err.code && NOT_LISTED.has(err.code)) }),
    );
    const answer = await withDeadline(asked, settings.timeoutMs);
    if (!answer || (!answer.value.ok && answer.value.failed)) { result.unanswered.push(z.zone); return; }
    if (!answer.value.ok) return;
    const listing = answer.value.records.filter((a) => (z.answers.length ? z.answers.includes(a) : /^127\./.test(a) && !/^127\.255\.255\./.test(a)));
    if (listing.length) result.hits.push({ zone: z.zone, weight: z.weight, answers: listing });
  }));
  // Configuration order, whatever order the answers came in.
  const order = (zone: string) => settings.zones.findIndex((z) => z.zone === zone);
  result.hits.sort((a, b) => order(a.zone) - order(b.zone));
  result.unanswered.sort((a, b) => order(a) - order(b));
  result.score = result.hits.reduce((s, h) => s + h.weight, 0);
  return result;
}
