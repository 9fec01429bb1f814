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

test('a message relayed from memory comes out byte for byte as from its spool file, edited or not', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { messageStream } = await import('../../appliance/delivery/message-stream.ts');
  const dir = await mkdtemp(path.join(tmpdir(), 'mailmoat-stream-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const raw = Buffer.from(`Received: from x\r\nX-Mailmoat-Class: Not Spam\r\nSubject: hi\r\n\r\n${'body line\r\n'.repeat(20000)}`);
  const file = path.join(dir, 'm.eml');
  await writeFile(file, raw);
  const read = async (s: NodeJS.ReadableStream) => { const parts: Buffer[] = []; for await (const c of s) parts.push(c as Buffer); return Buffer.concat(parts); };
  const edits = { prepend: [['X-Mailmoat-Class', 'Spam']] as [string, string][], subjectPrefix: 'SPAM!!', remove: ['X-Mailmoat-Class'] };
  const fromFile = await read(messageStream(file, edits));
  t.deepEqual(await read(messageStream(raw, edits)), fromFile);
  t.regex(fromFile.subarray(0, 100).toString(), /^X-Mailmoat-Class: Spam\r\nReceived: from x\r\nSubject: SPAM!! hi\r\n\r\n/);
  t.deepEqual(await read(messageStream(raw)), raw);
  t.deepEqual(await read(messageStream(file)), raw);
});
