// Counting attempts per key (a client address, an account name) in a sliding window, to slow down
// password and setup-code guessing: the console's logins and setup code, and SMTP AUTH
// (smtp/auth-limits.ts). In memory on purpose: a restart forgets it, but per-account lock-out
// (users.ts) is stored and survives.
export class AttemptLimiter {
  #hits = new Map<string, number[]>();
  max: number;
  windowMs: number;
  constructor(max: number, windowMs: number) {
    this.max = max;
    this.windowMs = windowMs;
  }

  /** Seconds until the key may try again, or 0 when it may try now (and the attempt is counted). */
  take(key: string, now = Date.now()): number {
    const wait = this.wait(key, now);
    if (!wait) this.add(key, now);
    return wait;
  }

  /** Seconds until the key may try again (it has `max` attempts in the window), else 0; counts nothing. */
  wait(key: string, now = Date.now()): number {
    const recent = this.#recent(key, now);
    return recent.length >= this.max ? Math.max(1, Math.ceil((recent[0] + this.windowMs - now) / 1000)) : 0;
  }

  /** Counts an attempt; returns how many the key has in the window now. */
  add(key: string, now = Date.now()): number {
    const recent = this.#recent(key, now);
    recent.push(now);
    this.#hits.set(key, recent);
    if (this.#hits.size > 10_000) this.#prune(now);
    return recent.length;
  }

  #recent(key: string, now: number): number[] {
    const recent = (this.#hits.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length) this.#hits.set(key, recent);
    else this.#hits.delete(key);
    return recent;
  }

  #prune(now: number): void {
    for (const [key, times] of this.#hits) if (times.every((t) => now - t >= this.windowMs)) this.#hits.delete(key);
  }
}
