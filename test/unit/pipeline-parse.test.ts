// The parse stage: Japanese charsets come out right, in headers (RFC 2047) and bodies, malformed
// MIME is reported (class Error later) instead of crashing or passing as an empty mail, and a
// message is parsed once for every stage, the scorer included.
import test from 'ava';
import Encoding from 'encoding-japanese';
import { parseStage } from '../../appliance/pipeline/parse.ts';
import { analyse } from '../../appliance/pipeline/analysis.ts';
import { scoreMessage } from '../../appliance/classifier/index.ts';
import { mimeParses } from '../../appliance/classifier/mime.ts';
import { HASH_BITS, hashToken } from '../../appliance/classifier/model.ts';
import type { StageContext } from '../../appliance/pipeline/message-context.ts';

const JA = '迷惑メールのテスト：東京都港区';

function sc(raw: Buffer): StageContext {
  return {
    msg: { id: 'p', direction: 'inbound', receivedAt: 0, spoolPath: '', size: raw.length, client: { ip: '127.0.0.1', hostname: '', helo: '' }, mailFrom: '', recipients: [] },
    raw,
    findings: { lists: {}, timings: {} },
  };
}

function encode(text: string, to: 'JIS' | 'SJIS' | 'EUCJP' | 'UTF8'): Buffer {
  return Buffer.from(Encoding.convert(Encoding.stringToCode(text), { to, from: 'UNICODE' }));
}

const CHARSETS = [['ISO-2022-JP', 'JIS', '7bit'], ['Shift_JIS', 'SJIS', '8bit'], ['EUC-JP', 'EUCJP', '8bit'], ['UTF-8', 'UTF8', '8bit']] as const;

for (const [charset, code, cte] of CHARSETS) {
  test(`${charset} subject and body decode to the same Japanese text`, async (t) => {
    const subject = `=?${charset}?B?${encode(JA, code).toString('base64')}?=`;
    const raw = Buffer.concat([
      Buffer.from(`From: =?${charset}?B?${encode('山田', code).toString('base64')}?= <yamada@example.jp>\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n`),
      encode(`${JA}\r\n`, code),
    ]);
    const s = sc(raw);
    await parseStage(s);
    t.true(s.findings.parse?.ok);
    t.is(s.findings.parse?.subject, JA);
    t.is(s.findings.parse?.fromAddress, 'yamada@example.jp');
    t.is(s.mime?.texts.join('').trim(), JA);
  });
}

test('attachments are listed with name, type and size', async (t) => {
  const raw = Buffer.from([
    'From: a@example.com', 'Subject: files', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain', '', 'see attached', '--b1',
    'Content-Type: application/octet-stream; name="data.bin"', 'Content-Disposition: attachment; filename="data.bin"',
    'Content-Transfer-Encoding: base64', '', Buffer.from('0123456789').toString('base64'), '--b1--', '',
  ].join('\r\n'));
  const s = sc(raw);
  await parseStage(s);
  t.true(s.findings.parse?.ok);
  t.deepEqual(s.findings.parse?.attachments, [{ filename: 'data.bin', contentType: 'application/octet-stream', size: 10 }]);
});

const MALFORMED: [string, Buffer][] = [
  ['binary garbage', Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a, 0x41])],
  ['a header section with a non-header line', Buffer.from('From: a@example.com\r\nthis is not a header\r\n\r\nbody\r\n')],
  ['multipart without a boundary', Buffer.from('From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nbody\r\n')],
  ['multipart whose boundary never occurs', Buffer.from('From: a@example.com\r\nContent-Type: multipart/mixed; boundary=abc\r\n\r\nno parts here\r\n')],
  ['an empty message', Buffer.alloc(0)],
];
for (const [name, raw] of MALFORMED) {
  test(`malformed: ${name} is reported, not thrown`, async (t) => {
    const s = sc(raw);
    await t.notThrowsAsync(parseStage(s));
    t.false(s.findings.parse?.ok);
    t.truthy(s.findings.parse?.error);
  });
}

test('a message is parsed once: the scorer reads the parse stage\'s parse, headers keep their order', async (t) => {
  const weights = new Float64Array(1 << HASH_BITS);
  weights[hashToken('subject:zzqxwinner')] = 3;
  const scorer = { score: async (input: Parameters<typeof scoreMessage>[2]) => scoreMessage({ weights, trained: true, calibration: { slope: 1, t90: 2 } }, { spamThreshold: 90, unsureThreshold: 60, maxReasons: 5 }, input) };
  const raw = Buffer.concat([
    Buffer.from(`Received: by b.example\r\nReceived: by a.example\r\nFrom: =?ISO-2022-JP?B?${encode('山田', 'JIS').toString('base64')}?= <yamada@example.jp>\r\n` +
      'Subject: zzqxwinner\r\nX-Ticket: T-1\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n'),
    encode(`${JA}\r\n`, 'JIS'),
  ]);
  const before = mimeParses.count;
  const a = await analyse(
    { raw, msg: { id: 'once', direction: 'outbound', client: { ip: '127.0.0.1', hostname: '', helo: '' }, mailFrom: 'yamada@example.jp' }, hostname: 'mailmoat.test', spfNg: ['fail'], headerNames: ['x-ticket', 'from'] },
    { resolver: async () => { throw new Error('no DNS in this test'); }, scorer },
  );
  t.is(mimeParses.count - before, 1, 'parse stage and scorer share one parse');
  t.true(a.spam?.reasons.some((r) => r.name === 'subject:zzqxwinner'), 'the scorer read the parse');
  t.deepEqual(a.headers, { from: ['山田 <yamada@example.jp>'], 'x-ticket': ['T-1'] });
  const s = sc(raw);
  await parseStage(s);
  t.deepEqual(s.mime?.headers.slice(0, 2).map((h) => h.raw), ['by b.example', 'by a.example'], 'raw header fields in their order');
  t.is(s.findings.parse?.fromAddress, 'yamada@example.jp');
});
