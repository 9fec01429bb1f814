// RFC 2047 encoded words both ways: what the appliance writes into a header (a Japanese subject, a
// notice, a tag) decodes back to the same text, and no word is longer than RFC 2047 allows.
import test from 'ava';
import { decodeEncodedWords, encodeEncodedWords } from '../../appliance/message/encoded-words.ts';
import { mailDate } from '../../appliance/message/mail-date.ts';

test('ASCII text is written as it is', (t) => {
  t.is(encodeEncodedWords('Quarterly report (final)'), 'Quarterly report (final)');
});

test('a long Japanese subject becomes several words of at most 75 characters that decode to the same text', (t) => {
  const subject = '【重要】第3四半期の請求書送付のお知らせ — ご確認のほどよろしくお願いいたします 🙇‍♂️ 𠮷野家';
  const encoded = encodeEncodedWords(subject);
  const words = encoded.split(' ');
  t.true(words.length > 1);
  for (const w of words) {
    t.regex(w, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    t.true(w.length <= 75, `${w} is ${w.length} characters`);
  }
  t.is(decodeEncodedWords(encoded), subject);
});

test('no character is split between two words (each word decodes on its own)', (t) => {
  const encoded = encodeEncodedWords('あ'.repeat(40) + '😀'.repeat(20));
  for (const w of encoded.split(' ')) t.notRegex(decodeEncodedWords(w), /\uFFFD/);
});

test('mail dates are RFC 5322 with a numeric zone', (t) => {
  t.is(mailDate(Date.UTC(2026, 10, 30, 9, 5, 7)), 'Mon, 30 Nov 2026 09:05:07 +0000');
});
