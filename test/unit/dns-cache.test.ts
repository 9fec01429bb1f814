// The appliance's one DNS cache: answers kept for their TTL (capped), "no such name" kept briefly,
// server failures never kept, concurrent questions asked once; what is left of a TTL handed on to
// the analysis threads; and delivery's MX lookups and the listeners' PTR lookups asking through it
// (against a real DNS server on loopback).
import test from 'ava';
import { ANSWER_TTL, createCachingResolver, reverseName, systemResolver, type Resolver } from '../../appliance/dns/cache.ts';
import { MxResolver } from '../../appliance/delivery/mx.ts';
import { ReverseDns } from '../../appliance/smtp/reverse-dns.ts';
import { startDnsServer } from '../helpers/dns-server.ts';

function counting(answer: (name: string, type: string) => Promise<unknown>) {
  const asked: string[] = [];
  const resolve: Resolver = (name, type) => { asked.push(`${type} ${name}`); return answer(name, type); };
  return { asked, resolve };
}

const err = (code: string) => Object.assign(new Error(code), { code });

test('an answer is kept for its TTL, then asked again', async (t) => {
  let now = 0;
  const inner = counting(async () => ({ [ANSWER_TTL]: 60, records: ['192.0.2.1'] }));
  const c = createCachingResolver(inner.resolve, { maxSeconds: 3600, now: () => now });
  t.deepEqual(await c.resolve('a.test', 'A'), ['192.0.2.1']);
  now = 59_000;
  t.deepEqual(await c.resolve('A.TEST', 'A'), ['192.0.2.1']);
  t.is(inner.asked.length, 1);
  now = 61_000;
  await c.resolve('a.test', 'A');
  t.is(inner.asked.length, 2);
});

test('the TTL is capped by the configured maximum; answers without a TTL get the default', async (t) => {
  let now = 0;
  const inner = counting(async (name) => (name === 'long.test' ? { [ANSWER_TTL]: 86400, records: ['x'] } : [['v=spf1 -all']]));
  const c = createCachingResolver(inner.resolve, { maxSeconds: 100, unknownTtlSeconds: 300, now: () => now });
  await c.resolve('long.test', 'A');
  await c.resolve('txt.test', 'TXT');
  now = 99_000;
  await c.resolve('long.test', 'A');
  await c.resolve('txt.test', 'TXT');
  t.is(inner.asked.length, 2);
  now = 101_000;
  await c.resolve('long.test', 'A');
  await c.resolve('txt.test', 'TXT');
  t.is(inner.asked.length, 4, 'both expire at the cap (300 s default > 100 s cap)');
});

test('NXDOMAIN/NODATA are cached briefly; SERVFAIL and timeouts are not cached', async (t) => {
  let now = 0;
  const inner = counting(async (name) => { throw err(name === 'none.test' ? 'ENOTFOUND' : 'ESERVFAIL'); });
  const c = createCachingResolver(inner.resolve, { maxSeconds: 3600, negativeSeconds: 60, now: () => now });
  await t.throwsAsync(c.resolve('none.test', 'TXT'), { message: 'ENOTFOUND' });
  await t.throwsAsync(c.resolve('none.test', 'TXT'), { message: 'ENOTFOUND' });
  t.is(inner.asked.filter((q) => q.includes('none.test')).length, 1);
  now = 61_000;
  await t.throwsAsync(c.resolve('none.test', 'TXT'));
  t.is(inner.asked.filter((q) => q.includes('none.test')).length, 2);
  await t.throwsAsync(c.resolve('broken.test', 'TXT'), { message: 'ESERVFAIL' });
  await t.throwsAsync(c.resolve('broken.test', 'TXT'), { message: 'ESERVFAIL' });
  t.is(inner.asked.filter((q) => q.includes('broken.test')).length, 2);
});

test('the cache holds at most maxEntries answers: the oldest go first, the newest stay', async (t) => {
  const inner = counting(async (name) => ({ [ANSWER_TTL]: 3600, records: [name] }));
  const c = createCachingResolver(inner.resolve, { maxSeconds: 3600, maxEntries: 3 });
  for (const n of ['a', 'b', 'c', 'd', 'e']) await c.resolve(`${n}.test`, 'A');
  t.is(c.size(), 3);
  await c.resolve('e.test', 'A');
  await c.resolve('c.test', 'A');
  t.is(inner.asked.length, 5, 'the newest answers are still held');
  await c.resolve('a.test', 'A');
  t.is(inner.asked.length, 6, 'the oldest answer was let go');
  t.is(c.size(), 3);
});

test('concurrent questions for the same name share one query', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const inner = counting(async () => { await gate; return [['v=spf1 -all']]; });
  const c = createCachingResolver(inner.resolve, { maxSeconds: 3600 });
  const all = Promise.all([c.resolve('x.test', 'TXT'), c.resolve('x.test', 'TXT'), c.resolve('x.test', 'TXT')]);
  release();
  t.deepEqual(await all, [[['v=spf1 -all']], [['v=spf1 -all']], [['v=spf1 -all']]]);
  t.is(inner.asked.length, 1);
});

test('answer() tells what is left of the TTL, so a thread\'s cache keeps it no longer than this one', async (t) => {
  let now = 0;
  const inner = counting(async (_name, type) => (type === 'A' ? { [ANSWER_TTL]: 60, records: ['192.0.2.1'] } : [['v=spf1 -all']]));
  const c = createCachingResolver(inner.resolve, { maxSeconds: 30, unknownTtlSeconds: 300, now: () => now });
  const first = await c.answer('a.test', 'A');
  t.deepEqual(first.records, ['192.0.2.1']);
  t.is(first[ANSWER_TTL], 30, 'capped by the maximum');
  now = 20_000;
  t.is((await c.answer('a.test', 'A'))[ANSWER_TTL], 10);
  t.is((await c.answer('x.test', 'TXT'))[ANSWER_TTL], 30);
  t.is(inner.asked.length, 2);
  c.setMaxSeconds(0);
  now = 40_000;
  t.is((await c.answer('a.test', 'A'))[ANSWER_TTL], 0, 'nothing may be kept when the cache keeps nothing');
});

test('reverseName: the PTR question for IPv4, IPv4-mapped and IPv6 addresses', (t) => {
  t.is(reverseName('192.0.2.10'), '10.2.0.192.in-addr.arpa');
  t.is(reverseName('::ffff:192.0.2.10'), '10.2.0.192.in-addr.arpa');
  t.is(reverseName('2001:db8::1'), `1.0.0.0.${'0.'.repeat(20)}8.b.d.0.1.0.0.2.ip6.arpa`);
  t.is(reverseName('not an address'), undefined);
});

test('MX and PTR lookups go through the one cache and honour the zone\'s TTL', async (t) => {
  const dns = await startDnsServer({
    'foreign.test': { MX: [{ exchange: 'mx2.foreign.test', priority: 20 }, { exchange: 'mx1.foreign.test', priority: 10 }] },
    'mx1.foreign.test': { A: ['192.0.2.1'], ttl: 120 },
    'mx2.foreign.test': { A: ['192.0.2.2'], ttl: 120 },
    'nomx.test': { A: ['192.0.2.3'] },
    '10.2.0.192.in-addr.arpa': { PTR: ['client.example.test'] },
  });
  t.teardown(() => dns.close());
  let now = 0;
  const cache = createCachingResolver(systemResolver([dns.address]), { maxSeconds: 3600, now: () => now });
  const mx = new MxResolver(cache.resolve);
  const reverse = new ReverseDns(cache.resolve);
  const hosts = { kind: 'hosts', hosts: [{ name: 'mx1.foreign.test', addresses: ['192.0.2.1'] }, { name: 'mx2.foreign.test', addresses: ['192.0.2.2'] }] };
  t.deepEqual(await mx.lookup('foreign.test'), hosts);
  t.deepEqual(await mx.lookup('Foreign.TEST'), hosts);
  t.deepEqual(await mx.lookup('nomx.test'), { kind: 'hosts', hosts: [{ name: 'nomx.test', addresses: ['192.0.2.3'] }] }, 'no MX: the domain itself');
  t.deepEqual(await reverse.lookup('192.0.2.10'), ['client.example.test']);
  t.deepEqual(await reverse.lookup('192.0.2.10'), ['client.example.test']);
  t.deepEqual(await reverse.lookup('127.0.0.1'), ['localhost']);
  const asked = (name: string, type: string) => dns.queries.filter((q) => q.name.toLowerCase() === name && q.type === type).length;
  t.is(asked('foreign.test', 'MX'), 1);
  t.is(asked('mx1.foreign.test', 'A'), 1);
  t.is(asked('10.2.0.192.in-addr.arpa', 'PTR'), 1);
  // The addresses' TTL (120 s) is the zone's; the MX set, whose TTL node:dns does not tell, is kept 300 s.
  now = 121_000;
  await mx.lookup('foreign.test');
  t.is(asked('foreign.test', 'MX'), 1);
  t.is(asked('mx1.foreign.test', 'A'), 2);
});
