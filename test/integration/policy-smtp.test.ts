// Per-recipient policy over real SMTP: one message to recipients whose mailboxes and domain set
// different thresholds, actions, tags, stamping and quarantine responses gets a different action
// per copy; the reply follows the rule for mixed outcomes (550 only when every copy is refused
// under its own policy). Then the quarantine quotas: the warning mail at 80 %, once per crossing,
// to the user and the domain's contact, and both behaviours when full (delivered tagged, or 452).
// The classifier runs without a model here, so every message scores near 50 %: a threshold of 0
// makes it Spam for that mailbox, 100 makes it Not Spam.
import test from 'ava';
import { message, startTestAppliance, eventually } from '../helpers/appliance.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/smtp-sink.ts';
import { runRetention } from '../../appliance/quarantine/retention.ts';

let dns: DnsServer;
test.before(async () => { dns = await startDnsServer({}); });
test.after.always(async () => { await dns?.close(); });

const SPAM = { spamThreshold: 0, unsureThreshold: 0 };
const HAM = { spamThreshold: 100, unsureThreshold: 100 };

async function start(t: { teardown(fn: () => Promise<void>): void }, policy: Record<string, unknown>, filtering: Record<string, unknown> = {}) {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    filtering: { antivirus: { enabled: false }, ...filtering },
    postmaster: 'postmaster@example.com',
    policy,
  }, { resolver: dns.resolver });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  return { a, sink };
}

const subjectOf = (raw: Buffer) => /^Subject: (.*)$/m.exec(raw.toString())?.[1];
const delivered = (sink: Sink, to: string) => sink.messages.filter((m) => m.to.includes(to));

test('each recipient\'s copy follows that recipient\'s policy: tagged, quarantined, delivered unstamped', async (t) => {
  const { a, sink } = await start(t, {
    domains: { 'example.com': { actions: [{ class: 'Spam', action: 'tag', tag: 'MEIWAKU!!' }] } },
    mailboxes: {
      'tagged@example.com': SPAM,
      'held@example.com': { ...SPAM, actions: [{ class: 'Spam', action: 'quarantine' }] },
      'clean@example.com': { ...HAM, stampHeaders: false },
    },
  });
  const sent = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['tagged@example.com', 'held@example.com', 'clean@example.com'], raw: message({ subject: 'quarterly figures' }) });
  t.true(sent.ok, sent.response);
  await sink.waitFor(2);
  const [tagged] = delivered(sink, 'tagged@example.com');
  const [clean] = delivered(sink, 'clean@example.com');
  t.is(subjectOf(tagged.raw), 'MEIWAKU!! quarterly figures', 'the domain\'s tag for Spam');
  t.regex(tagged.raw.toString(), /^X-Mailmoat-Class: Spam/m);
  t.is(subjectOf(clean.raw), 'quarterly figures');
  t.notRegex(clean.raw.toString(), /^X-Mailmoat-Class:/m, 'stamping off for this mailbox');
  t.is(delivered(sink, 'held@example.com').length, 0);
  const held = await a.app.quarantine.search({ recipient: 'held@example.com' });
  t.is(held.length, 1);
  t.true(held[0].recipients[0].why.some((w) => /rule for Spam: quarantine/.test(w)));
  const id = /queued as (\w+)/.exec(sent.response)![1];
  const log = await a.app.log.get(id);
  t.deepEqual(Object.fromEntries(log!.recipients.map((r) => [r.address, r.mainClass])), { 'tagged@example.com': 'Spam', 'held@example.com': 'Spam', 'clean@example.com': 'Not Spam' });
});

test('quarantine response with recipients of different policies: 550 only when every copy is refused under its own policy; nothing is lost', async (t) => {
  const quarantine = [{ class: 'Spam', action: 'quarantine' }];
  const { a, sink } = await start(t, {
    mailboxes: {
      'strict@example.com': { ...SPAM, actions: quarantine, quarantineResponse: 'reject' },
      'lenient@example.com': { ...SPAM, actions: quarantine, quarantineResponse: 'accept' },
      'strict2@example.com': { ...SPAM, actions: quarantine, quarantineResponse: 'reject' },
    },
  });
  const mixed = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['strict@example.com', 'lenient@example.com'], raw: message({ subject: 'mixed' }) });
  t.true(mixed.ok, `one recipient's policy accepts: 250 (${mixed.response})`);
  const both = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['strict@example.com', 'strict2@example.com'], raw: message({ subject: 'both strict' }) });
  t.is(both.code, 550, both.response);
  for (const [to, n] of [['strict@example.com', 2], ['lenient@example.com', 1], ['strict2@example.com', 1]] as const) {
    t.is((await a.app.quarantine.search({ recipient: to })).length, n, `${to}: every copy held`);
  }
  t.is(sink.messages.length, 0);
});

test('quarantine quota: a warning at 80 % once per crossing to the user and the domain contact; when full, delivered tagged or 452', async (t) => {
  const { a, sink } = await start(t, {
    quota: { mailbox: { maxMessages: 5 } },
    domains: { 'example.com': { contact: 'hostmaster@example.com' } },
    mailboxes: { 'full@example.com': { ...SPAM, actions: [{ class: 'Spam', action: 'quarantine' }], quarantineResponse: 'accept' } },
  });
  const send = (subject: string) => sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['full@example.com'], raw: message({ subject }) });
  const notices = () => sink.messages.filter((m) => /^Subject: Quarantine of full@example.com is/m.test(m.raw.toString()));
  for (let i = 1; i <= 3; i++) t.true((await send(`spam ${i}`)).ok);
  t.is(a.app.quarantine.usage('mailbox', 'full@example.com').messages, 3);
  t.is(notices().length, 0, 'no warning at 60 %');
  t.true((await send('spam 4')).ok);
  await eventually(() => notices().length >= 2 || undefined);
  t.deepEqual(notices().flatMap((m) => m.to).sort(), ['full@example.com', 'hostmaster@example.com']);
  t.regex(notices()[0].raw.toString(), /80% full/);
  t.true((await send('spam 5')).ok);
  t.is(a.app.quarantine.usage('mailbox', 'full@example.com').messages, 5, 'the fifth still fits');

  // Full: the copy is delivered with the tag instead, never dropped.
  t.true((await send('spam 6')).ok);
  const [tagged] = await eventually(() => {
    const m = sink.messages.filter((x) => /spam 6/.test(subjectOf(x.raw) ?? ''));
    return m.length ? m : undefined;
  });
  t.is(subjectOf(tagged.raw), 'QUARANTINE-FULL!! spam 6');
  t.is(a.app.stats.totals().tagged, 1, 'counted as delivered tagged');
  t.is(a.app.quarantine.usage('mailbox', 'full@example.com').messages, 5);

  // The admin's other choice: 452, the sender retries later.
  await a.app.config.replace({ ...a.app.config.current, policy: { ...a.app.config.current.policy, quota: { ...a.app.config.current.policy.quota, whenFull: 'tempfail' } } });
  const refused = await send('spam 7');
  t.is(refused.code, 452, refused.response);
  t.regex(refused.response, /quarantine of full@example\.com is full/);
  t.is(notices().length, 2, 'one warning per crossing, not one per message');

  // Lowering the quota: retention and quota enforcement remove the oldest copies and say so.
  await a.app.config.replace({ ...a.app.config.current, policy: { ...a.app.config.current.policy, quota: { ...a.app.config.current.policy.quota, mailbox: { maxMessages: 2, maxBytes: 0 } } } });
  const done = await runRetention(a.app.quarantine, a.app.config.current, Date.now(), a.app.quota);
  t.like(done.overQuota, [{ level: 'mailbox', name: 'full@example.com', copies: 3 }]);
  const left = await a.app.quarantine.search({ recipient: 'full@example.com' });
  t.deepEqual(left.map((r) => r.subject).sort(), ['spam 4', 'spam 5'], 'the oldest went first');
});

test('reports by mail: a user forwards a message to spam@<box> through the customer\'s server; it is learnt, audited, never relayed; only from served domains that allow it', async (t) => {
  const { a, sink } = await start(t, {});
  const cfg = a.app.config.current;
  await a.app.config.replace({ ...cfg, domains: [...cfg.domains, { ...cfg.domains[0], name: 'other.example' }], policy: { ...cfg.policy, domains: { 'other.example': { feedback: false } } } });
  const inners = [1, 2, 3].map((n) => message({ from: 'promo@shop.test', subject: `cheap pills ${n}`, body: `Buy cheap pills now, offer ${n}.` }));
  const inner = (n: number) => inners[n - 1];
  const forward = (from: string, to: string, n: number) => [
    `From: ${from}`, `To: ${to}`, 'Subject: Fwd: cheap pills', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain', '', 'this is spam', '--b1', 'Content-Type: message/rfc822', 'Content-Disposition: attachment', '',
    inner(n), '--b1--', '',
  ].join('\r\n');
  const report = (from: string, n: number) => sendMail({ port: a.submission, from, to: ['spam@mx.mailmoat.test'], raw: forward(from, 'spam@mx.mailmoat.test', n) });

  t.true((await report('tanaka@example.com', 1)).ok);
  t.false(await a.app.classifier.train(Buffer.from(inner(1)), 'spam'), 'the attached message was learnt as spam');
  const { AuditLog } = await import('../../appliance/api/audit.ts');
  const audit = await new AuditLog(a.app.store).search({ limit: 10, visible: () => true });
  t.like(audit.items[0], { actor: 'tanaka@example.com', action: 'MAIL report', domains: ['example.com'], detail: { as: 'spam', learnt: 1, messages: 1 } });

  // Not from a served domain, or from a domain that turned reports off: nothing learnt.
  t.true((await report('someone@stranger.test', 2)).ok);
  t.true((await report('user@other.example', 3)).ok);
  t.true(await a.app.classifier.train(Buffer.from(inner(2)), 'ham'), 'not learnt before');
  t.true(await a.app.classifier.train(Buffer.from(inner(3)), 'ham'), 'not learnt before');
  t.is((await new AuditLog(a.app.store).search({ limit: 10, visible: () => true })).items.length, 1);
  t.is(sink.messages.length, 0, 'a report address is never relayed');
});
