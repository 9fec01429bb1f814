// The syslog line of a mail event stays one greppable line whatever a sender or a remote server
// put in it: control characters (folded headers, multi-line replies) become spaces, long values
// are cut, and the queue id and Message-ID are always there.
import test from 'ava';
import { formatMailEvent } from '../../appliance/logsearch/mail-events.ts';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';

const log: MessageLogRecord = {
  id: '0abc123', receivedAt: 0, direction: 'inbound', mailFrom: 'a@sender.test', size: 42, attempts: [], status: 'queued',
  client: { ip: '192.0.2.1', hostname: 'mail.sender.test', helo: 'x', tls: false },
  recipients: [{ address: 'bob@example.com', original: 'bob@example.com', status: 'pending' }, { address: 'eve@example.com', original: 'eve@example.com', status: 'quarantined', mainClass: 'Spam' }],
  messageId: '<m1@sender.test>', reply: '250 2.0.0 Ok: queued as 0abc123',
};

test('acceptance lists every recipient; quarantine only the held ones with their class', (t) => {
  t.is(formatMailEvent({ kind: 'accepted', log }),
    '<6>mailmoat: 0abc123: accepted, from=<a@sender.test>, to=<bob@example.com>,<eve@example.com>, direction=inbound, size=42, client=mail.sender.test[192.0.2.1], message-id=<m1@sender.test> (250 2.0.0 Ok: queued as 0abc123)');
  t.regex(formatMailEvent({ kind: 'quarantined', log }), /^<5>mailmoat: 0abc123: quarantined, from=<a@sender\.test>, to=<eve@example\.com>, .*class=Spam, message-id=<m1@sender\.test> /);
});

test('a multi-line remote reply and a header with control characters stay on one line', (t) => {
  const line = formatMailEvent({ kind: 'deferred', log: { ...log, messageId: '<a\r\n b@x>', mailFrom: '' }, recipient: 'bob@example.com', relay: 'mx.example.com [192.0.2.9]:25', reply: '451-4.3.0 first\r\n451 4.3.0 second\u0000' + 'x'.repeat(1000) });
  t.false(/[\u0000-\u001f]/.test(line), line);
  t.true(line.startsWith('<5>mailmoat: 0abc123: deferred, to=<bob@example.com>, relay=mx.example.com [192.0.2.9]:25, message-id=<a b@x> (451-4.3.0 first 451 4.3.0 second x'));
  t.true(line.length < 500);
});

test('a message without a Message-ID says so', (t) => {
  t.regex(formatMailEvent({ kind: 'rejected', log: { ...log, messageId: undefined, client: undefined } }), /, message-id=none \(250 /);
});
