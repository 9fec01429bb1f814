// Mail-flow statistics: counters per served domain (and "*" for the whole box), rolled up as they
// are counted into hours, days, months and years, kept in the `stats` sublevel as
//   owner!hour!YYYYMMDDHH   the UTC hour (kept HOURS_KEPT_DAYS days)
//   owner!day!YYYYMMDD      the local date in the owner's time zone (kept for good)
//   owner!month!YYYYMM      the local month
//   owner!year!YYYY         the local year
// so a year by day is 365 keys and a year by month 12, however much mail passed. Hours are UTC so
// that any zone's "last 24 hours" and any set of domains add up; the calendar buckets are each
// domain's own days (the domain's `timezone`, else the appliance's; "*" the appliance's), fixed
// when counted: a zone changed later applies from then on. Counting happens in memory and is
// written every few seconds: a crash may lose seconds of statistics, never mail.
// A store written when days were UTC days (no `*!meta!rollups`) has its days, months and years
// made again from its hours when opened.
//
// What each counter counts, per message (so they can be checked against the message log), at the
// time the log records (received: receivedAt; delivered / bounced / deferred: finishedAt):
//   received / outbound: answered at the end of DATA (accepted, held or refused with 5xx; a 4xx is
//     not counted, the sender tries again), by direction; receivedBytes / outboundBytes: their
//     sizes; rejected: refused with 5xx and no copy kept; quarantined / deleted: some copy held /
//     dropped, whatever the SMTP answer (a message held while quarantineResponse is "reject" was
//     answered 550 and counts here, not as rejected);
//   tagged: accepted with some copy passed for delivery with its subject tagged (a rule's "tag"
//     action for Unsure or Spam, SPF's, or a full quarantine's fullTag; the log records it per
//     recipient as `tagged`);
//   delivered / bounced: left the queue with some copy delivered / bounced (our bounces, notices
//     and quarantine releases included); deferred: left the queue after at least one attempt that
//     failed for the time being (4xx, or no server reached); spam / phish / virus / blocked: some
//     copy of that class (blocked: Blacklisted, by a block list);
//   refusedRcpt: recipients refused at RCPT (unknown user, blocked recipient: for their domain;
//     relay denied: box-wide only), whether or not the message log records them;
//   oversize: messages refused with 552 for their size: announced at MAIL FROM (box-wide only, as
//     no recipient is known yet) or past limits.maxMessageBytes while arriving (for the
//     recipients' domains) — neither is logged nor counted as received —, or too large to be
//     scanned under filtering.oversize.action "reject" (logged, and counted as received and
//     rejected too);
//   greylisted / dnsListRefused: recipients answered 451 by greylisting / refused at RCPT for the
//     client's DNS-list listings (each RCPT counts: that is what the message log records); DNS-list
//     refusals are in refusedRcpt too, greylisted recipients are not (their retry passes);
//   authFailures: refused SMTP AUTH attempts (box-wide only).
// Beside the counters, the same sublevel keeps what a counter cannot say (counted with `received`/
// `outbound`, at receivedAt, in the owner's local days):
//   owner!top-<kind>!YYYYMMDD  the day's top senders, sender domains, recipients (the owner's own;
//     all of them box-wide and for outbound mail), client IPs and virus names, each a bounded
//     Space-Saving summary (top.ts says why); kept TOP_KEPT_DAYS days;
//   owner!topm-<kind>!YYYYMM   the same for the local month, with more room (TOP_MONTH_CAPACITY):
//     whole months (a month, a year) are read from these, 12 keys for a year instead of 365;
//   owner!scores!YYYYMMDD      the day's spam scores, SCORE_BINS bins of 5 points (messages scored);
//   owner!gauge-hour!YYYYMMDDHH, owner!gauge-day!YYYYMMDD, owner!gauge-month!YYYYMM
//     samples of the queue (box-wide) and the quarantine (per domain and box-wide): how many samples,
//     each gauge's sum and largest, so a bucket reads as an average and a peak (sampleGauges).
// Counting each message once: a question about a set of domains ("all my domains") asks how many
// messages, not how many (domain, message) pairs. An inbound message to several served domains is
// counted for each of them. The sets of several domains someone can read — a domain admin's
// domains, a domain-limited token's (main.ts hands them over, `setReadableSets`, whenever accounts
// or tokens change) — each have an owner `-a.example,b.example` (the set's domains sorted; a `-` never
// begins a domain name and commas never occur in one) holding what reading the set must take away:
// a message to k ≥ 2 of the set's domains is counted there k − 1 times. Reading a set sums its
// domains' buckets and subtracts its own `-` owner's, so the message counts once in the counters,
// the top-N tables (its sender, sender domain, client IP, virus; a recipient belongs to one domain
// and is never taken away) and the score histogram. This is bounded by the accounts, not by the mail:
// each message touches only the readable sets it meets twice, however many combinations of domains
// a spam run addresses (an earlier layout kept one owner per combination seen, `+a,b`, and read them
// all into memory: a store that has them loses them when opened). A set read before anyone could
// read it (an account made or given its domains later) has nothing to take away for that time and
// reads its domains' sum, counting a message to two of them twice — until the account existed no
// such question was asked. A correction's calendar buckets are its first domain's local days: two
// domains in different zones give a set whose days are each domain's anyway. The box ("*") counts
// each message once by itself. The sampled quarantine size is a figure, not a count of messages:
// each readable set is sampled as its own owner `=a.example,b.example` (the quarantine counts a
// message held for two of its domains once, Quarantine.heldFor), which a set reads where it has
// samples, its domains' sum before (gauges.ts).
// The totals (`*!total!all`) are kept in the store like the rest: they continue across restarts
// and reboots and start from zero only with a new data partition, which is what SNMP's Counter32
// wants (a subagent restarting under a running snmpd cannot signal a reset).
import type { MessageLogRecord } from '../logsearch/message-log.ts';
import type { Store, Sublevel } from '../store/store.ts';
import { addDays, isoDate, isZone, localTime, parseIsoDate, startOfDay, type LocalDate } from './calendar.ts';
import { addToSummary, mergeSummaries, TOP_CAPACITY, TOP_MONTH_CAPACITY, type TopEntry, type TopItem, type TopKind } from './top.ts';

export const COUNTERS = ['received', 'outbound', 'delivered', 'bounced', 'quarantined', 'rejected', 'deleted', 'spam', 'phish', 'virus',
  'refusedRcpt', 'oversize', 'receivedBytes', 'outboundBytes', 'authFailures', 'greylisted', 'dnsListRefused', 'blocked', 'deferred', 'tagged'] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;
export type Granularity = 'hour' | 'day' | 'month' | 'year';
export const GRANULARITIES: readonly Granularity[] = ['hour', 'day', 'month', 'year'];

/** How long hourly buckets are kept; days, months and years stay. */
export const HOURS_KEPT_DAYS = 400;
/** How long the days' top-N summaries are kept (a year's table and the year before's end). */
export const TOP_KEPT_DAYS = 400;
/** Spam-score bins of 5 points: 0–4.99, …, 95–100. */
export const SCORE_BINS = 20;

export const GAUGES = ['queue', 'deferred', 'quarantined', 'quarantineBytes'] as const;
export type Gauge = (typeof GAUGES)[number];
/** One reading of the gauges an owner has (the queue is the box's: domains have only the quarantine's). */
export type GaugeReadings = Partial<Record<Gauge, number>>;
/** The samples of one bucket: how many, and each gauge's sum and largest value. */
export interface GaugeBucket { samples: number; sum: GaugeReadings; max: GaugeReadings }
/** A bucket's gauges as read: the average and the peak of each (summed over the owners read). */
export interface GaugeFigures { average: GaugeReadings; peak: GaugeReadings }
const GAUGE_KEYS: Partial<Record<Granularity, string>> = { hour: 'gauge-hour', day: 'gauge-day', month: 'gauge-month' };

/** The spam score a message was given, if it was scored. */
function scoreOf(findings: unknown): number | undefined {
  const score = (findings as { spam?: { score?: unknown } } | undefined)?.spam?.score;
  return typeof score === 'number' && Number.isFinite(score) ? Math.min(100, Math.max(0, score)) : undefined;
}

/** The virus name the antivirus found, if any. */
function virusOf(findings: unknown): string | undefined {
  const av = (findings as { antivirus?: { status?: unknown; virus?: unknown } } | undefined)?.antivirus;
  return av?.status === 'infected' && typeof av.virus === 'string' && av.virus ? av.virus : undefined;
}
const ALL = '*';
const TOTAL = `${ALL}!total!all`;
const META = `${ALL}!meta!rollups`;
/** The earlier per-combination groups' list (see the header); its owners began with `+`. */
const LEGACY_GROUPS = `${ALL}!meta!groups`;
/** A readable set's corrections owner, and its own sampled gauges' owner (see the header). */
const TAKEN = '-';
const OWN = '=';
/** 2: days, months and years in the owner's zone (1, unmarked: UTC days only). */
const ROLLUP_VERSION = 2;
const DAY_MS = 86_400_000;

export const zeroCounts = (): Counts => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counts;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The UTC hour bucket of an instant: YYYYMMDDHH. */
export function hourBucket(at: number): string {
  return new Date(at).toISOString().slice(0, 13).replace(/[-T]/g, '');
}

type CalendarBuckets = { day: string; month: string; year: string };
/** Recent answers by zone and quarter of an hour: every zone's offset is a whole number of quarters. */
const recentBuckets = new Map<string, CalendarBuckets>();

/** The local day, month and year buckets of an instant in a zone. */
export function calendarBuckets(at: number, zone: string): CalendarBuckets {
  const key = `${zone} ${Math.floor(at / 900_000)}`;
  let b = recentBuckets.get(key);
  if (!b) {
    const l = localTime(at, zone);
    const year = pad(l.year, 4);
    b = { year, month: `${year}${pad(l.month)}`, day: `${year}${pad(l.month)}${pad(l.day)}` };
    if (recentBuckets.size >= 4096) recentBuckets.clear();
    recentBuckets.set(key, b);
  }
  return b;
}

/** A value as stored: only the counters that are not zero. */
type Stored = Partial<Counts>;
/** Any value of the sublevel: counters, the rollup version, a top-N summary, score bins, gauge samples. */
type Value = Stored | number | TopEntry[] | number[] | GaugeBucket | string[];

export interface StatsOptions {
  /** The time zone of an owner: a served domain (lower case), or "*" for the appliance's. */
  zoneOf?: (owner: string) => string;
  flushMs?: number;
  /** The sets of several domains someone can read at the start (see setReadableSets). */
  readableSets?: readonly (readonly string[])[];
}

export class Stats {
  #db: Sublevel<Value>;
  #pending = new Map<string, Counts>();
  /** Sightings per top-N summary key and value since the last flush. */
  #pendingTop = new Map<string, Map<string, number>>();
  #pendingScores = new Map<string, number[]>();
  #pendingGauges = new Map<string, GaugeBucket>();
  #totals: Counts;
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();
  #zoneOf: (owner: string) => string;
  /** The sets of several domains someone can read, each sorted (see the header). */
  #sets: string[][] = [];

  private constructor(db: Sublevel<Value>, totals: Counts, o: StatsOptions) {
    this.#db = db;
    this.#totals = totals;
    this.setReadableSets(o.readableSets ?? []);
    const zoneOf = o.zoneOf ?? (() => 'UTC');
    // A zone this runtime does not know counts in UTC rather than failing the mail path.
    this.#zoneOf = (owner) => {
      const z = zoneOf(owner.startsWith(TAKEN) || owner.startsWith(OWN) ? owner.slice(1).split(',')[0] : owner);
      return isZone(z) ? z : 'UTC';
    };
    this.#timer = setInterval(() => { void this.flush(); }, o.flushMs ?? 5_000);
    this.#timer.unref();
  }

  static async open(store: Store, o: StatsOptions = {}): Promise<Stats> {
    const db = store.sublevel<Value>('stats');
    const totals = { ...zeroCounts(), ...(await db.get(TOTAL) as Stored | undefined) };
    const stats = new Stats(db, totals, o);
    if (await db.get(META) !== ROLLUP_VERSION) await stats.rebuildRollups();
    if (await db.get(LEGACY_GROUPS) !== undefined) await stats.#dropLegacyGroups();
    return stats;
  }

  /**
   * The sets of several domains that someone can read (domain admins', domain-limited tokens'):
   * from now on a message to several domains of one of them is counted so that the set counts it
   * once. Sets of fewer than two domains need nothing and are left out.
   */
  setReadableSets(sets: readonly (readonly string[])[]): void {
    const seen = new Map<string, string[]>();
    for (const set of sets) {
      const domains = [...new Set(set.map((d) => d.toLowerCase()))].sort();
      if (domains.length >= 2) seen.set(domains.join(','), domains);
    }
    this.#sets = [...seen.values()];
  }

  /** The readable sets of several domains, each sorted (for sampling their gauges). */
  readableSets(): string[][] {
    return this.#sets.map((s) => [...s]);
  }

  /** The owner a readable set samples its gauges under. */
  static setOwner(domains: readonly string[]): string {
    return OWN + [...new Set(domains.map((d) => d.toLowerCase()))].sort().join(',');
  }

  /** Deletes the per-combination groups of the earlier layout and their list (see the header). */
  async #dropLegacyGroups(): Promise<void> {
    const keys = await this.#db.keys({ gte: '+', lt: ',' }).all();
    keys.push(LEGACY_GROUPS);
    for (let i = 0; i < keys.length; i += 5000) await this.#db.batch(keys.slice(i, i + 5000).map((key) => ({ type: 'del' as const, key })));
  }

  /** Counters since the store was created, across restarts (SNMP's ever-increasing values). */
  totals(): Counts {
    return { ...this.#totals };
  }

  /** A message answered at DATA: accepted (some copies may be quarantined or deleted) or refused. */
  answered(log: MessageLogRecord): void {
    const add: Partial<Counts> = {};
    const inc = (c: Counter, n = 1) => { add[c] = (add[c] ?? 0) + n; };
    if (log.direction === 'outbound') { inc('outbound'); inc('outboundBytes', log.size); }
    else if (log.direction === 'inbound') { inc('received'); inc('receivedBytes', log.size); }
    if (log.status === 'rejected') inc('rejected');
    const states = new Set(log.recipients.map((r) => r.status));
    if (states.has('quarantined')) inc('quarantined');
    if (states.has('deleted')) inc('deleted');
    if (log.recipients.some((r) => r.tagged)) inc('tagged');
    const classes = new Set(log.recipients.map((r) => r.mainClass));
    if (classes.has('Spam')) inc('spam');
    if (classes.has('Phish')) inc('phish');
    if (classes.has('Virus')) inc('virus');
    if (classes.has('Blacklisted')) inc('blocked');
    const owners = this.#owners(log);
    this.#add(owners, add, log.receivedAt);
    if (log.direction === 'inbound' || log.direction === 'outbound') this.#addDetails(log, owners);
  }

  /** A message left the queue: delivered and/or bounced. */
  finished(log: MessageLogRecord): void {
    const add: Partial<Counts> = {};
    const states = new Set(log.recipients.map((r) => r.status));
    if (states.has('delivered')) add.delivered = 1;
    if (states.has('bounced')) add.bounced = 1;
    if (log.attempts.some((a) => a.code < 200 || (a.code >= 400 && a.code < 500))) add.deferred = 1;
    this.#add(this.#owners(log), add, log.finishedAt ?? Date.now());
  }

  /** A recipient refused at RCPT; `domain` is its served domain (none for a relay refusal). */
  refusedAtRcpt(domain: string | undefined, at = Date.now()): void {
    this.#add(counted([ALL, ...(domain ? [domain.toLowerCase()] : [])]), { refusedRcpt: 1 }, at);
  }

  /** A message refused with 552 for its size; `domains` are its recipients' (none at MAIL FROM), counted once for several. */
  refusedOversize(domains: string[], at = Date.now()): void {
    this.#add(this.#ownersOf(domains), { oversize: 1 }, at);
  }

  /** A recipient refused at RCPT by connection-time screening (smtp/screening.ts), for its served domain. */
  screened(kind: 'greylisted' | 'dnsListRefused', domain: string): void {
    this.#add(counted([ALL, ...(domain ? [domain.toLowerCase()] : [])]), { [kind]: 1 }, Date.now());
  }

  /**
   * One sample of the gauges, per owner ("*": the queue and the whole quarantine; a domain: its
   * quarantine), at `at`: added to the UTC hour and the owner's local day and month.
   */
  sampleGauges(readings: Record<string, GaugeReadings>, at = Date.now()): void {
    const hour = hourBucket(at);
    for (const [owner, reading] of Object.entries(readings)) {
      const o = owner.toLowerCase();
      const b = calendarBuckets(at, this.#zoneOf(o));
      for (const key of [`${o}!gauge-hour!${hour}`, `${o}!gauge-day!${b.day}`, `${o}!gauge-month!${b.month}`]) {
        mergeGauges(this.#pendingGauges, key, { samples: 1, sum: { ...reading }, max: { ...reading } });
      }
    }
  }

  /** A refused SMTP AUTH attempt. */
  authFailed(): void {
    this.#add(counted([ALL]), { authFailures: 1 }, Date.now());
  }

  /**
   * Sums of the counters over [since, until) for some domains or all: by UTC hours, or by the
   * local days (in the zone of the first domain, or the appliance's) that hold those instants.
   */
  async range(domains: string[] | 'all', g: 'hour' | 'day', since: number, until: number): Promise<Counts> {
    const zone = this.#zoneOf(domains === 'all' ? ALL : domains[0]?.toLowerCase() ?? ALL);
    const label = (at: number) => (g === 'hour' ? hourBucket(at) : calendarBuckets(at, zone).day);
    const sum = zeroCounts();
    for (const counts of (await this.series(domains, g, label(since), label(until - 1))).values()) {
      for (const c of COUNTERS) sum[c] += counts[c];
    }
    return sum;
  }

  /**
   * The counters over [since, until) bucket by bucket, empty buckets included, for a graph: UTC
   * hours when the span is two days or less, else the local days of the first domain's zone
   * (each with the instant it starts at).
   */
  async timeline(domains: string[] | 'all', since: number, until: number): Promise<{ at: number; unit: 'hour' | 'day'; counts: Counts }[]> {
    const out: { at: number; unit: 'hour' | 'day'; counts: Counts }[] = [];
    if (until <= since) return out;
    if (until - since <= 2 * DAY_MS) {
      const first = Math.floor(since / 3_600_000) * 3_600_000;
      const found = await this.series(domains, 'hour', hourBucket(first), hourBucket(until - 1));
      for (let at = first; at < until; at += 3_600_000) out.push({ at, unit: 'hour', counts: found.get(hourBucket(at)) ?? zeroCounts() });
      return out;
    }
    const zone = this.#zoneOf(domains === 'all' ? ALL : domains[0]?.toLowerCase() ?? ALL);
    const found = await this.series(domains, 'day', calendarBuckets(since, zone).day, calendarBuckets(until - 1, zone).day);
    const start = localTime(since, zone);
    for (let d: LocalDate = start, at = startOfDay(d, zone); at < until; d = addDays(d, 1), at = startOfDay(d, zone)) {
      out.push({ at, unit: 'day', counts: found.get(calendarBuckets(at, zone).day) ?? zeroCounts() });
    }
    return out;
  }

  /** The time zone a domain's calendar buckets are counted in ('all': the appliance's). */
  zoneOf(domain: string | 'all'): string {
    return this.#zoneOf(domain === 'all' ? ALL : domain.toLowerCase());
  }

  /**
   * The buckets from `first` to `last` (inclusive, bucket labels of the granularity: YYYYMMDDHH
   * UTC hours, YYYYMMDD / YYYYMM / YYYY local ones), summed over the domains; buckets nothing was
   * counted in are absent.
   */
  async series(domains: string[] | 'all', g: Granularity, first: string, last: string): Promise<Map<string, Counts>> {
    await this.flush();
    const out = new Map<string, Counts>();
    for (const [owner, weight] of this.#weighted(domains)) {
      const prefix = `${owner}!${g}!`;
      for await (const [key, value] of this.#db.iterator({ gte: prefix + first, lte: prefix + last })) {
        const label = key.slice(prefix.length);
        const sum = out.get(label) ?? zeroCounts();
        for (const c of COUNTERS) sum[c] += weight * ((value as Stored)[c] ?? 0);
        out.set(label, sum);
      }
    }
    return out;
  }

  /**
   * The `limit` largest values of one kind over the local days `firstDay` to `lastDay` (YYYYMMDD),
   * summed over the domains (see top.ts for what the figures guarantee).
   */
  async top(domains: string[] | 'all', kind: TopKind, firstDay: string, lastDay: string, limit: number): Promise<TopItem[]> {
    await this.flush();
    // Whole months are read from the month summaries.
    const months = firstDay.endsWith('01') && monthEnds(lastDay);
    const [g, first, last] = months ? [`topm-${kind}`, firstDay.slice(0, 6), lastDay.slice(0, 6)] : [`top-${kind}`, firstDay, lastDay];
    const summaries: TopEntry[][] = [];
    for (const [owner, weight] of this.#weighted(domains)) {
      const prefix = `${owner}!${g}!`;
      for await (const value of this.#db.values({ gte: prefix + first, lte: prefix + last })) {
        // A group's counts are taken away; its error bound still adds to the result's.
        summaries.push(weight === 1 ? value as TopEntry[] : (value as TopEntry[]).map(([v, n, e]) => [v, weight * n, Math.abs(weight) * e]));
      }
    }
    return mergeSummaries(summaries, limit);
  }

  /** How many messages scored in each SCORE_BINS bin over the local days `firstDay` to `lastDay`, summed over the domains. */
  async scores(domains: string[] | 'all', firstDay: string, lastDay: string): Promise<number[]> {
    await this.flush();
    const bins = new Array<number>(SCORE_BINS).fill(0);
    for (const [owner, weight] of this.#weighted(domains)) {
      const prefix = `${owner}!scores!`;
      for await (const value of this.#db.values({ gte: prefix + firstDay, lte: prefix + lastDay })) {
        (value as number[]).forEach((n, i) => { bins[i] += weight * n; });
      }
    }
    return bins;
  }

  /**
   * The gauges' average and peak per bucket (labels as in `series`; hours, days and months are
   * sampled), summed over the domains; buckets without samples are absent.
   */
  async gauges(domains: string[] | 'all', g: Granularity, first: string, last: string): Promise<Map<string, GaugeFigures>> {
    await this.flush();
    const out = new Map<string, GaugeFigures>();
    const name = GAUGE_KEYS[g];
    if (!name) return out;
    const owners = ownersOf(domains);
    // A set of several domains reads its own samples where it has them (each held message once),
    // its domains' sum where it has none (before anyone could read it).
    const own = owners.length >= 2 ? new Set<string>() : undefined;
    for (const owner of own ? [Stats.setOwner(owners), ...owners] : owners) {
      const prefix = `${owner}!${name}!`;
      const isSet = own !== undefined && owner.startsWith(OWN);
      for await (const [key, value] of this.#db.iterator({ gte: prefix + first, lte: prefix + last })) {
        const b = value as GaugeBucket;
        const label = key.slice(prefix.length);
        if (isSet) own.add(label);
        else if (own?.has(label)) continue;
        const f = out.get(label) ?? { average: {}, peak: {} };
        for (const gauge of GAUGES) {
          if (b.sum[gauge] === undefined) continue;
          f.average[gauge] = (f.average[gauge] ?? 0) + Math.round(b.sum[gauge] / b.samples);
          f.peak[gauge] = (f.peak[gauge] ?? 0) + (b.max[gauge] ?? 0);
        }
        out.set(label, f);
      }
    }
    return out;
  }

  /**
   * Deletes the hourly buckets (counters and gauges) of hours before `before` (ms), and the top-N
   * summaries of days more than TOP_KEPT_DAYS before it; returns how many keys.
   */
  async pruneHours(before: number): Promise<number> {
    await this.flush();
    const cutoff = hourBucket(before);
    const topCutoff = hourBucket(before - (TOP_KEPT_DAYS - HOURS_KEPT_DAYS) * DAY_MS).slice(0, 8);
    const doomed: string[] = [];
    for await (const key of this.#db.keys()) {
      const [owner, g, label] = key.split('!');
      if (owner === undefined || g === undefined) continue;
      if ((g === 'hour' || g === 'gauge-hour') && label < cutoff) doomed.push(key);
      else if (g.startsWith('top-') && label < topCutoff) doomed.push(key);
      else if (g.startsWith('topm-') && label < topCutoff.slice(0, 6)) doomed.push(key);
    }
    for (let i = 0; i < doomed.length; i += 5000) await this.#db.batch(doomed.slice(i, i + 5000).map((key) => ({ type: 'del' as const, key })));
    return doomed.length;
  }

  /**
   * Makes the day, month and year buckets again from the hourly ones, in each owner's zone (for a
   * store whose days were UTC days). Hours pruned before cannot come back: their days are kept as
   * they were.
   */
  async rebuildRollups(): Promise<void> {
    await this.flush();
    const hours: [string, string, Stored][] = [];
    const calendar: string[] = [];
    for await (const [key, value] of this.#db.iterator()) {
      const [owner, g, label] = key.split('!');
      if (g === 'hour') hours.push([owner, label, value as Stored]);
      else if (g === 'day' || g === 'month' || g === 'year') calendar.push(key);
    }
    const firstHourDay = new Map<string, string>();
    for (const [owner, label] of hours) if (!firstHourDay.has(owner) || label < firstHourDay.get(owner)!) firstHourDay.set(owner, label.slice(0, 8));
    const rebuilt = new Map<string, Counts>();
    for (const [owner, label, value] of hours) {
      const at = Date.UTC(Number(label.slice(0, 4)), Number(label.slice(4, 6)) - 1, Number(label.slice(6, 8)), Number(label.slice(8, 10)));
      const b = calendarBuckets(at, this.#zoneOf(owner));
      for (const key of [`${owner}!day!${b.day}`, `${owner}!month!${b.month}`, `${owner}!year!${b.year}`]) {
        const sum = rebuilt.get(key) ?? zeroCounts();
        for (const c of COUNTERS) sum[c] += value[c] ?? 0;
        rebuilt.set(key, sum);
      }
    }
    // Calendar buckets older than the owner's first hour have nothing to be rebuilt from: kept.
    const ops: { type: 'put' | 'del'; key: string; value?: Stored | number }[] = [];
    for (const key of calendar) {
      const [owner, g, label] = key.split('!');
      const first = firstHourDay.get(owner);
      if (first !== undefined && (g !== 'day' || label >= first)) ops.push({ type: 'del', key });
    }
    for (const [key, counts] of rebuilt) ops.push({ type: 'put', key, value: compact(counts) });
    ops.push({ type: 'put', key: META, value: ROLLUP_VERSION });
    for (let i = 0; i < ops.length; i += 5000) {
      await this.#db.batch(ops.slice(i, i + 5000).map((o) => (o.type === 'del' ? { type: 'del' as const, key: o.key } : { type: 'put' as const, key: o.key, value: o.value! })));
    }
  }

  /** Writes the counted increments (merging with what is stored). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (!this.#pending.size && !this.#pendingTop.size && !this.#pendingScores.size && !this.#pendingGauges.size) return;
      const [pending, top, scores, gauges] = [this.#pending, this.#pendingTop, this.#pendingScores, this.#pendingGauges];
      this.#pending = new Map();
      this.#pendingTop = new Map();
      this.#pendingScores = new Map();
      this.#pendingGauges = new Map();
      const keys = [...pending.keys(), ...top.keys(), ...scores.keys(), ...gauges.keys()];
      const stored = await this.#db.getMany(keys);
      await this.#db.batch(keys.map((key, i) => {
        const was = stored[i];
        let value: Value;
        const counts = pending.get(key);
        const seen = top.get(key);
        const bins = scores.get(key);
        if (counts) {
          const merged = { ...zeroCounts(), ...(was as Stored | undefined) };
          for (const c of COUNTERS) merged[c] += counts[c];
          value = compact(merged);
        } else if (seen) value = addToSummary((was as TopEntry[] | undefined) ?? [], seen, key.includes('!topm-') ? TOP_MONTH_CAPACITY : TOP_CAPACITY);
        else if (bins) value = ((was as number[] | undefined) ?? new Array<number>(SCORE_BINS).fill(0)).map((n, j) => n + (bins[j] ?? 0));
        else {
          const merged = new Map<string, GaugeBucket>(was ? [[key, was as GaugeBucket]] : []);
          mergeGauges(merged, key, gauges.get(key)!);
          value = merged.get(key)!;
        }
        return { type: 'put' as const, key, value };
      }));
    }).catch((err: Error) => console.error(`mailmoat: writing statistics failed: ${err.message}`));
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  /**
   * Inbound mail counts for the recipients' domains, outbound for the sender's; "*" for both; with
   * what the readable sets meeting several of the domains take away.
   */
  #owners(log: MessageLogRecord): Counted {
    const domainOf = (a: string) => a.slice(a.lastIndexOf('@') + 1).toLowerCase();
    if (log.direction === 'outbound') return counted([ALL, domainOf(log.mailFrom)]);
    return this.#ownersOf(log.recipients.map((r) => domainOf(r.address)));
  }

  /** "*" and some domains, each readable set holding k ≥ 2 of them taking the message away k − 1 times. */
  #ownersOf(names: string[]): Counted {
    const domains = [...new Set(names.filter(Boolean).map((d) => d.toLowerCase()))];
    const taken: [string, number][] = [];
    if (domains.length >= 2) {
      for (const set of this.#sets) {
        let k = 0;
        for (const d of domains) if (set.includes(d)) k++;
        if (k >= 2) taken.push([TAKEN + set.join(','), k - 1]);
      }
    }
    return { owners: [ALL, ...domains], taken };
  }

  /** The owners to read for some domains, each with the weight its figures are summed with (see the header). */
  #weighted(domains: string[] | 'all'): [string, number][] {
    const owners = ownersOf(domains);
    const out: [string, number][] = owners.map((o) => [o, 1]);
    if (domains !== 'all' && owners.length >= 2) out.push([TAKEN + [...owners].sort().join(','), -1]);
    return out;
  }

  /** The message's senders, recipients, client, virus and score into its owners' day summaries. */
  #addDetails(log: MessageLogRecord, counted: Counted): void {
    const domainOf = (a: string) => a.slice(a.lastIndexOf('@') + 1).toLowerCase();
    const sender = log.mailFrom.toLowerCase();
    const virus = virusOf(log.findings);
    const score = scoreOf(log.findings);
    const weighted = new Map<string, number>([...counted.owners.filter(Boolean).map((o): [string, number] => [o, 1]), ...counted.taken]);
    for (const [owner, times] of weighted) {
      const { day, month } = calendarBuckets(log.receivedAt, this.#zoneOf(owner));
      const see = (kind: TopKind, value: string | undefined) => {
        if (!value) return;
        for (const key of [`${owner}!top-${kind}!${day}`, `${owner}!topm-${kind}!${month}`]) {
          const counts = this.#pendingTop.get(key) ?? new Map<string, number>();
          counts.set(value, (counts.get(value) ?? 0) + times);
          this.#pendingTop.set(key, counts);
        }
      };
      // The null sender (bounces) is a sender too: "<>" in the table.
      see('sender', sender || '<>');
      if (sender) see('senderDomain', domainOf(sender));
      // A recipient belongs to one domain: a set never takes them away.
      const own = owner === ALL || log.direction === 'outbound' ? log.recipients
        : owner.startsWith(TAKEN) ? [] : log.recipients.filter((r) => domainOf(r.address) === owner);
      for (const r of new Set(own.map((x) => x.address.toLowerCase()))) see('recipient', r);
      see('clientIp', log.client?.ip);
      see('virus', virus);
      if (score !== undefined) {
        const key = `${owner}!scores!${day}`;
        const bins = this.#pendingScores.get(key) ?? new Array<number>(SCORE_BINS).fill(0);
        bins[Math.min(SCORE_BINS - 1, Math.floor(score / (100 / SCORE_BINS)))] += times;
        this.#pendingScores.set(key, bins);
      }
    }
  }

  #add(counted: Counted, add: Partial<Counts>, at: number): void {
    if (!Object.keys(add).length) return;
    for (const c of COUNTERS) this.#totals[c] += add[c] ?? 0;
    const hour = hourBucket(at);
    const keys: [string, number][] = [[TOTAL, 1]];
    for (const [owner, times] of new Map<string, number>([...counted.owners.filter(Boolean).map((o): [string, number] => [o, 1]), ...counted.taken])) {
      const b = calendarBuckets(at, this.#zoneOf(owner));
      for (const key of [`${owner}!hour!${hour}`, `${owner}!day!${b.day}`, `${owner}!month!${b.month}`, `${owner}!year!${b.year}`]) keys.push([key, times]);
    }
    for (const [key, times] of keys) {
      const counts = this.#pending.get(key) ?? zeroCounts();
      for (const c of COUNTERS) counts[c] += times * (add[c] ?? 0);
      this.#pending.set(key, counts);
    }
  }
}

/** The owners a message is counted for, and the readable sets taking it away, each with how many times. */
interface Counted { owners: string[]; taken: [string, number][] }
const counted = (owners: string[]): Counted => ({ owners, taken: [] });

/** Whether a day label (YYYYMMDD) is the last day of its month. */
function monthEnds(day: string): boolean {
  const d = parseIsoDate(`${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`);
  return d !== undefined && isoDate(addDays(d, 1)).endsWith('-01');
}

function ownersOf(domains: string[] | 'all'): string[] {
  return domains === 'all' ? [ALL] : [...new Set(domains.map((d) => d.toLowerCase()))];
}

/** Adds a bucket's samples to the one under `key` in `into`. */
function mergeGauges(into: Map<string, GaugeBucket>, key: string, add: GaugeBucket): void {
  const b = into.get(key);
  if (!b) { into.set(key, { samples: add.samples, sum: { ...add.sum }, max: { ...add.max } }); return; }
  b.samples += add.samples;
  for (const g of GAUGES) {
    if (add.sum[g] !== undefined) b.sum[g] = (b.sum[g] ?? 0) + add.sum[g];
    if (add.max[g] !== undefined) b.max[g] = Math.max(b.max[g] ?? 0, add.max[g]);
  }
}

function compact(counts: Counts): Stored {
  const out: Stored = {};
  for (const c of COUNTERS) if (counts[c]) out[c] = counts[c];
  return out;
}

/** Prunes hourly buckets older than HOURS_KEPT_DAYS now and then every `intervalMs`. */
export function startStatsRetention(stats: Stats, onError: (err: Error) => void, intervalMs = 6 * 60 * 60 * 1000): () => void {
  const run = () => { stats.pruneHours(Date.now() - HOURS_KEPT_DAYS * DAY_MS).catch(onError); };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
