// Counting each message once for a set of domains (appliance/stats/counters.ts), over a real store:
// messages to one, two and three domains, read for every set of those domains, give exactly what
// a walk through the records counts (messages with a recipient in the set) for the counters, the
// top senders and the score histogram, every set being one someone can read; each domain alone
// keeps its own figures; what the sets take away is kept in the store and still taken away after
// reopening. (stats-sets.test.ts: many combinations, readable sets among them.)
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { Stats } from '../../appliance/stats/counters.ts';
import { openStore } from '../../appliance/store/store.ts';

const AT = Date.UTC(2026, 10, 30, 3);
const DAY = '20261130';
const DOMAINS = ['a.example', 'b.example', 'c.example'];

function record(i: number, from: string, to: string[], score: number): MessageLogRecord {
  return {
    id: `r${i}`, receivedAt: AT + i * 1000, direction: 'inbound', mailFrom: from, size: 100,
    client: { ip: `192.0.2.${i % 3}`, hostname: 'h.test', helo: 'h.test', tls: false },
    recipients: to.map((address) => ({ address, original: address, status: 'delivered', mainClass: 'Not Spam' })),
    findings: { spam: { score } }, attempts: [], status: 'delivered',
  };
}

const SENT = [
  record(0, 'one@x.test', ['u@a.example'], 1),
  record(1, 'two@x.test', ['u@a.example', 'v@b.example'], 21),
  record(2, 'two@x.test', ['u@a.example', 'w@a.example', 'v@b.example'], 22),
  record(3, 'three@x.test', ['u@a.example', 'v@b.example', 'z@c.example'], 41),
  record(4, 'three@x.test', ['z@c.example', 'v@b.example'], 61),
  record(5, 'one@x.test', ['z@c.example'], 81),
];

/** Every non-empty subset of the domains. */
const subsets = (): string[][] => [1, 2, 3, 4, 5, 6, 7].map((m) => DOMAINS.filter((_, i) => m & (1 << i)));

/** What the records say for a set: the messages with a recipient in it. */
function expected(set: string[]) {
  const mine = SENT.filter((r) => r.recipients.some((x) => set.includes(x.address.slice(x.address.indexOf('@') + 1))));
  const senders = new Map<string, number>();
  for (const r of mine) senders.set(r.mailFrom, (senders.get(r.mailFrom) ?? 0) + 1);
  const bins = new Array<number>(20).fill(0);
  for (const r of mine) bins[Math.floor((r.findings as { spam: { score: number } }).spam.score / 5)]++;
  return { received: mine.length, senders: Object.fromEntries([...senders].sort()), bins };
}

async function check(t: import('ava').ExecutionContext, stats: Stats, when: string): Promise<void> {
  for (const set of subsets()) {
    const want = expected(set);
    const counts = await stats.range(set, 'hour', AT, AT + 3_600_000);
    t.is(counts.received, want.received, `${when}: received for ${set.join('+')}`);
    t.is(counts.delivered, 0);
    const top = await stats.top(set, 'sender', DAY, DAY, 10);
    t.deepEqual(Object.fromEntries(top.map((i) => [i.value, i.count]).sort()), want.senders, `${when}: senders for ${set.join('+')}`);
    t.true(top.every((i) => i.error === 0));
    t.deepEqual(await stats.scores(set, DAY, DAY), want.bins, `${when}: scores for ${set.join('+')}`);
  }
  t.is((await stats.range('all', 'hour', AT, AT + 3_600_000)).received, SENT.length, `${when}: box-wide`);
}

test('a set of domains counts each message once, for every set, before and after reopening', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-stats-once-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  let store = await openStore(dataDir);
  const readableSets = subsets().filter((set) => set.length >= 2);
  let stats = await Stats.open(store, { flushMs: 60_000, readableSets });
  for (const r of SENT) stats.answered(r);
  await check(t, stats, 'counted');
  await stats.close();
  await store.close();
  store = await openStore(dataDir);
  stats = await Stats.open(store, { flushMs: 60_000, readableSets });
  await check(t, stats, 'reopened');
  // A recipient belongs to one domain: the recipients' table of a set is never taken away from.
  const recipients = await stats.top(['a.example', 'b.example'], 'recipient', DAY, DAY, 10);
  t.deepEqual(Object.fromEntries(recipients.map((i) => [i.value, i.count])), { 'u@a.example': 4, 'v@b.example': 4, 'w@a.example': 1 });
  await stats.close();
  await store.close();
});
