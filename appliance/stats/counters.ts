// Mail-flow statistics: counters per served domain (and "*" for the whole box) by hour and by
// day, kept in the `stats` sublevel as `domain!hour!YYYYMMDDHH` / `domain!day!YYYYMMDD`. Counting
// happens in memory and is written every few seconds: a crash may lose seconds of statistics,
// never mail. The console's dashboard and statistics pages and SNMP read from here.
//
// What each counter counts, per message (so they can be checked against the message log):
//   received / outbound: answered at the end of DATA (accepted, held or refused with 5xx; a 4xx is
//     not counted, the sender tries again), by direction; rejected: refused with 5xx and no copy
//     kept; quarantined / deleted: some copy held / dropped, whatever the SMTP answer (a message
//     held while quarantineResponse is "reject" was answered 550 and counts here, not as rejected);
//   delivered / bounced: left the queue with some copy delivered / bounced (our bounces, notices
//     and quarantine releases included); spam / phish / virus: some copy of that class;
//   authFailures: refused SMTP AUTH attempts (box-wide only);
//   greylisted / dnsListRefused: recipients answered 451 by greylisting / refused at RCPT for the
//     client's DNS-list listings (each RCPT counts: that is what the message log records).
// The totals (`*!total!all`) are kept in the store like the rest: they continue across restarts
// and reboots and start from zero only with a new data partition, which is what SNMP's Counter32
// wants (a subagent restarting under a running snmpd cannot signal a reset).
import type { MessageLogRecord } from '../logsearch/message-log.ts';
import type { Store, Sublevel } from '../store/store.ts';

export const COUNTERS = ['received', 'outbound', 'delivered', 'bounced', 'quarantined', 'rejected', 'deleted', 'spam', 'phish', 'virus', 'authFailures', 'greylisted', 'dnsListRefused'] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;
export type Granularity = 'hour' | 'day';

const ALL = '*';
const zero = (): Counts => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counts;

function bucket(at: number, g: Granularity): string {
  const iso = new Date(at).toISOString(); // UTC buckets; the console shows them in the domain's zone
  return g === 'hour' ? iso.slice(0, 13).replace(/[-T]/g, '') : iso.slice(0, 10).replace(/-/g, '');
}

export class Stats {
  #db: Sublevel<Counts>;
  #pending = new Map<string, Counts>();
  #totals: Counts;
  #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  private constructor(db: Sublevel<Counts>, totals: Counts, flushMs: number) {
    this.#db = db;
    this.#totals = totals;
    this.#timer = setInterval(() => { void this.flush(); }, flushMs);
    this.#timer.unref();
  }

  static async open(store: Store, flushMs = 5_000): Promise<Stats> {
    const db = store.sublevel<Counts>('stats');
    const totals = { ...zero(), ...(await db.get(`${ALL}!total!all`)) };
    return new Stats(db, totals, flushMs);
  }

  /** Counters since the store was created, across restarts (SNMP's ever-increasing values). */
  totals(): Counts {
    return { ...this.#totals };
  }

  /** A message answered at DATA: accepted (some copies may be quarantined or deleted) or refused. */
  answered(log: MessageLogRecord): void {
    const add: Partial<Counts> = {};
    const inc = (c: Counter) => { add[c] = (add[c] ?? 0) + 1; };
    if (log.direction === 'outbound') inc('outbound');
    else if (log.direction === 'inbound') inc('received');
    if (log.status === 'rejected') inc('rejected');
    const states = new Set(log.recipients.map((r) => r.status));
    if (states.has('quarantined')) inc('quarantined');
    if (states.has('deleted')) inc('deleted');
    const classes = new Set(log.recipients.map((r) => r.mainClass));
    if (classes.has('Spam')) inc('spam');
    if (classes.has('Phish')) inc('phish');
    if (classes.has('Virus')) inc('virus');
    this.#count(log, add);
  }

  /** A message left the queue: delivered and/or bounced. */
  finished(log: MessageLogRecord): void {
    const add: Partial<Counts> = {};
    const states = new Set(log.recipients.map((r) => r.status));
    if (states.has('delivered')) add.delivered = 1;
    if (states.has('bounced')) add.bounced = 1;
    this.#count(log, add);
  }

  /** A recipient refused at RCPT by connection-time screening (smtp/screening.ts), for its served domain. */
  screened(kind: 'greylisted' | 'dnsListRefused', domain: string): void {
    this.#add([ALL, ...(domain ? [domain.toLowerCase()] : [])], { [kind]: 1 });
  }

  /** A refused SMTP AUTH attempt. */
  authFailed(): void {
    this.#add([ALL], { authFailures: 1 });
  }

  /** Sums of the counters over [since, until) at the given granularity, for some domains or all. */
  async range(domains: string[] | 'all', g: Granularity, since: number, until: number): Promise<Counts> {
    await this.flush();
    const sum = zero();
    const owners = domains === 'all' ? [ALL] : domains.map((d) => d.toLowerCase());
    for (const owner of owners) {
      for await (const counts of this.#db.values({ gte: `${owner}!${g}!${bucket(since, g)}`, lt: `${owner}!${g}!${bucket(until, g)}~` })) {
        for (const c of COUNTERS) sum[c] += counts[c] ?? 0;
      }
    }
    return sum;
  }

  /** Writes the counted increments (merging with what is stored). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (!this.#pending.size) return;
      const pending = this.#pending;
      this.#pending = new Map();
      const keys = [...pending.keys()];
      const stored = await this.#db.getMany(keys);
      await this.#db.batch(keys.map((key, i) => {
        const merged = { ...zero(), ...stored[i] };
        for (const c of COUNTERS) merged[c] += pending.get(key)![c];
        return { type: 'put' as const, key, value: merged };
      }));
    }).catch((err: Error) => console.error(`mailmoat: writing statistics failed: ${err.message}`));
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  #count(log: MessageLogRecord, add: Partial<Counts>): void {
    // Inbound mail counts for the recipients' domains, outbound for the sender's.
    const domainOf = (a: string) => a.slice(a.lastIndexOf('@') + 1).toLowerCase();
    this.#add([ALL, ...(log.direction === 'outbound' ? [domainOf(log.mailFrom)] : log.recipients.map((r) => domainOf(r.address)))], add);
  }

  #add(counted: string[], add: Partial<Counts>): void {
    if (!Object.keys(add).length) return;
    for (const c of COUNTERS) this.#totals[c] += add[c] ?? 0;
    const at = Date.now();
    const owners = new Set(counted);
    const keys = [`${ALL}!total!all`];
    for (const owner of owners) for (const g of ['hour', 'day'] as const) keys.push(`${owner}!${g}!${bucket(at, g)}`);
    for (const key of keys) {
      const counts = this.#pending.get(key) ?? zero();
      for (const c of COUNTERS) counts[c] += add[c] ?? 0;
      this.#pending.set(key, counts);
    }
  }
}
