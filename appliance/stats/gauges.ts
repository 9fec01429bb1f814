// Queue and quarantine size over time: a sampler reads the delivery queue (messages, deferred) and
// the quarantine's held messages and bytes per served domain every few minutes and hands the
// readings to the statistics (Stats.sampleGauges), which keep each bucket's sample count, sums and
// peaks. A domain's quarantine figure is what it holds (a message held for two domains counts in
// each, as in the quota figures); the box-wide figure counts each held message once (Quarantine.held),
// so it can be less than the domains' sum, and so does each set of several domains someone can read
// (Stats.readableSets, sampled as the set's own owner from Quarantine.heldFor). The clock is injectable so tests sample at chosen
// instants instead of waiting.
import { Stats, type GaugeReadings } from './counters.ts';

export interface GaugeSources {
  queue(): { messages: number; deferred: number };
  /** Held messages and bytes per domain holding something (Quarantine.usages('domain')). */
  quarantine(): [string, { messages: number; bytes: number }][];
  /** Held messages and bytes of the whole box, each message once (Quarantine.held()). */
  held(): { messages: number; bytes: number };
  /** Held messages and bytes of a set of domains, each message once (Quarantine.heldFor()). */
  heldFor(domains: readonly string[]): { messages: number; bytes: number };
  /** The served domains: each gets a reading, 0 when it holds nothing. */
  domains(): string[];
}

/** Every 5 minutes: 12 samples an hour, 288 a day, enough for a queue that grows and drains. */
export const SAMPLE_INTERVAL_MS = 5 * 60_000;

export class GaugeSampler {
  #stats: Stats;
  #sources: GaugeSources;
  #now: () => number;

  constructor(stats: Stats, sources: GaugeSources, now: () => number = Date.now) {
    this.#stats = stats;
    this.#sources = sources;
    this.#now = now;
  }

  /** Takes one sample now (the clock's now); returns the readings taken. */
  sample(): Record<string, GaugeReadings> {
    const q = this.#sources.queue();
    const held = new Map(this.#sources.quarantine().map(([d, u]) => [d.toLowerCase(), u]));
    const readings: Record<string, GaugeReadings> = {};
    const box = this.#sources.held();
    readings['*'] = { queue: q.messages, deferred: q.deferred, quarantined: box.messages, quarantineBytes: box.bytes };
    for (const d of this.#sources.domains()) {
      const u = held.get(d.toLowerCase());
      readings[d.toLowerCase()] = { quarantined: u?.messages ?? 0, quarantineBytes: u?.bytes ?? 0 };
    }
    for (const set of this.#stats.readableSets()) {
      const u = this.#sources.heldFor(set);
      readings[Stats.setOwner(set)] = { quarantined: u.messages, quarantineBytes: u.bytes };
    }
    this.#stats.sampleGauges(readings, this.#now());
    return readings;
  }

  /** Samples now and every `intervalMs`; returns the stop function. */
  start(onError: (err: Error) => void, intervalMs = SAMPLE_INTERVAL_MS): () => void {
    const run = () => { try { this.sample(); } catch (err) { onError(err as Error); } };
    run();
    const timer = setInterval(run, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
