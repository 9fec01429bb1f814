// Times in the console: every time is shown in the time zone of the domain it belongs to (a
// message's recipient domain, a user's domain), or the appliance's own zone where there is none,
// always with the zone's abbreviation or offset so that an admin looking at rows from domains in
// different zones can tell them apart. The zones come with the session (GET /api/session), only
// for the caller's own domains. Date-range search fields are read as whole days in the caller's
// own zone, not the browser's.
import type { Language } from '../../appliance/i18n/catalog.ts';

export interface TimeZones {
  /** The appliance's zone (`time.timezone`). */
  system: string;
  /** The caller's own zone: their (first) domain's, else the appliance's. */
  own: string;
  /** Zone of each domain (and domain alias) the caller may see. */
  domains: Record<string, string>;
}

let zones: TimeZones = { system: 'UTC', own: 'UTC', domains: {} };

export function setTimeZones(next: TimeZones): void {
  zones = next;
}

export function ownZone(): string {
  return zones.own;
}

/** The zone of the first address (or domain) whose domain has one, else the appliance's. */
export function zoneFor(...addresses: (string | undefined)[]): string {
  for (const a of addresses) {
    const zone = a ? zones.domains[a.slice(a.lastIndexOf('@') + 1).toLowerCase()] : undefined;
    if (zone) return zone;
  }
  return zones.system;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatter(language: Language, zone: string): Intl.DateTimeFormat {
  const key = `${language} ${zone}`;
  let f = formats.get(key);
  if (!f) {
    const opts: Intl.DateTimeFormatOptions = language === 'ja'
      ? { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }
      : { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' };
    try {
      f = new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', { ...opts, timeZone: zone });
    } catch {
      // A zone name this browser does not know: UTC, labelled as such, rather than no date at all.
      f = new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', { ...opts, timeZone: 'UTC' });
    }
    formats.set(key, f);
  }
  return f;
}

/** ja: 2026/11/23 13:40 JST · en: 23 Nov 2026, 13:40 GMT+9. Empty for no time. */
export function formatTime(language: Language, iso: string | number | undefined, zone: string): string {
  if (iso === undefined || iso === '') return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : formatter(language, zone).format(d);
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    .formatToParts(new Date(ms));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(ms / 1000) * 1000;
}

/** The instant a day (YYYY-MM-DD) begins in a zone; undefined for no day. */
function midnight(day: string, zone: string, addDays = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  return wallInstant(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + addDays), zone);
}

/** The instant a minute (YYYY-MM-DDTHH:MM, as a datetime-local field gives it) is in a zone. */
export function minuteInstant(value: string, zone = zones.own): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) return undefined;
  return wallInstant(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5])), zone);
}

/** The instant a wall-clock time (given as if it were UTC) is in a zone. */
function wallInstant(wall: number, zone: string): string {
  let zoneName = zone;
  try { offsetAt(wall, zone); } catch { zoneName = 'UTC'; }
  // The offset at the wall time read as UTC is right except across a change of offset; one
  // correction with the offset at the first guess settles it.
  const guess = wall - offsetAt(wall, zoneName);
  return new Date(wall - offsetAt(guess, zoneName)).toISOString();
}

/** Date-range search: the start of the "from" day in the zone (inclusive). */
export function dayStart(day: string, zone = zones.own): string | undefined {
  return midnight(day, zone);
}

/** Date-range search: the end of the "to" day in the zone (the next day's start, exclusive). */
export function dayEnd(day: string, zone = zones.own): string | undefined {
  return midnight(day, zone, 1);
}

/** A query string from the fields that have a value. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
