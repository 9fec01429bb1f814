// A locked sender over real SMTP: the admin locks an address in the lists, and its next message is
// held in the quarantine with class Locked (answered 550 "held for review", the default
// quarantineResponse), logged with that class; other senders pass.
import test from 'ava';
import type { Findings } from '../../appliance/pipeline/message-context.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { startDnsServer } from '../helpers/dns-server.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

test('a message from a locked sender is held as Locked; others are delivered', async (t) => {
  const dns = await startDnsServer({});
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    filtering: { antivirus: { enabled: false }, spamThreshold: 100, unsureThreshold: 100 },
  }, { resolver: dns.resolver });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); await dns.close(); });
  await a.app.lists.add({ direction: 'inbound', kind: 'sender-lock', scope: 'domain', owner: 'example.com', value: 'boss@partner.test', note: 'account under investigation' });

  const held = await sendMail({ port: a.inbound, from: 'boss@partner.test', to: ['bob@example.com'], raw: message({ from: 'boss@partner.test', subject: 'wire the money' }) });
  t.is(held.code, 550);
  t.regex(held.response, /held for review/);
  const other = await sendMail({ port: a.inbound, from: 'friend@partner.test', to: ['bob@example.com'], raw: message({ from: 'friend@partner.test' }) });
  t.true(other.ok, other.response);
  await sink.waitFor(1);

  const [record] = await a.app.quarantine.search({});
  t.is(record.mainClass, 'Locked');
  t.is(record.mailFrom, 'boss@partner.test');
  const logged = await eventually(async () => {
    for await (const r of a.app.log.newest()) if (r.mailFrom === 'boss@partner.test') return r;
    return undefined;
  });
  t.like(logged, { status: 'quarantined', recipients: [{ mainClass: 'Locked', status: 'quarantined' }] });
  t.deepEqual((logged.findings as Findings).lists['bob@example.com']?.kind, 'sender-lock');
});
