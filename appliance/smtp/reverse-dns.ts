// The client's host name for Received headers and the message log: a PTR lookup through the
// appliance's DNS cache (dns/cache.ts; the system resolver gives PTR one short try, as the SMTP
// greeting waits for it), answered locally for loopback clients.
import { reverseName, type Resolver } from '../dns/cache.ts';

export class ReverseDns {
  #resolve: Resolver;

  constructor(resolve: Resolver) {
    this.#resolve = resolve;
  }

  /** The interface smtp-server's `resolver` option expects. */
  reverse = (ip: string, callback: (err: Error | null, hostnames?: string[]) => void): void => {
    this.lookup(ip).then((names) => callback(null, names), (err: Error) => callback(err));
  };

  async lookup(ip: string): Promise<string[]> {
    if (ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.')) return ['localhost'];
    const name = reverseName(ip);
    if (!name) return [];
    try {
      return await this.#resolve(name, 'PTR') as string[];
    } catch {
      // No PTR (or no answer in time): the client is logged by address only.
      return [];
    }
  }
}
