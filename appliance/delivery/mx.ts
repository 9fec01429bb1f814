// Where outbound mail for a foreign domain goes: its MX hosts by preference, or the domain itself
// when it has no MX (RFC 5321 implicit MX). A null MX ("." — RFC 7505) means the domain takes no
// mail: a permanent failure. The questions go through the appliance's DNS cache (dns/cache.ts),
// so answers are kept for their TTL there; a server failure is never kept, and is a tempfail here.
import type { Resolver } from '../dns/cache.ts';

export interface MxHost { name: string; addresses: string[] }
export type MxAnswer = { kind: 'hosts'; hosts: MxHost[] } | { kind: 'no-mail'; reason: string } | { kind: 'tempfail'; reason: string };

interface MxRecord { exchange: string; priority: number }

export class MxResolver {
  #resolve: Resolver;

  constructor(resolve: Resolver) {
    this.#resolve = resolve;
  }

  async lookup(domain: string): Promise<MxAnswer> {
    const name = domain.toLowerCase();
    try {
      const records = await this.#resolve(name, 'MX') as MxRecord[];
      if (records.length === 1 && (records[0].exchange === '' || records[0].exchange === '.')) {
        return { kind: 'no-mail', reason: `${name} publishes a null MX: it accepts no mail` };
      }
      const names = [...records].sort((a, b) => a.priority - b.priority).map((r) => r.exchange);
      return this.#addresses(names, name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA') return this.#addresses([name], name);
      if (code === 'ENOTFOUND') return { kind: 'no-mail', reason: `${name} does not exist (NXDOMAIN)` };
      return { kind: 'tempfail', reason: `MX lookup for ${name} failed: ${code ?? (err as Error).message}` };
    }
  }

  /** Resolves the hosts' addresses through the same resolver, so one DNS view decides the route. */
  async #addresses(names: string[], domain: string): Promise<MxAnswer> {
    const hosts = await Promise.all(names.map(async (name) => {
      const [v4, v6] = await Promise.all([
        (this.#resolve(name, 'A') as Promise<string[]>).catch(() => [] as string[]),
        (this.#resolve(name, 'AAAA') as Promise<string[]>).catch(() => [] as string[]),
      ]);
      return { name, addresses: [...v4, ...v6] };
    }));
    const usable = hosts.filter((h) => h.addresses.length);
    return usable.length ? { kind: 'hosts', hosts: usable }
      : { kind: 'tempfail', reason: `no address found for the mail servers of ${domain} (${names.join(', ')})` };
  }
}
