// The analysis threads: a message parsed, authenticated against a real DNS server on loopback and
// scored in another thread, with DNS answers cached in the thread, the classifier's weights seen
// through shared memory, a stuck analysis given up (and its thread replaced), resizing, and the
// heap limit each thread gets (issue 12).
import test from 'ava';
import { AnalysisPool, OLD_GENERATION_MB } from '../../appliance/pipeline/analysis-pool.ts';
import type { AnalysisJob } from '../../appliance/pipeline/analysis.ts';
import type { Resolver } from '../../appliance/dns/cache.ts';
import { hashToken, HASH_BITS } from '../../appliance/classifier/model.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';

let dns: DnsServer;
test.before(async () => {
  dns = await startDnsServer({ 'good.test': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] } });
});
test.after.always(() => dns?.close());

const raw = (from: string, subject: string) => Buffer.from(
  `From: Alice <${from}>\r\nTo: bob@example.com\r\nSubject: ${subject}\r\nX-Ticket: T-42\r\nMessage-ID: <a1@good.test>\r\n` +
  `Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello there\r\n`);

const job = (from: string, subject = 'Hello'): AnalysisJob => ({
  raw: raw(from, subject),
  msg: { id: 'a1', direction: 'inbound', client: { ip: '192.0.2.10', hostname: 'mx.good.test', helo: 'mx.good.test' }, mailFrom: from },
  hostname: 'mailmoat.test', spfNg: ['fail'], headerNames: ['x-ticket'],
});

const scoring = { trained: true, calibration: { slope: 1, t90: 1 }, spamThreshold: 90, unsureThreshold: 60 };

test('a message is parsed, authenticated and scored in a thread; DNS answers are cached there', async (t) => {
  const weights = new Float64Array(new SharedArrayBuffer(8 << HASH_BITS));
  // A DNS server of its own: the other tests of this file run at the same time and ask the shared one.
  const own = await startDnsServer({ 'good.test': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] } });
  t.teardown(() => own.close());
  const pool = new AnalysisPool({ resolver: own.resolver, weights, jobTimeoutMs: 60_000 });
  t.teardown(() => pool.close());
  pool.resize(1);
  const before = own.queries.length;
  const a = await pool.run(job('alice@good.test'), scoring, 3600);
  t.like(a.parse, { ok: true, subject: 'Hello', fromAddress: 'alice@good.test', messageId: '<a1@good.test>' });
  t.deepEqual(a.headers, { 'x-ticket': ['T-42'] }, 'only the headers the lists need come back');
  t.is(a.auth?.spf.result, 'pass');
  t.regex(a.auth?.headers.map(([n, v]) => `${n}: ${v}`).join('\n') ?? '', /Authentication-Results: mailmoat\.test;.*spf=pass/s);
  t.true(a.spam !== undefined && a.spam.score >= 0 && a.spam.score <= 100);
  const asked = own.queries.length - before;
  t.true(asked > 0);

  // The same sender again: the thread's cache answers, the DNS server is not asked.
  await pool.run(job('alice@good.test'), scoring, 3600);
  t.is(own.queries.length - before, asked);

  // The thread scores with the weights the main thread holds: raise one token's weight here and
  // the next score there goes up.
  const low = (await pool.run(job('alice@good.test', 'zzqxwinner'), scoring, 3600)).spam!.score;
  weights[hashToken('subject:zzqxwinner')] = 50;
  const high = (await pool.run(job('alice@good.test', 'zzqxwinner'), scoring, 3600)).spam!;
  t.true(high.score > low, `${high.score} > ${low}`);
  t.true(high.reasons.some((r) => r.name === 'subject:zzqxwinner'));
});

test('without a scorer there is no score; with DNS errors the thread still answers', async (t) => {
  const failing: Resolver = async () => { throw Object.assign(new Error('no such name'), { code: 'ENOTFOUND' }); };
  const pool = new AnalysisPool({ resolver: failing, jobTimeoutMs: 60_000 });
  t.teardown(() => pool.close());
  pool.resize(1);
  const a = await pool.run(job('alice@nowhere.test'), undefined, 3600);
  t.is(a.spam?.classHint, 'Unknown');
  t.is(a.auth?.spf.result, 'none');
});

test('an analysis that hangs is given up and its thread replaced; resizing adds and retires threads', async (t) => {
  // A resolver that never answers for one domain keeps that message's SPF check waiting forever.
  const stalling: Resolver = (name, rrtype) => (name.endsWith('stall.test') ? new Promise(() => {}) : dns.resolver(name, rrtype));
  const lines: string[] = [];
  const pool = new AnalysisPool({ resolver: stalling, jobTimeoutMs: 5000, say: (l) => lines.push(l) });
  t.teardown(() => pool.close());
  pool.resize(1);
  await pool.run(job('alice@good.test'), undefined, 3600); // the thread is up
  await t.throwsAsync(pool.run(job('eve@stall.test'), undefined, 3600), { message: /took longer than 5 s/ });
  t.true(lines.some((l) => /replacing the thread/.test(l)));
  const after = await pool.run(job('alice@good.test'), undefined, 3600);
  t.is(after.auth?.spf.result, 'pass', 'the replacement thread works');

  pool.resize(3);
  t.is(pool.size, 3);
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map(() => pool.run(job('alice@good.test'), undefined, 3600)));
  t.true(results.every((r) => r.parse?.ok));
  pool.resize(1);
  t.is(pool.size, 1);
  t.true((await pool.run(job('alice@good.test'), undefined, 3600)).parse!.ok);
});

test('a closed pool refuses work with a clear error', async (t) => {
  const pool = new AnalysisPool({ resolver: dns.resolver, jobTimeoutMs: 60_000 });
  pool.resize(1);
  await pool.close();
  await t.throwsAsync(pool.run(job('alice@good.test'), undefined, 3600), { message: /analysis threads are stopped/ });
});

test('an analysis thread\'s heap limit is the appliance\'s, not one derived from the machine\'s RAM', async (t) => {
  const pool = new AnalysisPool({ resolver: dns.resolver, jobTimeoutMs: 60_000 });
  t.teardown(() => pool.close());
  pool.resize(1);
  await pool.run(job('alice@good.test'), undefined, 3600);
  const [heap] = await pool.heapStatistics();
  // the old generation's limit plus the young generation's (2 × 16 MiB semi-spaces and V8's share)
  t.true(heap.heap_size_limit >= OLD_GENERATION_MB * 2 ** 20, `limit ${heap.heap_size_limit}`);
  t.true(heap.heap_size_limit <= (OLD_GENERATION_MB + 128) * 2 ** 20, `limit ${heap.heap_size_limit} B; V8 grows a heap up to 4 × its live size under a large limit`);
});
