// Why a message was held, said again in the reader's language from the sentences the verdict
// stored: a sample of each sentence shape the verdict writes is recognised, in Japanese
// without English words beyond names and values; an unknown sentence is kept as stored.
import test from 'ava';
import { whyText, whyCatalog } from '../../appliance/i18n/why.ts';

const SENTENCES = [
  'rule for Spam: quarantine', 'outbound rule for Spam: reject', 'virus found: Eicar-Signature',
  'recipient is on the domain recipient block list (info@example.jp)',
  'held: the sender is locked by the address-level list of tanaka@example.jp (bad@shop.test)',
  'allowed by the domain-level sender-allow list of example.jp (partner.test)',
  'blocked by the address-level sender-block list of tanaka@example.jp (spam@shop.test)',
  'blocked by the appliance-level sender-block list of * (spam@shop.test)',
  'condition block lists delete silently', 'larger than 26214400 bytes, so not scanned: quarantine (filtering.oversize)',
  'DMARC fails for bank.test and its policy is reject', 'spam score 96.03%', 'no spam scorer', 'not virus-scanned: clamd timeout',
  'SPF fail for shop.test: tag', 'auto-quarantined by the domain-level list of example.jp ([hold-me])',
  'rejecting was not possible because other recipients accept the message: quarantined instead', 'the message is malformed',
];

test('every sentence the verdict writes is said in Japanese, from the catalog', (t) => {
  for (const s of SENTENCES) {
    const ja = whyText('ja', s);
    t.not(ja, s, s);
    t.regex(ja, /[\u3040-\u30ff\u4e00-\u9fff]/, `${s} → ${ja}`);
    t.notRegex(ja.replace(/[\w.+-]+@[\w.-]+|[\w-]+(\.[\w-]+)+|\([^)]*\)|（[^）]*）|Spam|DMARC|SPF|Eicar-Signature|clamd|timeout|fail/g, ''), /[A-Za-z]{3,}/, `${s} → ${ja}`);
  }
  t.is(whyText('ja', 'spam score 96.03%'), 'スパムスコア 96.0%');
  t.is(whyText('en', 'spam score 96.03%'), 'spam score 96.0%');
  t.is(whyText('ja', 'rule for Spam: quarantine'), 'Spam の処理ルール: 隔離');
  t.is(whyText('ja', 'allowed by the domain-level sender-allow list of example.jp (partner.test)'), 'example.jp のドメイン単位のリスト「送信者許可リスト」で許可（partner.test）');
  t.is(whyText('ja', 'something a newer version wrote'), 'something a newer version wrote');
  // The appliance-wide lists' owner is the appliance, not the '*' stored for it.
  t.is(whyText('en', 'recipient is on the appliance recipient block list (info@example.jp)'), 'the recipient is on the appliance-wide recipient block list (info@example.jp)');
  t.is(whyText('ja', 'blocked by the appliance-level sender-block list of * (spam@shop.test)'), 'このアプライアンス のアプライアンス全体のリスト「送信者拒否リスト」で拒否（spam@shop.test）');
});

test('the why catalog has every key in both languages with the same placeholders', (t) => {
  const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [key, text] of Object.entries(whyCatalog.en)) t.deepEqual(ph(whyCatalog.ja[key as keyof typeof whyCatalog.en]), ph(text), key);
});
