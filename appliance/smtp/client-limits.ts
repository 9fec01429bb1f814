// Per-client fairness, in the spirit of Postfix's anvil: simultaneous connections from one IP
// address and from its network (an IPv4 /24, an IPv6 /64), messages per minute from one address,
// and a reserve of connection slots that only trusted clients (relay.networks, trustedNetworks)
// may take, so a few hostile hosts cannot fill the listener and shut everyone else out.
import net from 'node:net';
import type { Config } from '../config/schema.ts';

export class ClientLimits {
  #connections = new Map<string, number>();
  #networks = new Map<string, number>();
  #messages = new Map<string, number[]>();

  /**
   * Admits a new connection to a listener that has `open` connections (this one included) and
   * counts it, or says why not (the reply text for 421). A trusted client may use the reserved
   * slots and is exempt from the per-network limit.
   */
  admit(ip: string, open: number, limits: Config['limits'], trusted: boolean): string | null {
    if (!trusted && open > limits.maxConnections - Math.ceil((limits.maxConnections * limits.reservedConnectionsPercent) / 100)) {
      return '4.7.0 Too many connections to this server, try again later';
    }
    const network = networkOf(ip);
    const byClient = this.#connections.get(ip) ?? 0;
    const byNetwork = this.#networks.get(network) ?? 0;
    if (byClient >= limits.maxConnectionsPerClient) return '4.7.0 Too many connections from your address, try again later';
    if (!trusted && byNetwork >= limits.maxConnectionsPerNetwork) return '4.7.0 Too many connections from your network, try again later';
    this.#connections.set(ip, byClient + 1);
    this.#networks.set(network, byNetwork + 1);
    return null;
  }

  /** Gives back the place of an admitted connection. */
  disconnect(ip: string): void {
    decrement(this.#connections, ip);
    decrement(this.#networks, networkOf(ip));
  }

  /** Counts a message (at MAIL FROM); false when the client sent `perMinute` in the last minute. */
  message(ip: string, perMinute: number, now = Date.now()): boolean {
    const recent = (this.#messages.get(ip) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= perMinute) {
      this.#messages.set(ip, recent);
      return false;
    }
    recent.push(now);
    this.#messages.set(ip, recent);
    return true;
  }

  /** Forgets idle clients' message history (called periodically). */
  prune(now = Date.now()): void {
    for (const [ip, times] of this.#messages) if (!times.some((t) => now - t < 60_000)) this.#messages.delete(ip);
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

const networkOf = (ip: string) => addressGroup(ip, 24, 64);

/**
 * The network a client address belongs to for per-network limits: its first `v4Bits` (IPv4,
 * also IPv4-mapped IPv6) or `v6Bits` (IPv6) bits, as "prefix/bits". One host's IPv6 /64 is one
 * client, as a /32 is in IPv4: an IPv6 host can pick any address of its /64.
 */
export function addressGroup(ip: string, v4Bits: number, v6Bits: number): string {
  const plain = ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (net.isIPv4(plain)) {
    const n = plain.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const masked = v4Bits === 0 ? 0 : n - (n % 2 ** (32 - v4Bits));
    return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${v4Bits}`;
  }
  const words = ipv6Words(plain);
  if (!words) return plain;
  const masked = words.map((w, i) => {
    const keep = Math.min(16, Math.max(0, v6Bits - i * 16));
    return keep === 0 ? 0 : w & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${masked.map((w) => w.toString(16)).join(':')}/${v6Bits}`;
}

function ipv6Words(ip: string): number[] | null {
  let s = ip.split('%')[0];
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const b = v4.slice(1).map(Number);
    s = `${s.slice(0, v4.index)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const words = [...h, ...Array<string>(s.includes('::') ? 8 - h.length - t.length : 0).fill('0'), ...t].map((x) => parseInt(x, 16));
  return words.length === 8 && words.every((w) => w >= 0 && w <= 0xffff) ? words : null;
}
