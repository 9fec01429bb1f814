// A real DNS server on loopback (dns2, UDP) serving the records a test gives it, so SPF, DKIM and
// DMARC are checked exactly as in production: over the wire, through node:dns. Names not in the
// zone answer NXDOMAIN; names present without the asked type answer NOERROR with no data.
// TXT strings longer than 255 bytes are split into several character-strings, as a real zone
// would serve a long DKIM key. Every question is recorded, so tests can see what was asked.
// A name marked `silent` is never answered, as a DNS list that times out.
import dns2, { type Resource } from 'dns2';
import { Resolver } from 'node:dns/promises';
import type { Resolver as LookupFn } from '../../appliance/dns/cache.ts';

const { Packet } = dns2;

export interface ZoneRecords {
  A?: string[];
  AAAA?: string[];
  TXT?: string[];
  MX?: { exchange: string; priority: number }[];
  PTR?: string[];
  CNAME?: string;
  /** Seconds; 300 unless given. */
  ttl?: number;
  /** Never answer questions for this name (the asker times out). */
  silent?: boolean;
}
export type Zone = Record<string, ZoneRecords>;

export interface DnsServer {
  /** "127.0.0.1:port" for node:dns setServers. */
  address: string;
  port: number;
  zone: Zone;
  /**
   * The lookups asked, in order. A retransmission (the client's resolver timed out on a loaded
   * machine and sent the same query again, with the same id) is not a second lookup.
   */
  queries: { name: string; type: string }[];
  /** A resolver function (name, rrtype) asking this server, as mailauth and the pipeline take. */
  resolver: LookupFn;
  close(): Promise<void>;
}

function splitTxt(text: string): Buffer[] {
  const buf = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 255) parts.push(buf.subarray(i, i + 255));
  return parts.length ? parts : [Buffer.alloc(0)];
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Packet.TYPE).map(([k, v]) => [v as number, k]));

export async function startDnsServer(zone: Zone): Promise<DnsServer> {
  const queries: { name: string; type: string }[] = [];
  const seen = new Set<string>();
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [q] = request.questions;
      const type = TYPE_NAMES[q.type] ?? String(q.type);
      const lookup = `${request.header.id}/${q.name.toLowerCase()}/${type}`;
      if (!seen.has(lookup)) {
        seen.add(lookup);
        queries.push({ name: q.name, type });
      }
      const recs = zone[q.name.toLowerCase().replace(/\.$/, '')];
      if (!recs) {
        response.header.rcode = 3; // NXDOMAIN
        send(response);
        return;
      }
      if (recs.silent) return;
      const ttl = recs.ttl ?? 300;
      const base = { name: q.name, class: Packet.CLASS.IN, ttl };
      // dns2's Resource type lists TXT data as strings only; its encoder also takes Buffers.
      const add = (r: Record<string, unknown>) => response.answers.push({ ...base, ...r } as unknown as Resource);
      if (recs.CNAME && type !== 'CNAME') {
        add({ type: Packet.TYPE.CNAME, domain: recs.CNAME });
      }
      if (type === 'A') for (const a of recs.A ?? []) add({ type: Packet.TYPE.A, address: a });
      if (type === 'AAAA') for (const a of recs.AAAA ?? []) add({ type: Packet.TYPE.AAAA, address: a });
      if (type === 'TXT') for (const t of recs.TXT ?? []) add({ type: Packet.TYPE.TXT, data: splitTxt(t) });
      if (type === 'MX') for (const m of recs.MX ?? []) add({ type: Packet.TYPE.MX, exchange: m.exchange, priority: m.priority });
      if (type === 'PTR') for (const p of recs.PTR ?? []) add({ type: Packet.TYPE.PTR, domain: p });
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = (server.addresses().udp as { port: number }).port;
  const address = `127.0.0.1:${port}`;
  // Generous: a query that times out is (rightly) not cached, so on a loaded machine a short
  // timeout turned "the cache answered" checks into one-run-in-several failures.
  const r = new Resolver({ timeout: 10_000, tries: 2 });
  r.setServers([address]);
  return {
    address,
    port,
    zone,
    queries,
    resolver: (name, rrtype) => r.resolve(name, rrtype),
    close: () => server.close().then(() => undefined),
  };
}
