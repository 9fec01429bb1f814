// Per-client fairness: simultaneous connections and messages per minute from one IP address, so
// one noisy or hostile sender cannot take the listener from everyone else.

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
