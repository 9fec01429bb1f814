// Where outbound mail for a foreign domain goes: its MX hosts by preference, or the domain itself
// when it has no MX (RFC 5321 implicit MX). A null MX ("." — RFC 7505) means the domain takes no
// mail: a permanent failure. Answers are cached for their TTL (at least a minute).
import { promises as dns } from 'node:dns';

export type MxAnswer = { kind: 'hosts'; hosts: string[] } | { kind: 'no-mail'; reason: string } | { kind: 'tempfail'; reason: string };

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
      return { kind: 'hosts', hosts: records.sort((a, b) => a.priority - b.priority).map((r) => r.exchange) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA') return { kind: 'hosts', hosts: [domain] };
      if (code === 'ENOTFOUND') return { kind: 'no-mail', reason: `${domain} does not exist (NXDOMAIN)` };
      return { kind: 'tempfail', reason: `MX lookup for ${domain} failed: ${code ?? (err as Error).message}` };
    }
  }
}
