// Fuzz tests of the message parsers: mutated messages (MIME syntax tokens, random bytes, cuts,
// repeats, bit flips over real-looking seeds) never crash the classifier's MIME walker and feature
// extraction, nor the pipeline's parse stage, which must report a malformed message instead.
// Quick suite: fixed seed, bounded; MAILMOAT_FUZZ=long for a long run (test/helpers/fuzz.ts).
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { extractFeatures } from '../../appliance/classifier/features.ts';
import { parseMime } from '../../appliance/classifier/mime.ts';
import type { StageContext } from '../../appliance/pipeline/message-context.ts';
import { parseStage } from '../../appliance/pipeline/parse.ts';
import { FUZZ_TIMEOUT_MS, fuzzParams, mutated } from '../helpers/fuzz.ts';

const fixtures = path.join(import.meta.dirname, '../fixtures/classifier');
const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1');

const SEEDS = [
  readFileSync(path.join(fixtures, 'ham-meeting.eml')),
  readFileSync(path.join(fixtures, 'spam-pills.eml')),
  crlf([
    'From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>', 'To: a@example.com, "B, C" <b@example.com>',
    'Subject: =?UTF-8?Q?caf=C3=A9_=E2=82=AC?= and =?Shift_JIS?B?g2WDWINn?=', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"', '',
    'preamble', '--outer', 'Content-Type: multipart/alternative; boundary=inner', '',
    '--inner', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '',
    'caf=C3=A9 soft=', 'break', '--inner', 'Content-Type: text/html; charset=iso-8859-1', '',
    '<p>Hi <a href="http://example.com/x">http://other.test/login</a><form action="http://evil.test"><input type=password></form>',
    '--inner--', '--outer', 'Content-Type: application/pdf; name="=?UTF-8?B?5pu4.pdf?="', 'Content-Disposition: attachment; filename*=UTF-8\'\'%E6%9B%B8.pdf',
    'Content-Transfer-Encoding: base64', '', Buffer.from('%PDF-1.4 not really').toString('base64'),
    '--outer', 'Content-Type: message/rfc822', '', 'Subject: inner', 'Content-Type: text/plain', '', 'inner body', '--outer--', 'epilogue', '',
  ]),
];
const TOKENS = [
  '\r\n', '\n', '\r\n\r\n', '--', '--outer', '--inner--', ': ', ';', '=', '"', '=?', '?=', '=?UTF-8?B?', '=?ISO-2022-JP?Q?', '\x1b$B', '\x1b(B',
  'Content-Type: multipart/mixed; boundary=', 'Content-Type: text/html; charset=', 'Content-Transfer-Encoding: base64\r\n',
  'Content-Transfer-Encoding: quoted-printable\r\n', 'charset*=', "''", '%', '<a href="', '<!--', '<script>', '&#', '\t', ' ', '\0', '\xff',
];

test('the classifier MIME walker and feature extraction never crash on mutated messages', (t) => {
  t.timeout(FUZZ_TIMEOUT_MS);
  fc.assert(fc.property(mutated(SEEDS, TOKENS), (raw) => {
    const mime = parseMime(raw);
    const features = extractFeatures(raw);
    return Array.isArray(mime.headers) && features.tokens.every((x) => typeof x === 'string');
  }), fuzzParams(1000));
  t.pass();
});

test('the parse stage reports mutated messages as parsed or malformed, never crashing', async (t) => {
  t.timeout(FUZZ_TIMEOUT_MS);
  await fc.assert(fc.asyncProperty(mutated(SEEDS, TOKENS), async (raw) => {
    const sc: StageContext = {
      msg: { id: 'f', direction: 'inbound', receivedAt: 0, spoolPath: '', size: raw.length, client: { ip: '127.0.0.1', hostname: '', helo: '' }, mailFrom: '', recipients: [] },
      raw,
      findings: { lists: {}, timings: {} },
    };
    await parseStage(sc);
    const p = sc.findings.parse;
    return p !== undefined && (p.ok || typeof p.error === 'string');
  }), fuzzParams(300));
  t.pass();
});
