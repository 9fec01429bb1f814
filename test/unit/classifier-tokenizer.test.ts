// The classifier's reading of messages: words in English and Japanese (in every charset Japanese
// mail uses), header tokens, HTML, URLs and structural facts.
import test from 'ava';
import iconv from 'iconv-lite';
import Encoding from 'encoding-japanese';
import { extractFeatures } from '../../appliance/classifier/features.ts';
import { decodeHeader } from '../../appliance/classifier/charset.ts';
import { scanHtml } from '../../appliance/classifier/html.ts';
import { words } from '../../appliance/classifier/tokenize.ts';
import { registrableDomain, urlHost, findUrls } from '../../appliance/classifier/urls.ts';

const SUBJECT_JA = 'お得なキャンペーンのお知らせ';
const BODY_JA = '今すぐ登録して無料でポイントを受け取ってください。東京都港区のお店でも使えます。';

function encode(text: string, charset: string): Buffer {
  if (charset === 'ISO-2022-JP') return Buffer.from(Encoding.convert(Encoding.stringToCode(text), { to: 'JIS', from: 'UNICODE' }));
  return iconv.encode(text, charset);
}

function japaneseMessage(charset: string, cte: '7bit' | '8bit' | 'base64'): Buffer {
  const subject = `=?${charset}?B?${encode(SUBJECT_JA, charset).toString('base64')}?=`;
  const body = encode(BODY_JA + '\r\n', charset);
  const head = `From: =?${charset}?B?${encode('山田 太郎', charset).toString('base64')}?= <taro@example.jp>\r\n` +
    `To: hanako@example.jp\r\nSubject: ${subject}\r\nDate: Tue, 3 Sep 2024 10:15:00 +0900\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), cte === 'base64' ? Buffer.from(body.toString('base64') + '\r\n') : body]);
}

const hasJapanese = (t: string) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(t);

test('English text splits into lower-case words, keeping inner apostrophes and numbers', (t) => {
  t.deepEqual(words("Don't MISS this: 3.5 million e-mail addresses!", 100), ["don't", 'miss', 'this', '3.5', 'million', 'e-mail', 'addresses']);
});

test('Japanese text is segmented into words, not single characters or whole runs', (t) => {
  const ws = words(BODY_JA, 100);
  for (const w of ['登録', '無料', 'ポイント', '東京']) t.true(ws.includes(w), `${w} in ${ws.join('|')}`);
  t.false(ws.includes(BODY_JA.slice(0, 10)));
});

test('Japanese mail tokenizes the same in UTF-8, ISO-2022-JP, Shift_JIS and EUC-JP', (t) => {
  const variants: [string, '7bit' | '8bit' | 'base64'][] = [['UTF-8', 'base64'], ['ISO-2022-JP', '7bit'], ['Shift_JIS', '8bit'], ['EUC-JP', '8bit']];
  const tokenSets = variants.map(([cs, cte]) => extractFeatures(japaneseMessage(cs, cte)).tokens.filter(hasJapanese));
  t.true(tokenSets[0].includes('subject:キャンペーン'), tokenSets[0].join(' '));
  t.true(tokenSets[0].includes('from:name:山田'));
  t.true(tokenSets[0].includes('無料'));
  for (let i = 1; i < variants.length; i++) t.deepEqual(tokenSets[i], tokenSets[0], variants[i][0]);
});

test('RFC 2047 words split inside an ISO-2022-JP escape run are joined before decoding', (t) => {
  const bytes = encode(SUBJECT_JA, 'ISO-2022-JP');
  const half = Math.floor(bytes.length / 2);
  const header = `=?ISO-2022-JP?B?${bytes.subarray(0, half).toString('base64')}?=\r\n =?ISO-2022-JP?B?${bytes.subarray(half).toString('base64')}?=`;
  t.is(decodeHeader(header.replace(/\r\n/g, '')), SUBJECT_JA);
  t.is(decodeHeader('=?utf-8?q?caf=C3=A9_au_lait?= and more'), 'café au lait and more');
});

test('raw 8-bit Shift_JIS in a header is recognised without a label', (t) => {
  t.is(decodeHeader(iconv.encode(SUBJECT_JA, 'Shift_JIS').toString('latin1')), SUBJECT_JA);
});

test('header tokens carry the header name as prefix', (t) => {
  const raw = Buffer.from('From: "Shop Team" <news@mail.shop.example.com>\r\nReply-To: other@elsewhere.example\r\n' +
    'Subject: Weekly offers\r\nReceived: from mx.sender.example (mx.sender.example [192.0.2.10]) by mx.us.example with ESMTP\r\n' +
    'X-Mailer: BulkMailer Pro 5.1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello there\r\n');
  const { tokens, facts } = extractFeatures(raw);
  for (const tok of ['subject:weekly', 'subject:weekly 1 offers', 'from:dom:mail.shop.example.com', 'from:reg:example.com',
    'from:name:shop', 'reply-to:dom:elsewhere.example', 'rcvd:host:mx.sender.example', 'rcvd:ip:192.0.2.10', 'rcvd:net:192.0.2',
    'mailer:bulkmailer', 'ct:text/plain', 'ct:charset:utf-8', 'H:x-mailer', 'hello', 'hello 1 there']) {
    t.true(tokens.includes(tok), tok);
  }
  t.true(facts.includes('reply-to-other-domain'));
  t.true(facts.includes('date-missing'));
});

test('HTML is reduced to text, with tag tokens, links, forms and tricks', (t) => {
  const h = scanHtml('<html><head><style>p{color:red}</style><title>Offer</title></head><body>' +
    '<p>Buy V<b></b>iagra &amp; more&nbsp;now</p><font color="#ffffff" size="1">invisible</font>' +
    '<a href="http://evil.example/login">www.paypal.com</a><form action="http://evil.example/post">' +
    '<input type="password" name="pw"></form>fr<!-- x -->ee<img src="http://img.example/a.gif"></body></html>');
  t.regex(h.text, /Buy Viagra & more now/);
  t.false(h.text.includes('color:red'));
  t.true(h.text.includes('Offer'));
  t.true(h.text.includes('free'));
  t.true(h.tagTokens.includes('tag:font'));
  t.true(h.tagTokens.includes('attr:font.color=#ffffff'));
  t.deepEqual(h.links, [{ href: 'http://evil.example/login', text: 'www.paypal.com' }]);
  t.deepEqual(h.formActions, ['http://evil.example/post']);
  t.is(h.passwordInputs, 1);
  t.true(h.hiddenText);
  t.is(h.commentsInText, 1);
  t.deepEqual(h.imageSources, ['http://img.example/a.gif']);
});

test('URLs give hosts, registrable domains and path words', (t) => {
  t.deepEqual(findUrls('see http://a.example.com/x?y=1, and www.shop.example.co.jp/sale.'), ['http://a.example.com/x?y=1', 'www.shop.example.co.jp/sale']);
  t.is(urlHost('https://user@Login.Example.COM:8443/path'), 'login.example.com');
  t.is(registrableDomain('a.b.example.co.jp'), 'example.co.jp');
  t.is(registrableDomain('mail.example.com'), 'example.com');
  const raw = Buffer.from('From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\nGo to http://deals.shop.example.net/spring-sale/today now\r\n');
  const { tokens } = extractFeatures(raw);
  for (const tok of ['url:host:deals.shop.example.net', 'url:dom:example.net', 'url:tld:net', 'url:path:spring-sale']) t.true(tokens.includes(tok), tok);
});

test('structural facts: HTML-only, invalid date, link mismatch, hidden text, attachments, encoding tricks', (t) => {
  const boundary = 'b1';
  const raw = Buffer.from(`From: x@y.example\r\nSubject: =?utf-8?B?${Buffer.from('plain subject').toString('base64')}?=\r\n` +
    `Date: Mon, 32 Foo 2024 99:99\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n` +
    `--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
    Buffer.from('<p style="display:none">x</p><a href="http://track.example.net/c?1">www.bank.example.com</a>').toString('base64') + '\r\n' +
    `--${boundary}\r\nContent-Type: application/octet-stream; name="invoice.pdf.exe"\r\nContent-Disposition: attachment; filename="invoice.pdf.exe"\r\n` +
    `Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--${boundary}--\r\n`);
  const { facts, tokens } = extractFeatures(raw);
  for (const f of ['html-only', 'date-invalid', 'link-mismatch', 'html-hidden-text', 'attachment-executable',
    'attachment-double-extension', 'base64-ascii-text', 'subject-encoded-ascii']) {
    t.true(facts.includes(f), f);
    t.true(tokens.includes('fact:' + f), 'fact:' + f);
  }
  t.true(tokens.includes('att:ext:exe'));
  t.true(tokens.includes('att:type:application/octet-stream'));
});

test('a valid date with the right weekday raises no date fact', (t) => {
  const { facts } = extractFeatures(Buffer.from('From: a@b.example\r\nDate: Tue, 3 Sep 2024 10:15:00 +0900\r\nSubject: hi\r\n\r\nbody\r\n'));
  t.false(facts.some((f) => f.startsWith('date-')));
  const wrong = extractFeatures(Buffer.from('From: a@b.example\r\nDate: Fri, 3 Sep 2024 10:15:00 +0900\r\nSubject: hi\r\n\r\nbody\r\n'));
  t.true(wrong.facts.includes('date-weekday-wrong'));
});
