// Calendar arithmetic in an IANA time zone, for the statistics' buckets and periods: the local
// date and hour of an instant, and the instant a local day begins. Pure functions on Intl (no
// time zone database of our own); each zone's formatter is made once, since the mail path asks
// for every counted message.
// A local day may have 23 or 25 hours (daylight saving time); a zone whose offset is not whole
// hours (Asia/Kolkata) has local days that do not begin on a UTC hour, which is why hours are
// kept in UTC and days, months and years in each domain's own zone (counters.ts).

export interface LocalDate { year: number; month: number; day: number }
export interface LocalTime extends LocalDate { hour: number; minute: number }

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether Intl knows the zone (a configuration may name one this runtime does not). */
export function isZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The local date and time of an instant (ms) in the zone. */
export function localTime(at: number, zone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year, month: parts.month, day: parts.day, hour: parts.hour, minute: parts.minute };
}

/** The zone's offset from UTC at an instant, in ms (east positive). */
function offsetAt(at: number, zone: string): number {
  const l = localTime(at, zone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute);
  return asUtc - Math.floor(at / 60_000) * 60_000;
}

/** The first instant (ms) of a local date in the zone (its midnight, or the first hour after a gap). */
export function startOfDay(d: LocalDate, zone: string): number {
  const wall = Date.UTC(d.year, d.month - 1, d.day);
  // Two rounds settle the offset around a change; a midnight that does not exist moves forward.
  let at = wall - offsetAt(wall, zone);
  at = wall - offsetAt(at, zone);
  const l = localTime(at, zone);
  return l.year === d.year && l.month === d.month && l.day === d.day ? at : at + 3_600_000;
}

/** A local date moved by whole days (calendar arithmetic, independent of the zone). */
export function addDays(d: LocalDate, days: number): LocalDate {
  const x = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: x.getUTCFullYear(), month: x.getUTCMonth() + 1, day: x.getUTCDate() };
}

export function addMonths(d: LocalDate, months: number): LocalDate {
  const x = new Date(Date.UTC(d.year, d.month - 1 + months, 1));
  return { year: x.getUTCFullYear(), month: x.getUTCMonth() + 1, day: 1 };
}

/** 1 = Monday … 7 = Sunday (ISO 8601). */
export function weekday(d: LocalDate): number {
  return new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() || 7;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** YYYY-MM-DD */
export function isoDate(d: LocalDate): string {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

/** Reads YYYY-MM-DD; undefined when it is not a real date. */
export function parseIsoDate(text: string): LocalDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const d = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  return isoDate(addDays(d, 0)) === text ? d : undefined;
}
