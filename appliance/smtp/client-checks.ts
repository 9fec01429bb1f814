// Reverse-DNS and HELO/EHLO checks on an inbound client, as spam-score contributions (never a
// refusal by themselves: plenty of honest servers have a sloppy PTR). Asked once per session, at
// its first RCPT, through the one DNS cache:
//   RDNS_NONE           the address has no PTR record
//   RDNS_MISMATCH       no PTR name resolves back to the address (forward-confirmed rDNS fails)
//   HELO_IP_NOT_CLIENT  the HELO is an address literal ([192.0.2.1]) that is not the client's
//   HELO_OUR_NAME       the HELO claims our host name or one of our served domains
// A DNS question that times out or fails proves nothing and adds nothing. A loopback client is
// this host: its PTR is not asked (as smtp/reverse-dns.ts answers it locally).
import net from 'node:net';
import type { ClientCheckSettings } from '../config/schema.ts';
import { reverseName, type Resolver } from '../dns/cache.ts';
import type { Reason } from '../message/message.ts';
import { withDeadline } from './dns-lists.ts';

const NO_DATA = new Set(['ENOTFOUND', 'ENODATA']);
/** PTR names asked to resolve back; a host with more than this many names is judged on these. */
const MAX_PTR_NAMES = 3;

const plainIp = (ip: string) => (ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip).toLowerCase();
const isLoopback = (ip: string) => { const p = plainIp(ip); return p === '::1' || p.startsWith('127.'); };

/** The address in a HELO address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]", or a bare address), else undefined. */
export function heloAddress(helo: string): string | undefined {
  const m = /^\[(?:ipv6:)?([^\]]+)\]$/i.exec(helo.trim());
  const candidate = m ? m[1] : helo.trim();
  return net.isIP(candidate) ? plainIp(candidate) : undefined;
}

type Lookup = { kind: 'answer'; records: string[] } | { kind: 'none' } | { kind: 'unknown' };

async function lookup(resolve: Resolver, name: string, rrtype: string, timeoutMs: number): Promise<Lookup> {
  const asked = resolve(name, rrtype).then(
    (records): Lookup => ({ kind: 'answer', records: Array.isArray(records) ? records.map(String) : [] }),
    (err: NodeJS.ErrnoException): Lookup => (err.code && NO_DATA.has(err.code) ? { kind: 'none' } : { kind: 'unknown' }),
  );
  return (await withDeadline(asked, timeoutMs))?.value ?? { kind: 'unknown' };
}

export interface ClientFacts {
  ip: string;
  helo: string;
}

export async function checkClient(client: ClientFacts, settings: ClientCheckSettings, opts: { resolve: Resolver; ourNames: string[]; timeoutMs: number }): Promise<Reason[]> {
  const reasons: Reason[] = [];
  const add = (name: string, contribution: number, detail: string) => { if (contribution !== 0) reasons.push({ name, contribution, detail }); };
  const ip = plainIp(client.ip);
  const helo = client.helo.trim().toLowerCase().replace(/\.$/, '');
  const literal = heloAddress(helo);
  if (literal !== undefined && literal !== ip) add('HELO_IP_NOT_CLIENT', settings.heloForeignIp, `HELO ${client.helo} from ${ip}`);
  if (literal === undefined && helo && opts.ourNames.some((n) => n.toLowerCase() === helo)) add('HELO_OUR_NAME', settings.heloOurName, `HELO ${client.helo} is our own name`);
  if (isLoopback(ip)) return reasons;

  const ptrName = reverseName(ip);
  if (!ptrName) return reasons;
  const ptr = await lookup(opts.resolve, ptrName, 'PTR', opts.timeoutMs);
  if (ptr.kind === 'none' || (ptr.kind === 'answer' && ptr.records.length === 0)) {
    add('RDNS_NONE', settings.noPtr, `no PTR record for ${ip}`);
  } else if (ptr.kind === 'answer') {
    const rrtype = net.isIPv4(ip) ? 'A' : 'AAAA';
    const names = ptr.records.slice(0, MAX_PTR_NAMES);
    const forward = await Promise.all(names.map((n) => lookup(opts.resolve, n, rrtype, opts.timeoutMs)));
    const confirmed = forward.some((f) => f.kind === 'answer' && f.records.some((a) => plainIp(a) === ip));
    // Only a clear answer counts against the client: a name that did not answer in time proves nothing.
    if (!confirmed && forward.every((f) => f.kind !== 'unknown')) add('RDNS_MISMATCH', settings.ptrMismatch, `PTR ${names.join(', ')} does not resolve back to ${ip}`);
  }
  return reasons;
}
