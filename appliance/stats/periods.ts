// The periods the statistics are read by, as lists of buckets (counters.ts keys): the last 24
// hours (the dashboard), a local day by hour, an ISO week (Monday to Sunday) by day or hour, a
// calendar month by day, a calendar year by month or day — each in one time zone, the one the
// domain's calendar buckets were counted in. Hours are UTC buckets: in a zone whose offset is not
// whole hours (Asia/Kolkata) a day's first and last bucket straddle its midnights.
import { addDays, addMonths, isoDate, localTime, startOfDay, weekday, type LocalDate } from './calendar.ts';
import { hourBucket, type Granularity } from './counters.ts';

export const PERIODS = ['24h', 'day', 'week', 'month', 'year'] as const;
export type Period = (typeof PERIODS)[number];

/** The steps each period may be read by; the first is its default. */
export const STEPS: Record<Period, readonly Granularity[]> = {
  '24h': ['hour'], day: ['hour'], week: ['day', 'hour'], month: ['day'], year: ['month', 'day'],
};

export interface Bucket {
  /** The counters' bucket label (YYYYMMDDHH UTC, YYYYMMDD, YYYYMM). */
  key: string;
  /** Its first instant (ms). */
  start: number;
}

export interface PeriodBuckets {
  period: Period;
  step: Granularity;
  /** The period's first instant and the instant after its end (ms). */
  start: number;
  end: number;
  /** The dates (YYYY-MM-DD) of the period before and after, for paging; none for '24h'. */
  previous?: string;
  next?: string;
  buckets: Bucket[];
}

const HOUR = 3_600_000;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * The buckets of the period holding `date` (a local date in `zone`; '24h' ignores it and ends at
 * `now`). Throws when the step does not suit the period.
 */
export function periodBuckets(period: Period, zone: string, o: { date?: LocalDate; step?: Granularity; now?: number } = {}): PeriodBuckets {
  const now = o.now ?? Date.now();
  const step = o.step ?? STEPS[period][0];
  if (!STEPS[period].includes(step)) throw new RangeError(`a ${period} is read by ${STEPS[period].join(' or ')}, not by ${step}`);
  if (period === '24h') {
    const last = Math.floor(now / HOUR) * HOUR;
    return { period, step, start: last - 23 * HOUR, end: last + HOUR, buckets: hours(last - 23 * HOUR, last + HOUR) };
  }
  const date = o.date ?? localTime(now, zone);
  const day: LocalDate = { year: date.year, month: date.month, day: date.day };
  let first: LocalDate;
  let after: LocalDate;
  let previous: LocalDate;
  if (period === 'day') {
    first = day; after = addDays(day, 1); previous = addDays(day, -1);
  } else if (period === 'week') {
    first = addDays(day, 1 - weekday(day)); after = addDays(first, 7); previous = addDays(first, -7);
  } else if (period === 'month') {
    first = { ...day, day: 1 }; after = addMonths(first, 1); previous = addMonths(first, -1);
  } else {
    first = { year: day.year, month: 1, day: 1 }; after = { year: day.year + 1, month: 1, day: 1 }; previous = { year: day.year - 1, month: 1, day: 1 };
  }
  const start = startOfDay(first, zone);
  const end = startOfDay(after, zone);
  let buckets: Bucket[];
  if (step === 'hour') buckets = hours(Math.floor(start / HOUR) * HOUR, end);
  else if (step === 'day') {
    buckets = dayStarts(first, after, zone).map(({ d, start: at }) => ({ key: `${pad(d.year, 4)}${pad(d.month)}${pad(d.day)}`, start: at }));
  } else {
    buckets = [];
    for (let d = first; isoDate(d) < isoDate(after); d = addMonths(d, 1)) buckets.push({ key: `${pad(d.year, 4)}${pad(d.month)}`, start: startOfDay(d, zone) });
  }
  return { period, step, start, end, previous: isoDate(previous), next: isoDate(after), buckets };
}

/**
 * The first instant of every local date in [first, after). Asking the zone for each of 365 days is
 * what made a year by day slow, so it is asked at each month's start: where the offset is the same
 * at a month's start and the next's, every midnight between has that offset (no zone changes its
 * offset and back within a month); only a month with a change is asked day by day.
 */
function dayStarts(first: LocalDate, after: LocalDate, zone: string): { d: LocalDate; start: number }[] {
  const out: { d: LocalDate; start: number }[] = [];
  const wall = (d: LocalDate) => Date.UTC(d.year, d.month - 1, d.day);
  for (let m: LocalDate = first; isoDate(m) < isoDate(after);) {
    const nextMonth = addMonths(m, 1);
    const end = isoDate(nextMonth) < isoDate(after) ? nextMonth : after;
    const offset = wall(m) - startOfDay(m, zone);
    const steady = offset === wall(end) - startOfDay(end, zone);
    for (let d = m; isoDate(d) < isoDate(end); d = addDays(d, 1)) out.push({ d, start: steady ? wall(d) - offset : startOfDay(d, zone) });
    m = end;
  }
  return out;
}

function hours(from: number, end: number): Bucket[] {
  const out: Bucket[] = [];
  for (let at = from; at < end; at += HOUR) out.push({ key: hourBucket(at), start: at });
  return out;
}
