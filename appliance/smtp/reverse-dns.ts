// The client's host name for Received headers and the message log: a cached PTR lookup with a
// short timeout (the SMTP greeting waits for it), answered locally for loopback clients.
import { promises as dns } from 'node:dns';

export class ReverseDns {
  #resolver = new dns.Resolver({ timeout: 1200, tries: 1 });
  #cache = new Map<string, { names: string[]; until: number }>();

  constructor(servers: string[]) {
    if (servers.length) this.#resolver.setServers(servers);
  }

  /** The interface smtp-server's `resolver` option expects. */
  reverse = (ip: string, callback: (err: Error | null, hostnames?: string[]) => void): void => {
    this.lookup(ip).then((names) => callback(null, names), (err: Error) => callback(err));
  };

  async lookup(ip: string): Promise<string[]> {
    if (ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.')) return ['localhost'];
    const hit = this.#cache.get(ip);
    if (hit && hit.until > Date.now()) return hit.names;
    let names: string[] = [];
    try {
      names = await this.#resolver.reverse(ip);
    } catch {
      // No PTR (or no answer in time): the client is logged by address only.
    }
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(ip, { names, until: Date.now() + 3_600_000 });
    return names;
  }
}
