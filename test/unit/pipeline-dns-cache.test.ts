// The DNS cache in front of the authentication checks: answers kept for their TTL (capped),
// "no such name" kept briefly, server failures never kept, concurrent questions asked once.
import test from 'ava';
import { ANSWER_TTL, createCachingResolver, type Resolver } from '../../appliance/pipeline/dns-cache.ts';

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
