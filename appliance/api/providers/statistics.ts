// The statistics page's figures: one period's buckets from the counters (appliance/stats/), for
// the whole appliance, one domain, or a domain admin's domains together, in the time zone the
// buckets were counted in (the domain's; the appliance's for the whole box or several domains).
import { COUNTERS, zeroCounts, type Stats } from '../../stats/counters.ts';
import { periodBuckets } from '../../stats/periods.ts';
import type { Scope, StatisticsProvider } from './interfaces.ts';

export function statisticsProvider(stats: Stats): StatisticsProvider {
  return {
    async series(q) {
      const owners: string[] | 'all' = q.domain !== undefined ? [q.domain.toLowerCase()] : ownersOf(q.scope);
      const zone = stats.zoneOf(owners === 'all' || owners.length !== 1 ? 'all' : owners[0]);
      const p = periodBuckets(q.period, zone, { date: q.date, step: q.step, now: q.now });
      const found = await stats.series(owners, p.step, p.buckets[0].key, p.buckets[p.buckets.length - 1].key);
      const totals = zeroCounts();
      const points = p.buckets.map((b) => {
        const counts = found.get(b.key) ?? zeroCounts();
        for (const c of COUNTERS) totals[c] += counts[c];
        return { start: new Date(b.start).toISOString(), counts };
      });
      return {
        domains: owners, zone, period: p.period, step: p.step,
        start: new Date(p.start).toISOString(), end: new Date(p.end).toISOString(),
        ...(p.previous ? { previous: p.previous } : {}), ...(p.next ? { next: p.next } : {}),
        points, totals,
      };
    },
  };
}

function ownersOf(scope: Scope): string[] | 'all' {
  if ('all' in scope) return 'all';
  if ('domains' in scope) return scope.domains;
  // Counters are kept per domain, not per mailbox; the route admits no mailbox users.
  throw new Error('statistics are kept per domain, not per mailbox');
}
