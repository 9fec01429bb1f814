// The DNS records a customer must publish for a served domain once the appliance filters it:
// MX pointing at the appliance, the appliance's own name and SPF record listing its outbound
// addresses, and an SPF include for the customer's domain (to merge into any SPF they have).
// `checkRecords` asks a resolver (the configured one: what the world sees may differ) whether each
// is published as expected; a lookup that fails for another reason than "no such record" is
// reported as unknown, never as missing.
import net from 'node:net';
import os from 'node:os';
import { isTtlAnswer, type Resolver } from '../dns/cache.ts';

export interface DnsRecord {
  name: string;
  type: 'MX' | 'A' | 'AAAA' | 'TXT';
  value: string;
  note: string;
}

/** The box's own addresses as others would see them: every non-internal, non-link-local one. */
export function outboundAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80'))) continue;
      out.push(a.address);
    }
  }
  return out;
}

export function dnsRecords(domain: string, hostname: string, addresses: string[]): DnsRecord[] {
  const fqdn = (n: string) => (n.endsWith('.') ? n : n + '.');
  const spf = ['v=spf1', ...addresses.map((a) => (net.isIPv6(a) ? `ip6:${a}` : `ip4:${a}`)), '-all'].join(' ');
  return [
    { name: fqdn(domain), type: 'MX', value: `10 ${fqdn(hostname)}`, note: 'mx' },
    ...addresses.map((a): DnsRecord => ({ name: fqdn(hostname), type: net.isIPv6(a) ? 'AAAA' : 'A', value: a, note: 'address' })),
    { name: fqdn(hostname), type: 'TXT', value: spf, note: 'spf-host' },
    { name: fqdn(domain), type: 'TXT', value: `v=spf1 include:${hostname} ~all`, note: 'spf-include' },
  ];
}

/** Whether an address is not reachable from the internet: private, shared (CGNAT), loopback, link-local or unique-local. */
export function isPrivateAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const [a, b] = address.split('.').map(Number);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254);
  }
  const lower = address.toLowerCase();
  return lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
}

export type RecordState =
  | { state: 'ok' }
  | { state: 'missing' }
  | { state: 'different'; found: string[] }
  | { state: 'unknown'; detail: string };

export type CheckedRecord = DnsRecord & RecordState;

const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'NOTFOUND']);
const bare = (n: string) => n.replace(/\.$/, '').toLowerCase();

/** The records of a lookup as text; an empty list when the name or type does not exist. */
async function lookup(resolve: Resolver, name: string, type: DnsRecord['type']): Promise<string[]> {
  try {
    const answer = await resolve(bare(name), type);
    const records = (isTtlAnswer(answer) ? answer.records : answer) as unknown[];
    return records.map((r) => {
      if (type === 'MX') { const mx = r as { exchange: string; priority: number }; return `${mx.priority} ${bare(mx.exchange)}`; }
      if (type === 'TXT') return (r as string[]).join('');
      return String(r);
    });
  } catch (err) {
    if (NO_RECORD.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}

/** Whether a published record says what the expected one asks for. */
function matches(record: DnsRecord, found: string): boolean {
  switch (record.note) {
    case 'mx': return bare(found.split(' ')[1] ?? '') === bare(record.value.split(' ')[1]);
    case 'address': return record.type === 'AAAA' ? net.isIPv6(found) && found.toLowerCase() === record.value.toLowerCase() : found === record.value;
    // The host's SPF may list more, but must allow every address the box sends from.
    case 'spf-host': {
      if (!/^v=spf1\b/i.test(found)) return false;
      const terms = found.toLowerCase().split(/\s+/);
      return record.value.toLowerCase().split(/\s+/).filter((x) => /^ip[46]:/.test(x)).every((x) => terms.includes(x));
    }
    case 'spf-include': return /^v=spf1\b/i.test(found) && found.toLowerCase().split(/\s+/).some((x) => /^[+~?-]?include:/.test(x) && bare(x.split(':')[1]) === bare(record.value.split('include:')[1].split(' ')[0]));
    default: return found === record.value;
  }
}

/** Each expected record with whether it is published as expected, all asked at once. */
export async function checkRecords(records: DnsRecord[], resolve: Resolver): Promise<CheckedRecord[]> {
  return Promise.all(records.map(async (r): Promise<CheckedRecord> => {
    let found: string[];
    try {
      found = await lookup(resolve, r.name, r.type);
    } catch (err) {
      return { ...r, state: 'unknown', detail: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
    // TXT and MX names hold other records too: only SPF ones are compared for the SPF rows.
    const relevant = r.type === 'TXT' ? found.filter((x) => /^v=spf1\b/i.test(x)) : found;
    if (relevant.some((x) => matches(r, x))) return { ...r, state: 'ok' };
    return relevant.length ? { ...r, state: 'different', found: relevant } : { ...r, state: 'missing' };
  }));
}
