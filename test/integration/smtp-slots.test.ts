// Connection slots under abuse, over real SMTP from several loopback addresses: the per-network
// limit (an IPv4 /24), the share of slots kept for trusted clients, the deadline for EHLO after the
// greeting, and the cut-off for a message trickling in below the minimum rate.
import test from 'ava';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { sendMail, smtpDialog, type SmtpDialog } from '../helpers/smtp-client.ts';

const domains = [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: 9 }] }];

async function appliance(t: { teardown(fn: () => Promise<void>): void }, limits: Record<string, unknown>) {
  // relay.networks empty: loopback clients are ordinary clients here, not trusted ones.
  const a = await startTestAppliance({ domains, relay: { networks: [] }, limits }, { filter: deliverAll });
  const open: SmtpDialog[] = [];
  t.teardown(async () => { for (const d of open) d.end(); await a.cleanup(); });
  const connect = async (localAddress: string) => { const d = await smtpDialog(a.inbound, { localAddress }); open.push(d); return d; };
  return { a, connect };
}

test('one /24 gets at most maxConnectionsPerNetwork connections, whatever its addresses; the next /24 is another network', async (t) => {
  const { connect } = await appliance(t, { maxConnectionsPerNetwork: 2, maxConnectionsPerClient: 5 });
  t.regex((await connect('127.0.0.2')).greeting, /^220 /);
  t.regex((await connect('127.0.0.3')).greeting, /^220 /);
  t.regex((await connect('127.0.0.4')).greeting, /^421 4\.7\.0 Too many connections from your network/);
  t.regex((await connect('127.0.1.4')).greeting, /^220 /);
});

test('the reserved share of slots is left to trusted networks', async (t) => {
  const { connect } = await appliance(t, { maxConnections: 4, reservedConnectionsPercent: 50, trustedNetworks: ['127.0.9.0/24'] });
  t.regex((await connect('127.0.1.1')).greeting, /^220 /);
  t.regex((await connect('127.0.2.1')).greeting, /^220 /);
  t.regex((await connect('127.0.3.1')).greeting, /^421 4\.7\.0 Too many connections to this server/);
  t.regex((await connect('127.0.9.1')).greeting, /^220 /, 'a trusted client takes a reserved slot');
  t.regex((await connect('127.0.9.2')).greeting, /^220 /);
});

test('a client silent after the greeting is disconnected; one that said EHLO is not', async (t) => {
  // 3 s: time enough for the talker's EHLO however loaded the machine, short for the silent one.
  const { connect } = await appliance(t, { greetingTimeoutSeconds: 3 });
  const talker = await connect('127.0.0.2');
  t.regex(await talker.send('EHLO client.test'), /^250/);
  const silent = await connect('127.0.0.3');
  t.regex(await silent.reply(), /^421 4\.4\.2 No EHLO or HELO from you in 3 s/);
  t.is(await silent.reply(), '(closed)');
  // The talker's deadline passed before the silent client's: it is still served.
  t.regex(await talker.send('NOOP'), /^250/);
});

test('a message trickling below the minimum rate is cut off with 421 and leaves no spool file; a normal one is taken', async (t) => {
  // The slow client sends about 40 bytes in its first second; the normal message's 20 kB would have
  // to take over 20 s to fall below 1000 bytes/s, so a loaded machine cannot make it look slow.
  const { a, connect } = await appliance(t, { minDataBytesPerSecond: 1000, slowDataSeconds: 1 });
  const slow = await connect('127.0.0.2');
  for (const line of ['EHLO client.test', 'MAIL FROM:<a@example.net>', 'RCPT TO:<user@example.com>']) t.regex(await slow.send(line), /^250/);
  t.regex(await slow.send('DATA'), /^354/);
  const cut = await slow.send('Subject: a few bytes and then nothing\r\n');
  t.regex(cut, /^421 4\.4\.2 The message arrives too slowly \(\d+ bytes\/s, at least 1000 needed\)/);
  t.is(await slow.reply(), '(closed)');
  await eventually(async () => (await readdir(path.join(a.dataDir, 'spool'))).every((f) => !f.endsWith('.eml')) || undefined);

  const sent = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['user@example.com'], raw: message({ body: 'x'.repeat(20_000) }) });
  t.true(sent.ok, sent.response);
});
