// The statistics stay bounded when mail goes to many combinations of served domains
// (appliance/stats/counters.ts): a message to every combination of ten domains adds owners only
// for the sets someone can read (two domain admins' and a token's), not one per combination, and
// each readable set, each domain and the box count every message once — counters, top senders,
// score histogram — against what the records say, before and after reopening the store. A set
// nobody could read reads its domains' sum (the documented fallback); a store with the earlier
// per-combination groups loses them when opened. A readable set's quarantine size is its own
// sample (each held message once) where it has one, its domains' sum before.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { Stats } from '../../appliance/stats/counters.ts';
import { openStore, type Store } from '../../appliance/store/store.ts';

const AT = Date.UTC(2026, 10, 30, 3);
const DAY = '20261130';
const DOMAINS = Array.from({ length: 10 }, (_, i) => `d${i}.example`);
const READABLE = [DOMAINS.slice(0, 4), DOMAINS.slice(2, 8), [DOMAINS[9], DOMAINS[0]]];

/** One message to every non-empty combination of the domains (1023), senders and scores varying. */
const SENT: MessageLogRecord[] = Array.from({ length: (1 << DOMAINS.length) - 1 }, (_, i) => {
  const to = DOMAINS.filter((_, d) => (i + 1) & (1 << d)).map((d, k) => `u${k}@${d}`);
  return {
    id: `r${i}`, receivedAt: AT + i * 1000, direction: 'inbound', mailFrom: `s${i % 7}@x.test`, size: 100,
    client: { ip: `192.0.2.${i % 5}`, hostname: 'h.test', helo: 'h.test', tls: false },
    recipients: to.map((address) => ({ address, original: address, status: 'delivered', mainClass: 'Not Spam' })),
    findings: { spam: { score: (i * 13) % 100 } }, attempts: [], status: 'delivered',
  };
});

const domainsOf = (r: MessageLogRecord) => r.recipients.map((x) => x.address.slice(x.address.indexOf('@') + 1));

/** What the records say for a set: the messages with a recipient in it, each once. */
function expected(set: string[]) {
  const mine = SENT.filter((r) => domainsOf(r).some((d) => set.includes(d)));
  const senders = new Map<string, number>();
  for (const r of mine) senders.set(r.mailFrom, (senders.get(r.mailFrom) ?? 0) + 1);
  const bins = new Array<number>(20).fill(0);
  for (const r of mine) bins[Math.floor((r.findings as { spam: { score: number } }).spam.score / 5)]++;
  return { received: mine.length, bytes: mine.length * 100, senders: Object.fromEntries([...senders].sort()), bins };
}

async function read(stats: Stats, set: string[] | 'all') {
  const counts = await stats.range(set, 'hour', AT, AT + 3_600_000);
  const top = await stats.top(set, 'sender', DAY, DAY, 10);
  return {
    received: counts.received, bytes: counts.receivedBytes,
    senders: Object.fromEntries(top.map((i) => [i.value, i.count]).sort()), bins: await stats.scores(set, DAY, DAY),
  };
}

async function check(t: import('ava').ExecutionContext, stats: Stats, when: string): Promise<void> {
  for (const set of [...READABLE, ...DOMAINS.map((d) => [d])]) t.deepEqual(await read(stats, set), expected(set), `${when}: ${set.join('+')}`);
  t.deepEqual(await read(stats, 'all'), expected(DOMAINS), `${when}: box-wide`);
}

/** The owners the statistics hold keys for. */
async function owners(store: Store): Promise<string[]> {
  const keys = await store.sublevel<unknown>('stats').keys().all();
  return [...new Set(keys.map((k) => k.slice(0, k.indexOf('!'))))].sort();
}

test('many combinations of domains: owners only for the readable sets, each set counting every message once, across a reopening', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-stats-sets-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  let store = await openStore(dataDir);
  let stats = await Stats.open(store, { flushMs: 60_000, readableSets: READABLE });
  t.deepEqual(stats.readableSets(), [DOMAINS.slice(0, 4), DOMAINS.slice(2, 8), [DOMAINS[0], DOMAINS[9]]], 'sorted');
  for (const r of SENT) stats.answered(r);
  await check(t, stats, 'counted');
  const taken = ['-d0.example,d1.example,d2.example,d3.example', '-d0.example,d9.example', '-d2.example,d3.example,d4.example,d5.example,d6.example,d7.example'];
  t.deepEqual(await owners(store), ['*', ...taken, ...DOMAINS].sort(), `${SENT.length} messages to ${SENT.filter((r) => r.recipients.length > 1).length} combinations: one owner per domain and per readable set`);

  // A set nobody can read has nothing taken away: its domains' sum.
  const unread = [DOMAINS[8], DOMAINS[9]];
  const sum = expected([DOMAINS[8]]).received + expected([DOMAINS[9]]).received;
  t.is((await read(stats, unread)).received, sum);
  t.true(sum > expected(unread).received, 'which counts a message to both twice');
  await stats.close();
  await store.close();

  store = await openStore(dataDir);
  stats = await Stats.open(store, { flushMs: 60_000, readableSets: READABLE });
  await check(t, stats, 'reopened');
  // A set becoming readable counts each message once from then on.
  stats.setReadableSets([...READABLE, unread]);
  for (const r of SENT) stats.answered({ ...r, receivedAt: r.receivedAt + 86_400_000 });
  const next = await stats.range(unread, 'hour', AT + 86_400_000, AT + 86_400_000 + 3_600_000);
  t.is(next.received, expected(unread).received);
  t.is((await owners(store)).length, 1 + READABLE.length + 1 + DOMAINS.length);
  await stats.close();
  await store.close();
});

test('a store with the earlier per-combination groups loses them when opened, the domains\' figures kept', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-stats-sets-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  let store = await openStore(dataDir);
  let stats = await Stats.open(store, { flushMs: 60_000 });
  stats.answered(SENT[2]);
  await stats.close();
  const db = store.sublevel<unknown>('stats');
  await db.batch([
    { type: 'put', key: '*!meta!groups', value: ['+d0.example,d1.example'] },
    { type: 'put', key: '+d0.example,d1.example!hour!2026113003', value: { received: 1 } },
    { type: 'put', key: '+d0.example,d1.example!day!20261130', value: { received: 1 } },
  ]);
  await store.close();
  store = await openStore(dataDir);
  stats = await Stats.open(store, { flushMs: 60_000 });
  t.deepEqual(await owners(store), ['*', 'd0.example', 'd1.example']);
  t.is((await stats.range([DOMAINS[0]], 'hour', AT, AT + 3_600_000)).received, 1);
  await stats.close();
  await store.close();
});

test('a readable set\'s quarantine size is its own sample where it has one, its domains\' sum before', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-stats-sets-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const store = await openStore(dataDir);
  t.teardown(() => store.close());
  const stats = await Stats.open(store, { flushMs: 60_000 });
  const set = [DOMAINS[1], DOMAINS[0]];
  // 02:00: nobody reads the set yet; one message held for both domains.
  stats.sampleGauges({ [DOMAINS[0]]: { quarantined: 1 }, [DOMAINS[1]]: { quarantined: 1 } }, Date.UTC(2026, 10, 30, 2));
  // 03:00: the set is readable and sampled by itself.
  t.is(Stats.setOwner(set), '=d0.example,d1.example');
  stats.sampleGauges({ [DOMAINS[0]]: { quarantined: 1 }, [DOMAINS[1]]: { quarantined: 1 }, [Stats.setOwner(set)]: { quarantined: 1 } }, Date.UTC(2026, 10, 30, 3));
  const hours = await stats.gauges(set, 'hour', '2026113002', '2026113003');
  t.deepEqual(hours.get('2026113002')?.average, { quarantined: 2 }, 'before: the domains\' sum');
  t.deepEqual(hours.get('2026113003')?.average, { quarantined: 1 }, 'the set\'s own: the message once');
  t.deepEqual((await stats.gauges([DOMAINS[0]], 'hour', '2026113003', '2026113003')).get('2026113003')?.average, { quarantined: 1 });
  await stats.close();
});
