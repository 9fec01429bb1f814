// The whole filter over real SMTP: a real clamd with test signatures, a real DNS server on
// loopback for SPF/DMARC, the classifier, lists and the quarantine, with the verdict given as a
// real SMTP reply before the session ends (never a backscatter bounce).
import test from 'ava';
import { message, startTestAppliance, eventually } from '../helpers/appliance.ts';
import { EICAR, startClamd, type ClamdInstance } from '../helpers/clamd.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

let clamd: ClamdInstance;
let dns: DnsServer;
test.before(async () => {
  clamd = await startClamd();
  dns = await startDnsServer({
    'sender.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    '_dmarc.sender.test': { TXT: ['v=DMARC1; p=none'] },
    'forger.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
    '_dmarc.forger.test': { TXT: ['v=DMARC1; p=reject'] },
  });
});
test.after.always(async () => { await clamd?.stop(); await dns?.close(); });

async function start(t: { teardown(fn: () => Promise<void>): void }, filtering: Record<string, unknown> = {}) {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    filtering,
  }, { clamd: clamd.socket, resolver: dns.resolver });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  return { a, sink };
}

const withAttachment = (name: string, data: Buffer) => [
  'From: friend@sender.test', 'To: bob@example.com', 'Subject: file for you', 'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'see attached', '--b1',
  `Content-Type: application/octet-stream; name="${name}"`, 'Content-Transfer-Encoding: base64',
  `Content-Disposition: attachment; filename="${name}"`, '', data.toString('base64'), '--b1--', '',
].join('\r\n');

test('a clean message passes, stamped with authentication results and its score', async (t) => {
  const { a, sink } = await start(t);
  const sent = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['bob@example.com'], raw: message({ from: 'friend@sender.test', subject: 'lunch on friday?' }) });
  t.true(sent.ok, sent.response);
  const [got] = await sink.waitFor(1);
  const text = got.raw.toString();
  t.regex(text, /Received-SPF: pass/i);
  t.regex(text, /Authentication-Results: mx\.mailmoat\.test;[\s\S]*spf=pass/);
  t.regex(text, /X-Mailmoat-Spam-Score: \d+\.\d\d%/);
  t.regex(text, /X-Mailmoat-Class: /);
});

test('verdict headers a sender made up are taken out; only ours reach the recipient', async (t) => {
  const { a, sink } = await start(t);
  const forged = [
    'X-Mailmoat-Class: Not Spam', 'X-Mailmoat-Spam-Score: 0.00%', 'X-Mailmoat-Reasons: TRUST_ME(-9.00),',
    ' FOLDED(-9.00)', 'Authentication-Results: mx.mailmoat.test; spf=pass smtp.mailfrom=friend@sender.test',
    'Authentication-Results: mx.upstream.test; dkim=pass header.d=sender.test',
  ];
  const sent = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['bob@example.com'], raw: message({ from: 'friend@sender.test', subject: 'trust me', headers: forged }) });
  t.true(sent.ok, sent.response);
  const [got] = await sink.waitFor(1);
  const text = got.raw.toString();
  t.is(text.match(/^X-Mailmoat-Class:/gim)?.length, 1);
  t.is(text.match(/^X-Mailmoat-Spam-Score:/gim)?.length, 1);
  t.notRegex(text, /TRUST_ME|FOLDED/);
  t.is(text.match(/^Authentication-Results: mx\.mailmoat\.test;/gim)?.length, 1, 'only the one we added');
  t.regex(text, /^Authentication-Results: mx\.upstream\.test; dkim=pass/m, 'another host\'s results stay');
});

test('a virus is refused during the session with 5xx; nothing is queued or delivered', async (t) => {
  const { a, sink } = await start(t);
  const sent = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['bob@example.com'], raw: withAttachment('eicar.com', EICAR) });
  t.false(sent.ok);
  t.true(sent.code >= 550 && sent.code < 560, `${sent.code} ${sent.response}`);
  t.regex(sent.response, /Mailmoat\.Test\.EICAR|virus/i);
  t.is(a.app.queue.length, 0);
  t.deepEqual(await a.app.spool.list(), []);
  t.is(sink.messages.length, 0);
  const day = await a.app.stats.range(['example.com'], 'day', Date.now() - 86_400_000, Date.now());
  t.like(day, { received: 1, rejected: 1, virus: 1, delivered: 0 });
});

test('DMARC p=reject with a failing SPF is refused at DATA', async (t) => {
  const { a, sink } = await start(t);
  const sent = await sendMail({ port: a.inbound, from: 'ceo@forger.test', to: ['bob@example.com'], raw: message({ from: 'ceo@forger.test', subject: 'wire transfer' }) });
  t.false(sent.ok);
  t.true(sent.code >= 500, sent.response);
  t.is(sink.messages.length, 0);
});

test('an auto-quarantine list entry quarantines; release delivers it through the queue', async (t) => {
  const { a, sink } = await start(t, { quarantineResponse: 'accept' });
  await a.app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'example.com', field: 'subject', mode: 'partial', value: 'invoice' });
  const sent = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['bob@example.com'], raw: message({ from: 'friend@sender.test', subject: 'Your INVOICE 42' }) });
  t.true(sent.ok, 'quarantineResponse "accept" answers 250');
  const [held] = await eventually(async () => {
    const found = await a.app.quarantine.search({ recipient: 'bob@example.com' });
    return found.length ? found : undefined;
  });
  t.is(held.subject, 'Your INVOICE 42');
  t.is(sink.messages.length, 0, 'held, not delivered');
  const id = /queued as (\w+)/.exec(sent.response)![1];
  t.is((await a.app.log.get(id))?.recipients[0].status, 'quarantined');

  await a.app.quarantineActions.release(held.id);
  const [got] = await sink.waitFor(1);
  t.deepEqual(got.to, ['bob@example.com']);
  t.regex(got.raw.toString(), /Subject: Your INVOICE 42/);
});

test('clamd down means 451 (try later), never "clean"', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
  }, { clamd: '/nonexistent/clamd.sock', resolver: dns.resolver });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const sent = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['bob@example.com'], raw: message({ from: 'friend@sender.test' }) });
  t.is(sent.code, 451);
  t.is(sink.messages.length, 0);
  t.deepEqual(await a.app.spool.list(), []);
});
