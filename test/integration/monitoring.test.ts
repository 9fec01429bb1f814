// Monitoring tells the truth: after a mix of mail (delivered, deferred then delivered, bounced with
// its bounce delivered, quarantined under both quarantine responses, rejected, relayed outbound)
// the statistics totals, the values SNMP serves and the dashboard agree with the message log; the
// totals survive a restart (the MIB says they are kept); and each event of a message's life is one
// Postfix-like syslog line naming our queue id and the Message-ID.
import test from 'ava';
import { rm } from 'node:fs/promises';
import { startAppliance } from '../../appliance/main.ts';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const PASSWORD = 'correct horse battery';

test('counters, SNMP values and the dashboard match the message log; one syslog line per event', async (t) => {
  let laterTries = 0;
  const sink = await startSink({
    rcptReply: (address) => {
      if (address === 'gone@example.com') return '550 5.1.1 no such user';
      if (address === 'later@example.com' && laterTries++ === 0) return '451 4.3.0 try again';
      return undefined;
    },
  });
  const dns = await startDnsServer({ 'sender.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] } });
  const lines: string[] = [];
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    // Outbound mail and the bounce to sender.test leave through the smarthost (the same sink).
    relay: { networks: ['127.0.0.0/8'], smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' } },
    filtering: { antivirus: { enabled: false }, rules: [{ class: 'Blacklisted', action: 'reject' }], quarantineResponse: 'reject' },
  }, { console: true, resolver: dns.resolver, say: (line) => lines.push(line) });
  const { app } = a;
  let running = true;
  t.teardown(async () => {
    if (running) await app.stop();
    await rm(a.dataDir, { recursive: true, force: true });
    await sink.stop();
    await dns.close();
  });
  await app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'example.com', field: 'subject', mode: 'partial', value: 'invoice' });
  await app.lists.add({ direction: 'inbound', kind: 'sender-block', scope: 'domain', owner: 'example.com', value: 'bad.test' });

  const send = async (to: string, subject: string, opts: { from?: string; port?: number } = {}) => {
    const from = opts.from ?? 'friend@sender.test';
    const raw = message({ from, to, subject });
    const sent = await sendMail({ port: opts.port ?? a.inbound, from, to: [to], raw });
    return { ...sent, messageId: /^Message-ID: (.*)$/m.exec(raw)![1].trim(), id: /queued as (\w+)/.exec(sent.response)?.[1] };
  };
  const delivered = await send('bob@example.com', 'lunch');
  const deferred = await send('later@example.com', 'agenda');
  const bounced = await send('gone@example.com', 'hello');
  const heldRefused = await send('bob@example.com', 'your invoice 1');
  await app.config.replace({ ...app.config.current, filtering: { ...app.config.current.filtering, quarantineResponse: 'accept' } });
  const heldAccepted = await send('bob@example.com', 'your invoice 2');
  const refused = await send('bob@example.com', 'buy now', { from: 'spammer@bad.test' });
  const outbound = await send('friend@foreign.test', 'report', { from: 'app@example.com', port: a.submission });

  for (const ok of [delivered, deferred, bounced, heldAccepted, outbound]) t.true(ok.ok, ok.response);
  t.is(heldRefused.code, 550, 'quarantineResponse "reject" answers 550 while keeping the copy');
  t.is(refused.code, 550, refused.response);
  // Delivered: bob, later (after a retry), the outbound message and the bounce for gone@.
  await sink.waitFor(4);
  await eventually(() => (app.queue.length === 0 ? true : undefined));

  const records: MessageLogRecord[] = [];
  for await (const r of app.log.newest()) records.push(r);
  t.is(records.length, 8, 'seven messages received and one bounce');
  const some = (r: MessageLogRecord, s: string) => r.recipients.some((x) => x.status === s);
  const fromLog = {
    received: records.filter((r) => r.direction === 'inbound' && r.client && r.status !== 'tempfailed').length,
    outbound: records.filter((r) => r.direction === 'outbound').length,
    delivered: records.filter((r) => some(r, 'delivered')).length,
    bounced: records.filter((r) => some(r, 'bounced')).length,
    quarantined: records.filter((r) => some(r, 'quarantined')).length,
    rejected: records.filter((r) => r.status === 'rejected').length,
  };
  t.deepEqual(fromLog, { received: 6, outbound: 1, delivered: 4, bounced: 1, quarantined: 2, rejected: 1 }, 'the mix as the log records it');
  t.is(records.find((r) => r.messageId === heldRefused.messageId)?.status, 'quarantined', 'held, though answered 550');

  t.like(app.stats.totals(), fromLog);
  const snmp = await app.counters();
  t.like(snmp, {
    messagesIn: fromLog.received + fromLog.outbound, messagesOut: fromLog.delivered,
    quarantined: fromLog.quarantined, rejected: fromLog.rejected, queueLength: 0,
  });

  const server = app.console!;
  await server.context.setup.complete('test');
  await server.context.users.create({ username: 'root', role: 'admin', password: PASSWORD, language: 'en' });
  const login = await server.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'root', password: PASSWORD } });
  const cookie = login.cookies.find((c) => c.name === 'mm_session')!;
  const res = await server.app.inject({ method: 'GET', url: '/api/dashboard', headers: { cookie: `mm_session=${cookie.value}` } });
  t.is(res.statusCode, 200, res.body);
  t.like(res.json().flow, fromLog);

  // One line per event, each naming the queue id and the Message-ID.
  const eventsOf = (id: string | undefined) => lines.filter((l) => id && l.includes(`: ${id}: `)).map((l) => /: \w+: (\w+),/.exec(l)![1]);
  t.deepEqual(eventsOf(delivered.id), ['accepted', 'delivered']);
  t.deepEqual(eventsOf(deferred.id), ['accepted', 'deferred', 'delivered']);
  t.deepEqual(eventsOf(bounced.id), ['accepted', 'bounced']);
  t.deepEqual(eventsOf(heldAccepted.id), ['accepted', 'quarantined']);
  t.deepEqual(eventsOf(outbound.id), ['accepted', 'delivered']);
  for (const m of [delivered, deferred, bounced, heldAccepted, outbound]) {
    for (const l of lines.filter((x) => x.includes(`: ${m.id}: `))) t.true(l.includes(`message-id=${m.messageId}`), l);
  }
  const deliveredLine = lines.find((l) => l.includes(`: ${delivered.id}: delivered,`))!;
  t.regex(deliveredLine, new RegExp(`^<6>mailmoat: ${delivered.id}: delivered, to=<bob@example\\.com>, relay=127\\.0\\.0\\.1:${sink.port}, message-id=\\S+ \\(250 `));
  t.regex(lines.find((l) => l.includes(`: ${deferred.id}: deferred,`))!, /to=<later@example\.com>, .*\(451 4\.3\.0 try again\)$/);
  t.regex(lines.find((l) => l.includes(`: ${bounced.id}: bounced,`))!, /^<4>.*to=<gone@example\.com>.*\(550 5\.1\.1 no such user\)$/);
  // The refusals have no queue id in the reply: find their lines by Message-ID.
  const byMessageId = (m: { messageId: string }) => lines.filter((l) => l.includes(`message-id=${m.messageId}`));
  t.is(byMessageId(heldRefused).length, 1);
  t.regex(byMessageId(heldRefused)[0], /^<5>mailmoat: \w+: quarantined, from=<friend@sender\.test>, to=<bob@example\.com>, direction=inbound, size=\d+, client=\S*\[127\.0\.0\.1\], class=[^,]+, message-id=\S+ \(550 5\.7\.1 Message not delivered: held for review\)$/);
  t.is(byMessageId(refused).length, 1);
  t.regex(byMessageId(refused)[0], /^<5>mailmoat: \w+: rejected, from=<spammer@bad\.test>, .*class=Blacklisted, .*\(550 /);
  t.true(lines.every((l) => !/[\r\n]/.test(l)));

  // The totals are kept in the store: a restart shows the same numbers (SNMP Counter32 never drops).
  running = false;
  await app.stop();
  const again = await startAppliance({ dataDir: a.dataDir, say: () => {}, console: false, starterModel: false });
  try {
    t.like(again.stats.totals(), fromLog);
    t.like(await again.counters(), { messagesIn: 7, messagesOut: 4, quarantined: 2, rejected: 1 });
  } finally {
    await again.stop();
  }
});
