// Protocol abuse and odd input over real SMTP: each gets a clean error, the daemon keeps serving,
// and nothing half-received stays in the spool.
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { rawSession, sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const domains = (port: number) => [{ name: 'example.com', routes: [{ host: '127.0.0.1', port }] }];

test('malformed commands get 5xx replies and the session goes on', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: domains(sink.port) }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const replies = await rawSession(a.inbound, [
    'MAIL FROM:<a@example.net>', //        before EHLO
    'EHLO client.test',
    'RCPT TO:<bob@example.com>', //        before MAIL
    'MAIL FROM:<not an address', //        broken syntax
    'FROB', //                             unknown command
    'AUTH PLAIN AGJvYgBwdw==', //          AUTH is not offered on the inbound port
    'MAIL FROM:<a@example.net>',
    'RCPT TO:<>', //                       empty recipient
    'DATA', //                             no valid recipient yet
    'QUIT',
  ]);
  // The greeting names the host and the product once: "220 <host> ESMTP Mailmoat".
  t.regex(replies[0], /^220 \S+ ESMTP Mailmoat$/);
  t.regex(replies[1], /^503 /);
  t.regex(replies[2], /^250-/);
  t.regex(replies[3], /^503 /);
  t.regex(replies[4], /^501 /);
  t.regex(replies[5], /^500 /);
  t.regex(replies[6], /^50[0-4] /);
  t.regex(replies[7], /^250 /);
  t.regex(replies[8], /^5\d\d /);
  t.regex(replies[9], /^503 /);
  t.regex(replies[10], /^221 /);
  const ok = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message() });
  t.true(ok.ok, 'the daemon still accepts mail afterwards');
});

test('bare LF line endings are accepted and relayed as CRLF', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: domains(sink.port) }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  // Lines end in bare LF; only the end-of-data marker is CRLF.CRLF, as SMTP requires.
  const body = 'From: a@example.net\nTo: bob@example.com\nSubject: bare lf\n\nline one\nline two\r\n.\r\n';
  const replies = await rawSession(a.inbound, ['EHLO client.test', 'MAIL FROM:<a@example.net>', 'RCPT TO:<bob@example.com>', 'DATA', Buffer.from(body), 'QUIT']);
  t.regex(replies[4], /^354 /);
  t.regex(replies[5], /^250 2\.0\.0 Ok: queued/);
  const [got] = await sink.waitFor(1);
  const text = got.raw.toString();
  t.regex(text, /Subject: bare lf\r\n\r\nline one\r\nline two\r\n/);
});

test('a huge header section is refused with 552 and leaves nothing behind', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: domains(sink.port), limits: { maxHeaderBytes: 4096 } }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const headers = Array.from({ length: 200 }, (_, i) => `X-Filler-${i}: ${'z'.repeat(60)}`);
  const sent = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message({ headers }) });
  t.is(sent.code, 552);
  t.regex(sent.response, /Header section too large/);
  // One header line longer than any sane limit, without a line break at all.
  const endless = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: `Subject: ${'q'.repeat(20_000)}\r\n\r\nbody\r\n` });
  t.is(endless.code, 552);
  t.deepEqual(await a.app.spool.list(), []);
  t.is(a.app.queue.length, 0);
  t.true((await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message() })).ok);
});

test('too many recipients and too many connections from one client are refused politely', async (t) => {
  const a = await startTestAppliance({ domains: domains(9), limits: { maxRecipients: 2, maxConnectionsPerClient: 1 } }, { filter: deliverAll });
  t.teardown(() => a.cleanup());
  const replies = await rawSession(a.inbound, ['EHLO c', 'MAIL FROM:<a@example.net>', 'RCPT TO:<a@example.com>', 'RCPT TO:<b@example.com>', 'RCPT TO:<c@example.com>', 'QUIT']);
  t.regex(replies[3], /^250 /);
  t.regex(replies[4], /^250 /);
  t.regex(replies[5], /^452 /);
  // Hold one session open, then a second one from the same address is turned away.
  // (The previous session's close may still be in progress: connect until we are greeted.)
  let first: net.Socket;
  for (;;) {
    first = net.connect({ host: '127.0.0.1', port: a.inbound });
    const [greeting] = await once(first, 'data') as [Buffer];
    if (greeting.toString().startsWith('220')) break;
    first.destroy();
  }
  const second = await rawSession(a.inbound, ['EHLO second']);
  first.destroy();
  t.regex(second[0], /^421 4\.7\.0 Too many connections/);
});

test('messages per minute from one client are limited with a temporary error', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: domains(sink.port), limits: { maxMessagesPerMinutePerClient: 2 } }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const results = [];
  for (let i = 0; i < 3; i++) results.push(await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message() }));
  t.deepEqual(results.map((r) => r.code), [250, 250, 451]);
  t.regex(results[2].response, /4\.7\.1 Too many messages/);
});

test('STARTTLS is offered and works on the inbound listener', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: domains(sink.port) }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const ehlo = await rawSession(a.inbound, ['EHLO c', 'QUIT']);
  for (const ext of ['STARTTLS', 'PIPELINING', '8BITMIME', 'SMTPUTF8', 'SIZE']) t.regex(ehlo[1], new RegExp(`250[- ]${ext}`));
  t.notRegex(ehlo[1], /AUTH/, 'no AUTH on the inbound port');
  const sent = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message(), tls: 'starttls' });
  t.true(sent.ok, sent.response);
  const [got] = await sink.waitFor(1);
  t.regex(got.raw.toString(), /with ESMTPS/);
});

test('above the data disk hard limit the listeners answer 452 instead of taking mail', async (t) => {
  // The real disk watcher measures the real filesystem; a 1 % limit makes any real disk "full".
  const a = await startTestAppliance({ domains: domains(9), system: { disk: { hardLimitPercent: 1, warnPercent: 1 } } }, { filter: deliverAll });
  t.teardown(() => a.cleanup());
  t.true(a.app.system.disks.isAboveHardLimit());
  const sent = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message() });
  t.is(sent.code, 452);
  t.regex(sent.response, /4\.3\.1 Insufficient system storage/);
});

test('with a greeting pause, a client that talks before the greeting is refused', async (t) => {
  const a = await startTestAppliance({ domains: domains(9), limits: { greetingPauseMs: 400 } }, { filter: deliverAll });
  t.teardown(() => a.cleanup());
  const socket = net.connect({ host: '127.0.0.1', port: a.inbound });
  socket.write('EHLO early.test\r\n'); // before any greeting
  let text = '';
  socket.on('data', (c: Buffer) => { text += c.toString(); });
  await once(socket, 'close');
  t.regex(text, /^421 .*talk too soon/im);
  // A polite client that waits for the greeting is served normally.
  const polite = await rawSession(a.inbound, ['EHLO polite.test', 'QUIT']);
  t.regex(polite[0], /^220 /);
  t.regex(polite[1], /^250-/);
});

test('a message trickling in past limits.maxDataSeconds is cut off with 421; nothing stays behind', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: domains(sink.port), limits: { maxDataSeconds: 2 } }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const sock = net.connect(a.inbound, '127.0.0.1');
  let received = '';
  sock.on('data', (d) => { received += d.toString(); });
  const closed = once(sock, 'close');
  // Waits for the n-th final reply line ("250 …", not "250-…") of the session.
  const replies = async (n: number) => { while ((received.match(/^\d{3} /gm) ?? []).length < n) await new Promise((r) => setTimeout(r, 20)); };
  await replies(1);
  sock.write('EHLO slow.test\r\n'); await replies(2);
  sock.write('MAIL FROM:<a@example.net>\r\n'); await replies(3);
  sock.write('RCPT TO:<bob@example.com>\r\n'); await replies(4);
  sock.write('DATA\r\n'); await replies(5);
  t.regex(received, /^354 /m);
  // One header line every 300 ms: never idle, never done.
  const drip = setInterval(() => { if (!sock.destroyed) sock.write(`X-Drip: ${Date.now()}\r\n`); }, 300);
  t.teardown(() => clearInterval(drip));
  const gaveUp = new Promise<'still open'>((r) => setTimeout(() => r('still open'), 20_000).unref());
  t.not(await Promise.race([closed.then(() => 'closed' as const), gaveUp]), 'still open', 'the daemon let the trickle go on');
  clearInterval(drip);
  sock.destroy();
  t.regex(received, /^421 4\.4\.2 The message took longer than 2 s/m);
  // the spool removes the partial file once the cut stream has unwound
  t.deepEqual(await eventually(async () => ((await a.app.spool.list()).length === 0 ? [] : undefined), 10_000), [], 'the partial message is not kept');
  t.is(a.app.queue.length, 0);
  t.is(sink.messages.length, 0);
  const ok = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message() });
  t.true(ok.ok, 'an ordinary message still goes through');
});
