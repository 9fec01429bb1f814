// Where outbound mail for a foreign domain goes: its MX hosts by preference, or the domain itself
// when it has no MX (RFC 5321 implicit MX). A null MX ("." — RFC 7505) means the domain takes no
// mail: a permanent failure. Answers are cached for their TTL (at least a minute).
import { promises as dns } from 'node:dns';

export interface MxHost { name: string; addresses: string[] }
export type MxAnswer = { kind: 'hosts'; hosts: MxHost[] } | { kind: 'no-mail'; reason: string } | { kind: 'tempfail'; reason: string };

export class MxResolver {
  #resolver = new dns.Resolver({ timeout: 5000, tries: 2 });
  #cache = new Map<string, { answer: MxAnswer; until: number }>();

  constructor(servers: string[]) {
    if (servers.length) this.#resolver.setServers(servers);
  }

  async lookup(domain: string): Promise<MxAnswer> {
    const key = domain.toLowerCase();
    const hit = this.#cache.get(key);
    if (hit && hit.until > Date.now()) return hit.answer;
    const answer = await this.#query(key);
    if (answer.kind !== 'tempfail') this.#cache.set(key, { answer, until: Date.now() + 5 * 60_000 });
    return answer;
  }

  async #query(domain: string): Promise<MxAnswer> {
    try {
      const records = await this.#resolver.resolveMx(domain);
      if (records.length === 1 && (records[0].exchange === '' || records[0].exchange === '.')) {
        return { kind: 'no-mail', reason: `${domain} publishes a null MX: it accepts no mail` };
      }
      const names = records.sort((a, b) => a.priority - b.priority).map((r) => r.exchange);
      return this.#addresses(names, domain);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA') return this.#addresses([domain], domain);
      if (code === 'ENOTFOUND') return { kind: 'no-mail', reason: `${domain} does not exist (NXDOMAIN)` };
      return { kind: 'tempfail', reason: `MX lookup for ${domain} failed: ${code ?? (err as Error).message}` };
    }
  }

  /** Resolves the hosts' addresses with the same resolver, so one DNS view decides the route. */
  async #addresses(names: string[], domain: string): Promise<MxAnswer> {
    const hosts = await Promise.all(names.map(async (name) => {
      const [v4, v6] = await Promise.all([
        this.#resolver.resolve4(name).catch(() => [] as string[]),
        this.#resolver.resolve6(name).catch(() => [] as string[]),
      ]);
      return { name, addresses: [...v4, ...v6] };
    }));
    const usable = hosts.filter((h) => h.addresses.length);
    return usable.length ? { kind: 'hosts', hosts: usable }
      : { kind: 'tempfail', reason: `no address found for the mail servers of ${domain} (${names.join(', ')})` };
  }
}
