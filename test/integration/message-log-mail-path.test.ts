// What the mail path writes into the message log, over real SMTP on loopback: subjects and From
// names with RFC 2047 encoded words (UTF-8, ISO-2022-JP) logged decoded and searchable, the
// receiving server's name, and recipients refused at RCPT (unknown user, relay denied, blocked)
// logged with status "rejected at RCPT" and the reply only where the settings ask for it.
import test from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import type { LogSearchQuery } from '../../appliance/logsearch/log-index.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const q = (over: Partial<LogSearchQuery>): LogSearchQuery => ({ conditions: [], match: 'all', mode: 'exact', visible: () => true, limit: 50, scanCap: 20_000, ...over });

test('Japanese subjects and From names are logged decoded, and found by part of a word', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }] }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const utf8 = `=?UTF-8?B?${Buffer.from('ご請求書の送付').toString('base64')}?=`;
  // "こんにちは" in ISO-2022-JP, split across two encoded words in the middle of its escape sequence.
  const jis = Buffer.from('GyRCJDMkcyRLJEEkTxsoQg==', 'base64');
  const split = `=?ISO-2022-JP?B?${jis.subarray(0, 5).toString('base64')}?=\r\n =?ISO-2022-JP?B?${jis.subarray(5).toString('base64')}?=`;
  t.true((await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message({ subject: utf8, from: `=?UTF-8?Q?=E7=94=B0=E4=B8=AD?= <tanaka@example.net>` }) })).ok);
  t.true((await sendMail({ port: a.inbound, from: 'a@example.net', to: ['bob@example.com'], raw: message({ subject: `Re: ${split}` }) })).ok);
  await sink.waitFor(2);
  const find = async (value: string) => (await a.app.log.search(q({ mode: 'contains', conditions: [{ field: 'subject', value }] }))).records;
  const [bill] = await eventually(async () => { const r = await find('請求'); return r.length ? r : undefined; });
  t.is(bill.subject, 'ご請求書の送付');
  t.is(bill.from, '田中 <tanaka@example.net>');
  t.is(bill.server, 'mx.mailmoat.test');
  t.deepEqual((await find('こんにち')).map((r) => r.subject), ['Re: こんにちは']);
});

test('recipients refused at RCPT are logged with the reply where the domain asks for it, and only there', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [
      { name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }], recipients: { mode: 'listed', addresses: ['bob'] }, logInvalidRecipients: true },
      { name: 'quiet.example', routes: [{ host: '127.0.0.1', port: sink.port }], recipients: { mode: 'listed', addresses: ['bob'] } },
    ],
    log: { relayDenied: true },
  }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  await a.app.lists.add({ direction: 'inbound', kind: 'recipient-block', scope: 'domain', owner: 'example.com', value: 'blocked@example.com' });
  const sent = await sendMail({ port: a.inbound, from: 'spammer@bad.test', to: ['nobody@example.com', 'blocked@example.com', 'ghost@quiet.example', 'x@elsewhere.test', 'bob@example.com'], raw: message() });
  t.true(sent.ok, sent.response);
  await sink.waitFor(1);
  const refused = await eventually(async () => {
    const page = await a.app.log.search(q({ conditions: [{ field: 'status', value: 'rejected at RCPT' }] }));
    return page.records.length >= 3 ? page.records : undefined;
  });
  const byRecipient = Object.fromEntries(refused.map((r: MessageLogRecord) => [r.recipients[0].address, r]));
  t.deepEqual(Object.keys(byRecipient).sort(), ['blocked@example.com', 'nobody@example.com', 'x@elsewhere.test']);
  t.is(byRecipient['nobody@example.com'].reply, '550 5.1.1 Recipient address rejected: no such user here');
  t.is(byRecipient['blocked@example.com'].reply, '550 5.7.1 Mail for this recipient is refused by policy');
  t.regex(byRecipient['x@elsewhere.test'].reply!, /^550 5\.7\.1 Relay access denied/);
  t.is(byRecipient['nobody@example.com'].mailFrom, 'spammer@bad.test');
  t.is(byRecipient['nobody@example.com'].client?.ip, '127.0.0.1');
  t.is(byRecipient['nobody@example.com'].status, 'rejected at RCPT');
  // The message itself is logged once, for bob; quiet.example's unknown user is not logged.
  const all = (await a.app.log.search(q({}))).records;
  t.is(all.length, 4);
});
