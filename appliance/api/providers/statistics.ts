// The statistics page's figures: one period's buckets from the counters (appliance/stats/), for
// the whole appliance, one domain, or a domain admin's domains together, in the time zone the
// buckets were counted in (the domain's; the appliance's for the whole box or several domains);
// with the queue and quarantine sizes sampled into the same buckets, and the period's top-N tables
// and spam-score histogram, which are kept by local day and so read the whole days of the period.
import { isoDate, localTime } from '../../stats/calendar.ts';
import { calendarBuckets, COUNTERS, SCORE_BINS, zeroCounts, type Stats } from '../../stats/counters.ts';
import { periodBuckets, STEPS } from '../../stats/periods.ts';
import type { Scope, StatisticsDays, StatisticsProvider, StatisticsQuery } from './interfaces.ts';

export function statisticsProvider(stats: Stats): StatisticsProvider {
  const ownersAndZone = (q: StatisticsQuery) => {
    const owners: string[] | 'all' = q.domain !== undefined ? [q.domain.toLowerCase()] : ownersOf(q.scope);
    return { owners, zone: stats.zoneOf(owners === 'all' || owners.length !== 1 ? 'all' : owners[0]) };
  };
  /** The period's first and last local day (bucket labels) and how the answer names them. */
  const days = (q: StatisticsQuery) => {
    const { owners, zone } = ownersAndZone(q);
    const p = periodBuckets(q.period, zone, { date: q.date, step: STEPS[q.period][0], now: q.now });
    const first = calendarBuckets(p.start, zone).day;
    const last = calendarBuckets(p.end - 1, zone).day;
    const answer: StatisticsDays = {
      domains: owners, zone, period: q.period, firstDay: isoDate(localTime(p.start, zone)), lastDay: isoDate(localTime(p.end - 1, zone)),
    };
    return { owners, first, last, answer };
  };
  return {
    async series(q) {
      const { owners, zone } = ownersAndZone(q);
      const p = periodBuckets(q.period, zone, { date: q.date, step: q.step, now: q.now });
      const first = p.buckets[0].key;
      const last = p.buckets[p.buckets.length - 1].key;
      const [found, gauges] = await Promise.all([stats.series(owners, p.step, first, last), stats.gauges(owners, p.step, first, last)]);
      const totals = zeroCounts();
      const points = p.buckets.map((b) => {
        const counts = found.get(b.key) ?? zeroCounts();
        for (const c of COUNTERS) totals[c] += counts[c];
        const g = gauges.get(b.key);
        return { start: new Date(b.start).toISOString(), counts, ...(g ? { gauges: g } : {}) };
      });
      return {
        domains: owners, zone, period: p.period, step: p.step,
        start: new Date(p.start).toISOString(), end: new Date(p.end).toISOString(),
        ...(p.previous ? { previous: p.previous } : {}), ...(p.next ? { next: p.next } : {}),
        points, totals,
      };
    },
    async top(q) {
      const d = days(q);
      return { ...d.answer, kind: q.kind, items: await stats.top(d.owners, q.kind, d.first, d.last, q.limit) };
    },
    async scores(q) {
      const d = days(q);
      return { ...d.answer, binWidth: 100 / SCORE_BINS, bins: await stats.scores(d.owners, d.first, d.last) };
    },
  };
}

function ownersOf(scope: Scope): string[] | 'all' {
  if ('all' in scope) return 'all';
  if ('domains' in scope) return scope.domains;
  // Counters are kept per domain, not per mailbox; the route admits no mailbox users.
  throw new Error('statistics are kept per domain, not per mailbox');
}
