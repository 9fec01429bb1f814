// The mail path over real SMTP on loopback: accept for served domains only, aliases, recipient
// verification, size limits, relaying to a real sink, retries, bounces and the message log.
import test from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { eventually, message, startTestAppliance as startWithPipeline } from '../helpers/appliance.ts';
import { rawSession, sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

// The bare mail path: filtering is tested in the pipeline suites.
const startTestAppliance = (config: Record<string, unknown>) => startWithPipeline(config, { filter: deliverAll });

test('a message for a served domain is accepted, relayed to its route and logged', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }] });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });

  const sent = await sendMail({ port: a.inbound, from: 'alice@example.net', to: ['bob@example.com'], raw: message({ subject: 'relay me' }) });
  t.true(sent.ok, sent.response);
  t.regex(sent.response, /^250 2\.0\.0 Ok: queued as \w+/);
  const [got] = await sink.waitFor(1);
  t.is(got.from, 'alice@example.net');
  t.deepEqual(got.to, ['bob@example.com']);
  const text = got.raw.toString();
  t.regex(text, /^Received: from client\.test \(localhost \[127\.0\.0\.1\]\)\r\n\tby mx\.mailmoat\.test \(Mailmoat\) with ESMTP/);
  t.regex(text, /Subject: relay me/);

  const id = /queued as (\w+)/.exec(sent.response)![1];
  const record = await eventually(async () => {
    const r = await a.app.log.get(id);
    return r?.status === 'delivered' ? r : undefined;
  });
  t.is(record.subject, 'relay me');
  t.is(record.client?.helo, 'client.test');
  t.is(record.mailFrom, 'alice@example.net');
  t.is(record.attempts.length, 1);
  t.is(record.attempts[0].port, sink.port);
  t.is(record.attempts[0].code, 250);
  t.is(a.app.queue.length, 0);
  // Counted once the delivery has finished, which may be just after the log record says so.
  const hour = await eventually(async () => {
    const h = await a.app.stats.range(['example.com'], 'hour', Date.now() - 3_600_000, Date.now());
    return h.delivered === 1 ? h : undefined;
  });
  t.like(hour, { received: 1, delivered: 1, rejected: 0 });
  t.like(await a.app.stats.range(['other.example'], 'hour', Date.now() - 3_600_000, Date.now()), { received: 0 });
});

test('mail for a domain we do not serve is refused as relaying (never an open relay)', async (t) => {
  const a = await startTestAppliance({ domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: 9 }] }] });
  t.teardown(() => a.cleanup());
  const sent = await sendMail({ port: a.inbound, from: 'spammer@example.net', to: ['victim@elsewhere.example'], raw: message() });
  t.false(sent.ok);
  t.is(sent.code, 550);
  t.regex(sent.response, /5\.7\.1 Relay access denied/);
});

test('unknown recipients are refused with 5.1.1 in "listed" mode; listed ones pass', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }], recipients: { mode: 'listed', addresses: ['bob', 'carol@example.com'] } }],
  });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const unknown = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['nobody@example.com'], raw: message() });
  t.is(unknown.code, 550);
  t.regex(unknown.response, /5\.1\.1/);
  const known = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['Bob@example.com', 'carol@example.com'], raw: message() });
  t.true(known.ok, known.response);
  const [got] = await sink.waitFor(1);
  t.deepEqual(got.to.sort(), ['Bob@example.com', 'carol@example.com']);
});

test('domain aliases and mailbox aliases map recipients, also combined', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{
      name: 'example.com', aliases: ['example.org'], routes: [{ host: '127.0.0.1', port: sink.port }],
      mailboxAliases: [{ from: 'sales@example.com', to: 'alice@example.com' }, { from: 'info@example.org', to: 'bob@example.com' }],
    }],
  });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const cases: [string, string][] = [
    ['carol@example.org', 'carol@example.com'], // domain alias
    ['sales@example.com', 'alice@example.com'], // mailbox alias
    ['sales@example.org', 'alice@example.com'], // domain alias, then mailbox alias
    ['info@example.org', 'bob@example.com'], //    mailbox alias declared on the alias domain
  ];
  for (const [rcpt] of cases) {
    const sent = await sendMail({ port: a.inbound, from: 'a@example.net', to: [rcpt], raw: message({ subject: rcpt }) });
    t.true(sent.ok, `${rcpt}: ${sent.response}`);
  }
  const got = await sink.waitFor(cases.length);
  for (const [rcpt, expected] of cases) {
    const m = got.find((x) => x.raw.toString().includes(`Subject: ${rcpt}`));
    t.deepEqual(m?.to, [expected], rcpt);
  }
});

test('oversize messages get 552, both when announced with SIZE and when streamed', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    limits: { maxMessageBytes: 20_000 },
  });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const big = message({ body: 'x'.repeat(76) + '\r\n'.repeat(1) + ('y'.repeat(76) + '\r\n').repeat(400) });
  const announced = await rawSession(a.inbound, ['EHLO client.test', `MAIL FROM:<a@example.net> SIZE=${big.length}`, 'QUIT']);
  t.regex(announced[1], /SIZE 20000/, 'the limit is advertised');
  t.regex(announced[2], /^552 .*message size/);
  // nodemailer's client honours the advertised SIZE itself, so stream without announcing it.
  const streamed = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: big });
  t.is(streamed.code, 552);
  t.regex(streamed.response, /5\.3\.4/);
  t.deepEqual(await a.app.spool.list(), [], 'nothing of the refused message stays in the spool');
  const small = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message() });
  t.true(small.ok, 'the session still works after a refusal');
});

test('when the route is down the message waits and is delivered once it comes back', async (t) => {
  const sink = await startSink();
  const port = sink.port;
  await sink.stop();
  const a = await startTestAppliance({ domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port }] }] });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const sent = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message() });
  t.true(sent.ok);
  const id = /queued as (\w+)/.exec(sent.response)![1];
  const deferred = await eventually(async () => {
    const r = await a.app.log.get(id);
    return r && r.attempts.length >= 1 ? r : undefined;
  });
  t.is(deferred.attempts[0].code, 0, 'an unreachable route is logged as such');
  t.is(a.app.queue.length, 1);
  await sink.restart();
  const [got] = await sink.waitFor(1);
  t.deepEqual(got.to, ['bob@example.com']);
  const done = await eventually(async () => ((await a.app.log.get(id))?.status === 'delivered' ? true : undefined));
  t.true(done);
});

test('a 5xx from the route bounces to the sender with the remote reply; 4xx is retried', async (t) => {
  let tempfails = 1;
  const sink = await startSink({
    rcptReply: (address) => {
      if (address === 'gone@example.com') return '550 5.1.1 user unknown here';
      if (address === 'busy@example.com' && tempfails-- > 0) return '451 4.2.1 mailbox busy';
      return undefined;
    },
  });
  const a = await startTestAppliance({
    domains: [
      { name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] },
      { name: 'sender.test', routes: [{ host: '127.0.0.1', port: sink.port }] },
    ],
  });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const sent = await sendMail({ port: a.inbound, from: 'writer@sender.test', to: ['gone@example.com', 'busy@example.com', 'ok@example.com'], raw: message({ subject: 'bounce test' }) });
  t.true(sent.ok, sent.response);
  const got = await sink.waitFor(3);
  const bounce = got.find((m) => m.from === '');
  t.truthy(bounce, 'a DSN was sent with the null sender');
  t.deepEqual(bounce!.to, ['writer@sender.test']);
  const text = bounce!.raw.toString();
  t.regex(text, /multipart\/report; report-type=delivery-status/);
  t.regex(text, /Final-Recipient: rfc822; gone@example\.com/);
  t.regex(text, /Status: 5\.1\.1/);
  t.regex(text, /user unknown here/);
  t.notRegex(text, /busy@example\.com/, 'a deferred recipient is not bounced');
  t.regex(text, /Subject: bounce test/, 'the original headers come back');
  const delivered = got.filter((m) => m.from === 'writer@sender.test').flatMap((m) => m.to).sort();
  t.deepEqual(delivered, ['busy@example.com', 'ok@example.com']);
});

test('no bounce is sent for a null sender', async (t) => {
  const sink = await startSink({ rcptReply: () => '550 5.1.1 no' });
  const a = await startTestAppliance({ domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }] });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const sent = await sendMail({ port: a.inbound, from: '', to: ['gone@example.com'], raw: message() });
  t.true(sent.ok);
  const id = /queued as (\w+)/.exec(sent.response)![1];
  const r = await eventually(async () => ((await a.app.log.get(id))?.status === 'bounced' ? (await a.app.log.get(id)) : undefined));
  t.is(r.recipients[0].status, 'bounced');
  t.is(a.app.queue.length, 0);
  t.is(sink.messages.length, 0);
});

test('messages older than the queue lifetime bounce with the last problem', async (t) => {
  const sink = await startSink();
  const gone = await startSink();
  const downPort = gone.port; // nothing listens there any more
  await gone.stop();
  const a = await startTestAppliance({
    domains: [
      { name: 'example.com', routes: [{ host: '127.0.0.1', port: downPort }] },
      { name: 'sender.test', routes: [{ host: '127.0.0.1', port: sink.port }] },
    ],
    delivery: { retryMinutes: [0.005], queueLifetimeHours: 0.0003, connectTimeoutSeconds: 2 },
  });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const sent = await sendMail({ port: a.inbound, from: 'writer@sender.test', to: ['bob@example.com'], raw: message() });
  t.true(sent.ok);
  const [bounce] = await sink.waitFor(1, 30_000);
  t.is(bounce.from, '');
  t.regex(bounce.raw.toString(), /Status: 4\.4\.7/);
});
