// Top-N tables (senders, sender domains, recipients, client IPs, virus names) kept in bounded
// space: each owner's local day of each kind is one Space-Saving summary (Metwally, Agrawal,
// El Abbadi 2005) of at most TOP_CAPACITY entries [value, count, error]. A value already in the
// summary adds to its count; a new one takes a free slot, or replaces the smallest entry and
// inherits its count as `error`. So memory and store stay bounded however many distinct senders a
// spam run brings, every value seen more than total / capacity times that day is in the summary,
// and each count overstates the truth by at most its `error` (0 while a day has fewer distinct
// values than slots, which is most days of most domains: the tables are then exact).
// A week sums its days' summaries: a value that fell out of some day's summary misses that day's
// few counts, so its figures are estimates within the errors shown with them. Each month also has
// its own larger summary, fed the same sightings, so a month or a year (12 of them) is read from
// few keys with the month's own error bound rather than 365 days' losses.
// Bounded counters (a fixed top-K without replacement) were the alternative: they are exact for
// the first K values of the day and blind to a heavy sender that starts late; Misra-Gries gives the
// same guarantee with underestimates, which read worse in an admin's table than an error bound.

export const TOP_KINDS = ['sender', 'senderDomain', 'recipient', 'clientIp', 'virus'] as const;
export type TopKind = (typeof TOP_KINDS)[number];

/** Entries per summary: a day of one kind for one owner. */
export const TOP_CAPACITY = 300;
/** Entries of a month's summary (whole months and years are read from those). */
export const TOP_MONTH_CAPACITY = 1000;

/** [value, count, error] */
export type TopEntry = [string, number, number];

/** Adds `n` sightings of each value to a day's summary (in place), keeping at most `capacity` entries. */
export function addToSummary(summary: TopEntry[], counts: Map<string, number>, capacity = TOP_CAPACITY): TopEntry[] {
  const at = new Map(summary.map((e, i) => [e[0], i]));
  for (const [value, n] of counts) {
    const i = at.get(value);
    if (i !== undefined) { summary[i][1] += n; continue; }
    if (summary.length < capacity) {
      at.set(value, summary.length);
      summary.push([value, n, 0]);
      continue;
    }
    let min = 0;
    for (let j = 1; j < summary.length; j++) if (summary[j][1] < summary[min][1]) min = j;
    const floor = summary[min][1];
    at.delete(summary[min][0]);
    at.set(value, min);
    summary[min] = [value, floor + n, floor];
  }
  return summary;
}

export interface TopItem {
  value: string;
  count: number;
  /**
   * How much `count` may overstate the truth (0: exact); for a set of domains whose messages'
   * groups are taken away (counters.ts), how far it may be off either way.
   */
  error: number;
}

/** The `limit` largest values of summaries summed (days of a period, or several domains; a negative count takes away). */
export function mergeSummaries(summaries: Iterable<TopEntry[]>, limit: number): TopItem[] {
  const sum = new Map<string, TopItem>();
  for (const s of summaries) {
    for (const [value, count, error] of s) {
      const item = sum.get(value);
      if (item) { item.count += count; item.error += error; } else sum.set(value, { value, count, error });
    }
  }
  // A value whose sightings were all taken away again (counted once for a set of domains) is gone.
  return [...sum.values()].filter((i) => i.count > 0).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1)).slice(0, limit);
}
