// Per-client fairness: simultaneous connections and messages per minute from one IP address, so
// one noisy or hostile sender cannot take the listener from everyone else.
import net from 'node:net';

export class ClientLimits {
  #connections = new Map<string, number>();
  #messages = new Map<string, number[]>();

  /** Counts a new connection; false when the client already has `max` open. */
  connect(ip: string, max: number): boolean {
    const n = this.#connections.get(ip) ?? 0;
    if (n >= max) return false;
    this.#connections.set(ip, n + 1);
    return true;
  }

  disconnect(ip: string): void {
    const n = (this.#connections.get(ip) ?? 1) - 1;
    if (n <= 0) this.#connections.delete(ip);
    else this.#connections.set(ip, n);
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
