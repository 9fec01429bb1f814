// The statistics' roll-ups against the message log they count: for a set of events around an hour,
// a day, a month and a year boundary, every hour (UTC) and every day, month and year (in each
// domain's zone: Asia/Tokyo, America/New_York) holds exactly what a walk through the records, with
// the zone's calendar computed independently, gives; the box-wide counters hold the sum. Also:
// periods as lists of buckets (DST days, half-hour zones), refusals counted per domain, totals kept
// across reopening, hours pruned, UTC days of an older store rebuilt in the domains' zones, and
// the SVG renderer.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { parseIsoDate } from '../../appliance/stats/calendar.ts';
import { Stats, zeroCounts, type Counts, type Granularity } from '../../appliance/stats/counters.ts';
import { periodBuckets } from '../../appliance/stats/periods.ts';
import { barChartSvg } from '../../appliance/stats/svg-chart.ts';
import { openStore, type Store } from '../../appliance/store/store.ts';

const ZONES: Record<string, string> = { '*': 'Asia/Tokyo', 'a.example': 'Asia/Tokyo', 'b.example': 'America/New_York' };
const zoneOf = (owner: string) => ZONES[owner] ?? 'UTC';

async function openStats(t: { teardown(fn: () => Promise<void>): void }): Promise<{ store: Store; stats: Stats; dataDir: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-stats-'));
  const store = await openStore(dataDir);
  const stats = await Stats.open(store, { zoneOf, flushMs: 60_000 });
  t.teardown(async () => { await stats.close(); await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  return { store, stats, dataDir };
}

/** Local calendar labels by another route than the code under test: Sweden's format is ISO-like. */
function labels(at: number, zone: string): Record<Granularity, string> {
  const s = new Intl.DateTimeFormat('sv-SE', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at).replace(/-/g, '');
  return { hour: new Date(at).toISOString().slice(0, 13).replace(/[-T]/g, ''), day: s, month: s.slice(0, 6), year: s.slice(0, 4) };
}

/** Events around 2026-11-30 15:00 UTC (midnight of Dec 1 in Tokyo) and 2026-12-31 15:00 UTC (New Year in Tokyo). */
function events(): MessageLogRecord[] {
  const anchors = [Date.UTC(2026, 10, 30, 15), Date.UTC(2026, 11, 31, 15), Date.UTC(2027, 0, 1, 5)]; // the last: midnight in New York
  const offsets = [-3_600_000 - 1, -61_000, -1_000, 0, 1_000, 59_000, 3_600_000, 7_200_000 + 5];
  const out: MessageLogRecord[] = [];
  let n = 0;
  for (const anchor of anchors) {
    for (const off of offsets) {
      const at = anchor + off;
      const i = n++;
      const domain = i % 3 === 0 ? 'b.example' : 'a.example';
      const outbound = i % 7 === 3;
      const state = (['delivered', 'quarantined', 'rejected', 'delivered', 'bounced', 'deleted'] as const)[i % 6];
      out.push({
        id: `r${i}`, receivedAt: at, direction: outbound ? 'outbound' : 'inbound',
        mailFrom: outbound ? `me@${domain}` : `s${i}@sender.test`, size: 1000 + i,
        recipients: outbound
          ? [{ address: `x${i}@elsewhere.test`, original: `x${i}@elsewhere.test`, status: state === 'quarantined' ? 'quarantined' : 'delivered', mainClass: 'Not Spam' }]
          : [{ address: `u${i}@${domain}`, original: `u${i}@${domain}`, status: state, mainClass: (['Not Spam', 'Spam', 'Virus', 'Phish', 'Blacklisted'] as const)[i % 5] },
              ...(i % 5 === 0 ? [{ address: `v${i}@b.example`, original: `v${i}@b.example`, status: 'delivered' as const, mainClass: 'Not Spam' }] : [])],
        // Some were deferred first (451, or no server reached) before their last attempt.
        attempts: i % 3 === 1 ? [{ at, recipients: [], host: 'mx', port: 25, code: i % 2 ? 451 : 0, reply: 'try later' }, { at, recipients: [], host: 'mx', port: 25, code: 250, reply: 'ok' }]
          : [{ at, recipients: [], host: 'mx', port: 25, code: 250, reply: 'ok' }],
        status: state === 'rejected' ? 'rejected' : state,
        // Delivery ends a little later, sometimes in the next hour or day.
        finishedAt: at + (i % 4) * 1_800_000,
      });
    }
  }
  return out;
}

/** What the counters must hold, from a walk through the records. */
function expected(records: MessageLogRecord[]): Map<string, Counts> {
  const out = new Map<string, Counts>();
  const add = (owners: string[], at: number, c: keyof Counts, n = 1) => {
    for (const owner of new Set(['*', ...owners])) {
      const l = labels(at, zoneOf(owner));
      for (const g of ['hour', 'day', 'month', 'year'] as const) {
        const key = `${owner}!${g}!${l[g]}`;
        const counts = out.get(key) ?? zeroCounts();
        counts[c] += n;
        out.set(key, counts);
      }
    }
  };
  for (const r of records) {
    const owners = r.direction === 'outbound' ? [r.mailFrom.split('@')[1]] : r.recipients.map((x) => x.address.split('@')[1]);
    const states = new Set(r.recipients.map((x) => x.status));
    add(owners, r.receivedAt, r.direction === 'outbound' ? 'outbound' : 'received');
    add(owners, r.receivedAt, r.direction === 'outbound' ? 'outboundBytes' : 'receivedBytes', r.size);
    if (r.status === 'rejected') add(owners, r.receivedAt, 'rejected');
    if (states.has('quarantined')) add(owners, r.receivedAt, 'quarantined');
    if (states.has('deleted')) add(owners, r.receivedAt, 'deleted');
    for (const [cls, c] of [['Spam', 'spam'], ['Phish', 'phish'], ['Virus', 'virus'], ['Blacklisted', 'blocked']] as const) if (r.recipients.some((x) => x.mainClass === cls)) add(owners, r.receivedAt, c);
    if (r.status === 'rejected') continue; // refused at DATA: it never leaves a queue
    if (states.has('delivered')) add(owners, r.finishedAt!, 'delivered');
    if (states.has('bounced')) add(owners, r.finishedAt!, 'bounced');
    if (r.attempts.some((a) => a.code === 0 || a.code === 451)) add(owners, r.finishedAt!, 'deferred');
  }
  return out;
}

async function feed(stats: Stats, records: MessageLogRecord[]): Promise<void> {
  for (const r of records) {
    stats.answered(r);
    if (r.status !== 'rejected') stats.finished(r);
  }
  await stats.flush();
}

test('every hour, day, month and year of every domain and of the box holds what the log says, in each domain\'s zone', async (t) => {
  const { stats } = await openStats(t);
  const records = events();
  await feed(stats, records);
  const want = expected(records);
  let compared = 0;
  for (const owner of ['*', 'a.example', 'b.example']) {
    for (const g of ['hour', 'day', 'month', 'year'] as const) {
      const got = await stats.series(owner === '*' ? 'all' : [owner], g, '0', '9');
      const wanted = new Map([...want].filter(([k]) => k.startsWith(`${owner}!${g}!`)).map(([k, v]) => [k.split('!')[2], v]));
      t.deepEqual([...got.keys()].sort(), [...wanted.keys()].sort(), `${owner} ${g} buckets`);
      for (const [label, counts] of wanted) { t.deepEqual(got.get(label), counts, `${owner} ${g} ${label}`); compared++; }
    }
  }
  t.true(compared > 40);
});

test('a message at 23:59:59 and one at 00:00:00 in Tokyo fall on different days and months there, the same day in New York', async (t) => {
  const { stats } = await openStats(t);
  const rec = (id: string, at: number, to: string): MessageLogRecord => ({
    id, receivedAt: at, direction: 'inbound', mailFrom: 's@sender.test', size: 10, attempts: [], status: 'quarantined',
    recipients: [{ address: to, original: to, status: 'quarantined', mainClass: 'Spam' }],
  });
  const midnightTokyo = Date.UTC(2026, 10, 30, 15); // 2026-12-01 00:00 JST = 2026-11-30 10:00 EST
  for (const [id, at] of [['before', midnightTokyo - 1000], ['after', midnightTokyo]] as const) {
    stats.answered(rec(`${id}-a`, at, 'u@a.example'));
    stats.answered(rec(`${id}-b`, at, 'u@b.example'));
  }
  const days = async (owner: string) => Object.fromEntries([...await stats.series([owner], 'day', '20261101', '20261231')].map(([k, v]) => [k, v.quarantined]));
  t.deepEqual(await days('a.example'), { 20261130: 1, 20261201: 1 });
  t.deepEqual(await days('b.example'), { 20261130: 2 });
  const months = Object.fromEntries([...await stats.series(['a.example'], 'month', '202601', '202612')].map(([k, v]) => [k, v.spam]));
  t.deepEqual(months, { 202611: 1, 202612: 1 });
  const hours = Object.fromEntries([...await stats.series(['a.example', 'b.example'], 'hour', '2026113014', '2026113015')].map(([k, v]) => [k, v.received]));
  t.deepEqual(hours, { 2026113014: 2, 2026113015: 2 }, 'hours are UTC and add up across domains');
  t.like(await stats.range(['a.example'], 'day', midnightTokyo, midnightTokyo + 1), { quarantined: 1 });
  t.like(await stats.range('all', 'hour', midnightTokyo - 3_600_000, midnightTokyo + 3_600_000), { received: 4, quarantined: 4 });
});

test('RCPT-time and 552 refusals count for their domain and the box; totals and buckets survive reopening', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-stats-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const at = Date.UTC(2026, 5, 1, 12); // the same date in Tokyo and New York
  let store = await openStore(dataDir);
  let stats = await Stats.open(store, { zoneOf });
  stats.refusedAtRcpt('A.example', at);
  stats.refusedAtRcpt('a.example', at);
  stats.refusedAtRcpt(undefined, at); // relay denied
  stats.refusedOversize(['b.example', 'b.example', ''], at);
  stats.refusedOversize([], at); // SIZE at MAIL FROM
  await stats.close();
  await store.close();
  store = await openStore(dataDir);
  stats = await Stats.open(store, { zoneOf });
  t.like(stats.totals(), { refusedRcpt: 3, oversize: 2, received: 0, rejected: 0 });
  const day = async (owners: string[] | 'all') => (await stats.series(owners, 'day', '20260601', '20260601')).get('20260601');
  t.like(await day(['a.example']), { refusedRcpt: 2, oversize: 0 });
  t.like(await day(['b.example']), { refusedRcpt: 0, oversize: 1 });
  t.like(await day('all'), { refusedRcpt: 3, oversize: 2 });
  await stats.close();
  await store.close();
});

test('hourly buckets are pruned; days, months and years stay', async (t) => {
  const { stats } = await openStats(t);
  const old = Date.UTC(2025, 0, 10, 12);
  const recent = Date.UTC(2026, 10, 1, 12);
  stats.refusedAtRcpt('a.example', old);
  stats.refusedAtRcpt('a.example', recent);
  t.is(await stats.pruneHours(Date.UTC(2026, 0, 1)), 2, 'the old hour of a.example and of the box');
  t.deepEqual([...(await stats.series(['a.example'], 'hour', '0', '9')).keys()], ['2026110112']);
  t.deepEqual([...(await stats.series(['a.example'], 'day', '0', '9')).keys()], ['20250110', '20261101']);
  t.deepEqual([...(await stats.series(['a.example'], 'year', '0', '9')).keys()], ['2025', '2026']);
});

test('a store whose days were UTC days has them made again from its hours in each domain\'s zone', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-stats-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const store = await openStore(dataDir);
  // As the earlier counters wrote them: hour and UTC day, no version mark.
  const raw = store.sublevel<Partial<Counts>>('stats');
  await raw.batch([
    { type: 'put', key: 'a.example!hour!2026113014', value: { received: 2 } },
    { type: 'put', key: 'a.example!hour!2026113015', value: { received: 3 } },
    { type: 'put', key: 'a.example!day!20261130', value: { received: 5 } },
    { type: 'put', key: 'a.example!day!20200101', value: { received: 7 } }, // older than every hour: kept
  ]);
  const stats = await Stats.open(store, { zoneOf });
  const days = Object.fromEntries([...await stats.series(['a.example'], 'day', '0', '9')].map(([k, v]) => [k, v.received]));
  t.deepEqual(days, { 20200101: 7, 20261130: 2, 20261201: 3 });
  t.deepEqual(Object.fromEntries([...await stats.series(['a.example'], 'month', '0', '9')].map(([k, v]) => [k, v.received])), { 202611: 2, 202612: 3 });
  await stats.close();
  // Opened again: nothing is rebuilt twice.
  const again = await Stats.open(store, { zoneOf });
  t.is((await again.series(['a.example'], 'day', '20261201', '20261201')).get('20261201')?.received, 3);
  await again.close();
  await store.close();
});

test('periods are lists of buckets in the zone: Tokyo days, a New York day of 25 hours, half-hour zones, weeks, months, years', (t) => {
  const date = (s: string) => parseIsoDate(s)!;
  const day = periodBuckets('day', 'Asia/Tokyo', { date: date('2026-12-01') });
  t.is(day.buckets.length, 24);
  t.is(new Date(day.start).toISOString(), '2026-11-30T15:00:00.000Z');
  t.is(day.buckets[0].key, '2026113015');
  t.is(day.previous, '2026-11-30');
  t.is(day.next, '2026-12-02');
  t.is(periodBuckets('day', 'America/New_York', { date: date('2026-11-01') }).buckets.length, 25, 'the day daylight saving time ends');
  t.is(periodBuckets('day', 'America/New_York', { date: date('2026-03-08') }).buckets.length, 23);
  const kolkata = periodBuckets('day', 'Asia/Kolkata', { date: date('2026-12-01') });
  t.is(new Date(kolkata.start).toISOString(), '2026-11-30T18:30:00.000Z');
  t.is(kolkata.buckets.length, 25, 'hours straddle the half-hour midnights');
  const week = periodBuckets('week', 'Asia/Tokyo', { date: date('2026-12-03') }); // a Thursday
  t.deepEqual(week.buckets.map((b) => b.key), ['20261130', '20261201', '20261202', '20261203', '20261204', '20261205', '20261206']);
  t.is(periodBuckets('week', 'Asia/Tokyo', { date: date('2026-12-03'), step: 'hour' }).buckets.length, 168);
  const month = periodBuckets('month', 'Asia/Tokyo', { date: date('2026-02-14') });
  t.is(month.buckets.length, 28);
  t.is(month.previous, '2026-01-01');
  const starts = (p: ReturnType<typeof periodBuckets>, from: number, to: number) => p.buckets.slice(from, to).map((b) => new Date(b.start).toISOString());
  t.deepEqual(starts(periodBuckets('month', 'America/New_York', { date: date('2026-11-15') }), 0, 2), ['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z']);
  t.deepEqual(starts(periodBuckets('year', 'America/New_York', { date: date('2026-01-15'), step: 'day' }), 65, 68),
    ['2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z'], 'each midnight across the change to summer time');
  const year = periodBuckets('year', 'Asia/Tokyo', { date: date('2026-06-01') });
  t.deepEqual([year.buckets[0].key, year.buckets.length], ['202601', 12]);
  t.is(periodBuckets('year', 'Asia/Tokyo', { date: date('2028-06-01'), step: 'day' }).buckets.length, 366);
  const now = Date.UTC(2026, 10, 30, 12, 34);
  const last = periodBuckets('24h', 'Asia/Tokyo', { now });
  t.deepEqual([last.buckets.length, last.buckets[23].key, last.buckets[0].key], [24, '2026113012', '2026112913']);
  t.throws(() => periodBuckets('month', 'UTC', { step: 'hour' }), { instanceOf: RangeError });
  t.is(parseIsoDate('2026-02-30'), undefined);
});

test('the SVG chart: bars stacked in proportion, every text escaped, no style attributes', (t) => {
  const svg = barChartSvg({
    title: 'Mail <today> & "tomorrow"', labels: ['00:00', '01:00', '02:00'], width: 400, height: 200,
    series: [{ name: '配送済み', color: '#1d5fa8', values: [10, 0, 5] }, { name: 'Quarantined', color: '#f5a623', values: [10, 0, 0] }],
  });
  t.true(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  t.true(svg.includes('aria-label="Mail &lt;today&gt; &amp; &quot;tomorrow&quot;"'));
  t.false(/style=/.test(svg));
  const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="(#[0-9a-f]+)"><title>([^<]*)<\/title>/g)]
    .map((m) => ({ h: Number(m[1]), color: m[2], title: m[3] }));
  t.is(heights.length, 3, 'no bar for a zero');
  t.true(Math.abs(heights[0].h - heights[1].h) < 0.01, 'equal values, equal heights');
  t.true(Math.abs(heights[0].h - 2 * heights[2].h) < 0.01, 'half the value, half the height');
  t.is(heights[0].title, '00:00 — 配送済み: 10, Quarantined: 10');
  t.notThrows(() => barChartSvg({ title: 'empty', labels: [], series: [] }));
});
