// Counting attempts per key (client IP) in a sliding window, to slow down password and setup-code
// guessing. In memory on purpose: a restart forgets it, but per-account lock-out (users.ts) is
// stored and survives.
export class AttemptLimiter {
  #hits = new Map<string, number[]>();
  readonly max: number;
  readonly windowMs: number;
  constructor(max: number, windowMs: number) {
    this.max = max;
    this.windowMs = windowMs;
  }

  /** Seconds until the key may try again, or 0 when it may try now (and the attempt is counted). */
  take(key: string, now = Date.now()): number {
    const recent = (this.#hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.max) {
      this.#hits.set(key, recent);
      return Math.max(1, Math.ceil((recent[0] + this.windowMs - now) / 1000));
    }
    recent.push(now);
    this.#hits.set(key, recent);
    if (this.#hits.size > 10_000) this.#prune(now);
    return 0;
  }

  #prune(now: number): void {
    for (const [key, times] of this.#hits) if (times.every((t) => now - t >= this.windowMs)) this.#hits.delete(key);
  }
}
