// Bulk-mailer header rules on messages written here: an unsubscribe header without a list or a DKIM signature, a malformed unsubscribe
// header, a mass-mailing program in X-Mailer — each with its sentence in Japanese and English —
// and the mail that must not trip them: a mailing list's post, a signed newsletter, a vacation
// notice, a system notice marked Precedence: bulk, an ordinary note.
import test from 'ava';
import { extractFeatures } from '../../appliance/classifier/features.ts';
import { bulkRules, BULK_WEIGHTS } from '../../appliance/classifier/rules.ts';
import { reasonText } from '../../appliance/i18n/reasons.ts';

function mail(headers: string[], body = 'Our autumn offers are here: see the catalogue inside.'): Buffer {
  return Buffer.from([
    'From: "Shop News" <news@shop.example>', 'To: you@example.net', 'Subject: Autumn offers',
    'Date: Tue, 3 Sep 2024 10:15:00 +0900', 'Message-ID: <a1@shop.example>', ...headers,
    'Content-Type: text/plain; charset=utf-8', '', body, '',
  ].join('\r\n'));
}

const rules = (raw: Buffer) => bulkRules(extractFeatures(raw));
const names = (raw: Buffer) => rules(raw).map((h) => h.name);

test('Precedence: bulk alone is no tell: system notices carry it without a list or an unsubscribe', (t) => {
  for (const value of ['bulk', 'junk', 'list']) t.deepEqual(names(mail([`Precedence: ${value}`], 'cron: backup finished in 12 s')), [], value);
});

test('an unsubscribe header without a list or a DKIM signature is nudged; a malformed one too', (t) => {
  const unsigned = rules(mail(['List-Unsubscribe: <mailto:leave@shop.example>, <https://shop.example/unsub?u=1>']));
  t.deepEqual(unsigned.map((h) => h.name), ['BULK_UNSUBSCRIBE_UNSIGNED']);
  t.is(reasonText('en', unsigned[0]), 'it has an unsubscribe header but names no mailing list and carries no DKIM signature, which bulk senders must add');
  t.is(reasonText('ja', unsigned[0]), '配信停止のヘッダーがありますが、メーリングリスト名がなく、一斉配信の送信者に求められる DKIM 署名もありません');
  const malformed = rules(mail(['List-Unsubscribe: reply with REMOVE in the subject', 'DKIM-Signature: v=1; a=rsa-sha256; d=shop.example; s=s1; b=abc']));
  t.deepEqual(malformed.map((h) => h.name), ['BULK_UNSUBSCRIBE_MALFORMED']);
  t.is(reasonText('ja', malformed[0]), '配信停止のヘッダーに使えるアドレス（山括弧で囲んだ mailto: や Web のアドレス）がありません');
});

test('a program made for mass mailing in X-Mailer or User-Agent is named in the reason', (t) => {
  for (const mailer of ['Advanced Mass Sender v 3.21b', 'Send-Safe', 'Atomic Mail Sender 9.10', 'GroupMail 5.0', 'Bulk Mailer Pro']) {
    const hits = rules(mail([`X-Mailer: ${mailer}`]));
    t.deepEqual(hits.map((h) => h.name), ['BULK_MAILER_SOFTWARE'], mailer);
    t.is(reasonText('en', hits[0]), `it was sent with a program made for mass mailing (${mailer})`);
  }
  t.is(reasonText('ja', rules(mail(['User-Agent: Send-Safe']))[0]), '大量送信用のプログラム（Send-Safe）で送られています');
  for (const mailer of ['Microsoft Outlook 16.0', 'Apple Mail (2.3774)', 'Mozilla Thunderbird', 'phpList version 3.6']) {
    t.deepEqual(names(mail([`X-Mailer: ${mailer}`])), [], mailer);
  }
});

test('mailing lists, signed newsletters, automatic replies and ordinary mail trip none of them', (t) => {
  // A list's post: Precedence and an unsubscribe link beside the list's identity (RFC 2919), or
  // only a list program's fields, as lists of 2002 did.
  t.deepEqual(names(mail(['Precedence: list', 'List-Id: Users of Example <users.lists.example.org>', 'List-Unsubscribe: <mailto:users-leave@lists.example.org>'])), []);
  t.deepEqual(names(mail(['Precedence: bulk', 'X-BeenThere: users@lists.example.org'])), []);
  t.deepEqual(names(mail(['Precedence: bulk', 'Sender: owner-users@lists.example.org'])), []);
  t.deepEqual(names(mail(['Precedence: bulk', 'X-ML-Name: users-jp'])), []);
  // A newsletter that keeps the bulk senders' rules: signed, with a one-click unsubscribe.
  t.deepEqual(names(mail(['Precedence: bulk', 'DKIM-Signature: v=1; a=rsa-sha256; d=shop.example; s=s1; b=abc',
    'List-Unsubscribe: <https://shop.example/unsub?u=1>', 'List-Unsubscribe-Post: List-Unsubscribe=One-Click'])), []);
  // A vacation notice marks itself bulk and automatic.
  t.deepEqual(names(mail(['Precedence: bulk', 'Auto-Submitted: auto-replied'], 'I am away until Monday.')), []);
  t.deepEqual(names(mail([], 'See you at the review on Thursday.')), []);
});
