// Header edits applied while relaying: prepended headers keep their folding, line breaks cannot
// inject headers, non-ASCII tags are RFC 2047-encoded, the Subject is tagged or created.
import test from 'ava';
import { applyHeaderEdits } from '../../appliance/delivery/message-stream.ts';

const header = 'From: a@example.net\r\nSubject: hello\r\n';

test('prepended headers keep folded lines and neutralise bare line breaks', (t) => {
  const out = applyHeaderEdits(header, { prepend: [['X-A', 'one;\r\n two'], ['X-B', 'evil\r\nBcc: victim@example.com']] });
  t.true(out.startsWith('X-A: one;\r\n two\r\nX-B: evil Bcc: victim@example.com\r\nFrom:'));
});

test('the Subject gets the tag, in UTF-8 words when not ASCII', (t) => {
  t.regex(applyHeaderEdits(header, { prepend: [], subjectPrefix: 'SPAM!!' }), /\r\nSubject: SPAM!! hello\r\n/);
  const ja = applyHeaderEdits(header, { prepend: [], subjectPrefix: '迷惑!!' });
  const word = /Subject: (=\?UTF-8\?B\?([^?]+)\?=) hello/.exec(ja);
  t.truthy(word);
  t.is(Buffer.from(word![2], 'base64').toString('utf8'), '迷惑!!');
});

test('a message without a Subject gets one holding the tag', (t) => {
  t.is(applyHeaderEdits('From: a@example.net\r\n', { prepend: [], subjectPrefix: 'SPAM!!' }), 'Subject: SPAM!!\r\nFrom: a@example.net\r\n');
});

test('named fields are taken out with their folded lines; Authentication-Results only when they claim our id', (t) => {
  const section = [
    'Received: from x', 'X-Mailmoat-Class: Not Spam', 'x-mailmoat-reasons: A(+1.00),', '\tB(+2.00)',
    'Authentication-Results: (comment) MX.Mailmoat.Test; spf=pass', 'Authentication-Results: other.test;', ' dkim=pass',
    'Subject: hi', '',
  ].join('\r\n');
  const out = applyHeaderEdits(section, { prepend: [['X-Mailmoat-Class', 'Spam']], remove: ['X-Mailmoat-Class', 'X-Mailmoat-Reasons'], removeAuthResultsOf: 'mx.mailmoat.test' });
  t.is(out, ['X-Mailmoat-Class: Spam', 'Received: from x', 'Authentication-Results: other.test;', ' dkim=pass', 'Subject: hi', ''].join('\r\n'));
});
