// Connection-time screening over real SMTP, with a real DNS server on loopback: greylisting with a
// client retrying while the test moves the appliance's clock (deferred, deferred again too early,
// passed, then known; per-domain off; allow-listed, SPF-passing and relay clients skipped; the
// automatic whitelist), DNS lists refusing at RCPT above the reject score or adding to the score
// (a zone that never answers left out), HELO findings in the score — each in the message log, its
// search and the counters.
import test from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import type { ConnectionFindings, Findings } from '../../appliance/pipeline/message-context.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { sendMail, smtpDialog } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const DAY = 86_400_000;

let dns: DnsServer;
test.before(async () => {
  dns = await startDnsServer({
    'spf.test': { TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] },
    // 127.0.0.3 is on both blocklists (60 points: refused), 127.0.0.4 on one (30: scored).
    '3.0.0.127.bl-one.test': { A: ['127.0.0.2'] },
    '3.0.0.127.bl-two.test': { A: ['127.0.0.2'] },
    '4.0.0.127.bl-one.test': { A: ['127.0.0.2'] },
    '1.0.0.127.slow.test': { silent: true },
    '3.0.0.127.slow.test': { silent: true },
    '4.0.0.127.slow.test': { silent: true },
  });
});
test.after.always(async () => { await dns?.close(); });

/** One transaction from `localAddress`, line by line; the replies to RCPT and (when reached) the final dot. */
async function transaction(port: number, opts: { localAddress?: string; helo?: string; from: string; to: string; raw?: string }) {
  const d = await smtpDialog(port, { localAddress: opts.localAddress ?? '127.0.0.1' });
  try {
    await d.send(`EHLO ${opts.helo ?? 'client.test'}`);
    await d.send(`MAIL FROM:<${opts.from}>`);
    const rcpt = await d.send(`RCPT TO:<${opts.to}>`);
    if (!rcpt.startsWith('250')) return { rcpt };
    await d.send('DATA');
    const data = await d.send(Buffer.from(`${opts.raw ?? message({ from: opts.from, to: opts.to })}\r\n.\r\n`));
    return { rcpt, data };
  } finally {
    d.end();
  }
}

const logged = (a: { app: { log: { newest(): AsyncGenerator<MessageLogRecord> } } }) => async () => {
  const out: MessageLogRecord[] = [];
  for await (const r of a.app.log.newest()) out.push(r);
  return out;
};

test('greylisting: deferred, deferred again too early, passed after the delay; skips; automatic whitelist; logged and counted', async (t) => {
  const sink = await startSink();
  const clock = { now: Date.now() };
  const routes = [{ host: '127.0.0.1', port: sink.port }];
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes }, { name: 'nogrey.test', routes }],
    policy: { domains: { 'nogrey.test': { greylisting: false } }, mailboxes: { 'vip@example.com': { greylisting: false } } },
    relay: { networks: ['127.0.0.9/32'] },
    filtering: { greylisting: { enabled: true, autoWhitelistAfter: 2, skipSpfPass: true } },
  }, { filter: deliverAll, resolver: dns.resolver, now: () => clock.now });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const send = (from: string, to: string) => sendMail({ port: a.inbound, from, to: [to], raw: message({ from, to }) });

  const first = await send('a@sender.test', 'bob@example.com');
  t.is(first.code, 451, first.response);
  t.regex(first.response, /4\.7\.1 Greylisted: please try again in 300 seconds/);
  clock.now += 60_000;
  const early = await send('a@sender.test', 'bob@example.com');
  t.is(early.code, 451);
  t.regex(early.response, /try again in 240 seconds/);
  clock.now += 240_000;
  t.true((await send('a@sender.test', 'bob@example.com')).ok);
  t.true((await send('a@sender.test', 'bob@example.com')).ok, 'a known triplet passes at once');

  // Not greylisted: a domain and a mailbox whose policy turned it off, an allow-listed sender, SPF passing (skipSpfPass), a relay client.
  t.true((await send('a@sender.test', 'x@nogrey.test')).ok);
  t.true((await send('a@sender.test', 'vip@example.com')).ok);
  await a.app.lists.add({ direction: 'inbound', kind: 'sender-allow', scope: 'domain', owner: 'example.com', value: 'friend@allowed.test' });
  t.true((await send('friend@allowed.test', 'bob@example.com')).ok);
  t.true((await send('news@spf.test', 'bob@example.com')).ok);
  t.regex((await transaction(a.inbound, { localAddress: '127.0.0.9', from: 'z@sender.test', to: 'carol@example.com' })).rcpt, /^250/);

  // A second successful retry puts the client's /24 on the automatic whitelist (autoWhitelistAfter: 2).
  t.is((await send('a@sender.test', 'carol@example.com')).code, 451);
  clock.now += 301_000;
  t.true((await send('a@sender.test', 'carol@example.com')).ok);
  t.true((await send('new@else.test', 'dave@example.com')).ok, 'the whitelisted client is not greylisted');
  await sink.waitFor(9);

  // Three deferrals: each logged (class Greylist, status tempfailed, the reply) and counted.
  const deferred = await eventually(async () => {
    const page = await a.app.log.search({ conditions: [{ field: 'class', value: 'Greylist' }], match: 'all', mode: 'exact', visible: () => true, limit: 50, scanCap: 1000 });
    return page.records.length === 3 ? page.records : undefined;
  });
  for (const r of deferred) {
    t.is(r.status, 'tempfailed');
    t.is(r.recipients[0].mainClass, 'Greylist');
    t.regex(r.reply ?? '', /^451 4\.7\.1 Greylisted/);
  }
  t.deepEqual(deferred.map((r) => r.recipients[0].address).sort(), ['bob@example.com', 'bob@example.com', 'carol@example.com']);
  t.like(await a.app.stats.range('all', 'day', Date.now() - DAY, Date.now() + DAY), { greylisted: 3, dnsListRefused: 0 });
  t.like(await a.app.stats.range(['example.com'], 'day', Date.now() - DAY, Date.now() + DAY), { greylisted: 3 });

  // Past every record's expiry the sweep empties the store, and the client starts over.
  clock.now += 37 * DAY;
  t.true(await a.app.greylist.sweep() > 0);
  t.is(await a.app.greylist.size(), 0);
  t.is((await send('a@sender.test', 'bob@example.com')).code, 451);
});

test('DNS lists: refused at RCPT at the reject score, otherwise scored with reasons; a silent zone left out; HELO findings scored', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    relay: { networks: [] },
    filtering: {
      antivirus: { enabled: false }, spamThreshold: 100, unsureThreshold: 100,
      dnsLists: { zones: [{ zone: 'bl-one.test', weight: 30 }, { zone: 'bl-two.test', weight: 30 }, { zone: 'slow.test', weight: 50 }], rejectScore: 50, timeoutMs: 3000 },
    },
  }, { resolver: dns.resolver });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const all = logged(a);

  const refused = await transaction(a.inbound, { localAddress: '127.0.0.3', from: 'x@sender.test', to: 'bob@example.com' });
  t.is(refused.rcpt, '554 5.7.1 Service unavailable: client [127.0.0.3] is listed by bl-one.test, bl-two.test');

  const listed = await transaction(a.inbound, { localAddress: '127.0.0.4', from: 'y@sender.test', to: 'bob@example.com' });
  t.regex(listed.data ?? '', /^250 /);
  const ours = await transaction(a.inbound, { helo: 'mx.mailmoat.test', from: 'z@sender.test', to: 'bob@example.com' });
  t.regex(ours.data ?? '', /^250 /);
  const received = await sink.waitFor(2);
  const stamped = (from: string) => received.find((m) => m.from === from)!.raw.toString();
  t.regex(stamped('y@sender.test'), /X-Mailmoat-Reasons: [^]*DNSBL:bl-one\.test\(\+30\.00\)/);
  t.regex(stamped('z@sender.test'), /X-Mailmoat-Reasons: [^]*HELO_OUR_NAME\(\+20\.00\)/);

  const records = await eventually(async () => { const r = await all(); return r.length === 3 ? r : undefined; });
  const byFrom = (from: string) => records.find((r) => r.mailFrom === from)!;
  const rejected = byFrom('x@sender.test');
  t.is(rejected.status, 'rejected at RCPT');
  t.is(rejected.recipients[0].mainClass, 'Blacklisted');
  const rejectedFindings = (rejected.findings as { connection: ConnectionFindings }).connection;
  t.deepEqual(rejectedFindings.reasons.map((r) => `${r.name}(${r.contribution})`), ['DNSBL:bl-one.test(30)', 'DNSBL:bl-two.test(30)']);
  t.deepEqual(rejectedFindings.unanswered, ['slow.test']);

  const scored = byFrom('y@sender.test').findings as Findings;
  t.deepEqual(scored.connection, { reasons: [{ name: 'DNSBL:bl-one.test', contribution: 30, detail: '127.0.0.4 listed (127.0.0.2)' }], unanswered: ['slow.test'] });
  t.true(scored.spam!.reasons.some((r) => r.name === 'DNSBL:bl-one.test' && r.contribution === 30));
  t.true(scored.spam!.score >= 30);
  const helo = byFrom('z@sender.test').findings as Findings;
  t.deepEqual(helo.connection?.reasons.map((r) => r.name), ['HELO_OUR_NAME']);
  t.deepEqual(helo.connection?.unanswered, ['slow.test']);
  t.like(await a.app.stats.range('all', 'day', Date.now() - DAY, Date.now() + DAY), { dnsListRefused: 1, greylisted: 0 });
});
