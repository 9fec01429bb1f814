// The words for the reasons behind a spam score, Japanese and English, built like the other
// catalogs (the type of `ja` is checked against `en`, `{name}` placeholders filled by translate).
// A reason is a rule (an upper-case name such as PHISH_LINK_TEXT_MISMATCH, with the values its
// sentence needs as params) or a feature token of the statistics ("subject:free", "from:no-name",
// "url:dom:example.top"): tokens are read by their prefix, so the admin sees "the subject has the
// words “free”" rather than the token. A rule this catalog does not know (a list hit, a reason of
// an older version) shows the sentence it was stored with. The same catalog says what the score's
// thresholds mean on the admin's own training data (the classifier's calibration).
import { translate, type Catalog, type Language } from './catalog.ts';

const en = {
  'reason.AUTH_DNS_TEMPERROR': 'DNS did not answer for {domain}: SPF, DKIM and DMARC results are not counted',
  'reason.AUTH_SPF_FAIL': 'SPF fail for {domain}',
  'reason.AUTH_SPF_SOFTFAIL': 'SPF softfail for {domain}',
  'reason.AUTH_DKIM_FAIL': 'DKIM signature invalid for {domain}',
  'reason.AUTH_DMARC_FAIL': 'DMARC fail for {domain}',
  'reason.AUTH_DMARC_PASS': 'DMARC pass for {domain}',
  'reason.AUTH_BRAND_VERIFIED': "DMARC confirms the mail comes from {domain}, one of {brand}'s own domains",
  'reason.URL_ABUSED_TLD': 'a link goes to {host}; .{tld} is among the top-level domains most used for spam and phishing',
  'reason.FROM_ABUSED_TLD': 'the sender writes from {domain}; .{tld} is among the top-level domains most used for spam and phishing',
  'reason.PHISH_LINK_TEXT_MISMATCH': 'the link text says {shown} but it points to {target}',
  'reason.PHISH_PUNYCODE_DOMAIN': 'a link goes to {host}, which displays as {looks} in other scripts',
  'reason.PHISH_LOOKALIKE_DOMAIN': "{host} is made to look like {brand}'s address but is not",
  'reason.PHISH_BRAND_IN_FOREIGN_DOMAIN': '{host} has {brand} in its name but does not belong to {brand}',
  'reason.PHISH_URL_SHORTENER': 'a link is hidden behind the URL shortener {host}',
  'reason.PHISH_CREDENTIAL_FORM': 'the mail itself asks for a password',
  'reason.PHISH_FORM_IN_MAIL': 'the mail contains a form that sends to {host}',
  'reason.PHISH_DATA_URL': 'a link opens a page carried inside the mail itself (a data: URL), which no address bar can vouch for',
  'reason.PHISH_JAVASCRIPT_URL': 'a link runs a script (a javascript: URL) instead of opening an address',
  'reason.PHISH_LOOKALIKE_SENDER_DOMAIN': "the sender's domain {domain} is made to look like {brand}'s but is not",
  'reason.PHISH_BRAND_IN_SENDER_DOMAIN': "the sender's domain {domain} has {brand} in its name but does not belong to {brand}",
  'reason.PHISH_ATTACHED_LOGIN_PAGE': 'the attached page {page} opens a login form in the browser',
  'reason.PHISH_QR_CODE_ONLY': 'the mail is little more than an image asking to scan a code, whose target no link check can see',
  'reason.JP_UNSOLICITED_AD': 'the subject carries the label Japanese law requires on unsolicited advertising (未承諾広告)',
  'reason.BULK_UNSUBSCRIBE_UNSIGNED': 'it has an unsubscribe header but names no mailing list and carries no DKIM signature, which bulk senders must add',
  'reason.BULK_UNSUBSCRIBE_MALFORMED': 'its unsubscribe header holds no usable address (a mailto: or web address in angle brackets)',
  'reason.BULK_MAILER_SOFTWARE': 'it was sent with a program made for mass mailing ({mailer})',
  'reason.PHISH_ATTACHED_ACTIVE_PAGE': 'the attached page {page} has a form or a script and speaks of logging in',
  'reason.PHISH_BRAND_NAME_DMARC_FAIL': 'the sender calls itself "{name}", but {domain} does not vouch for this mail (DMARC {dmarc})',
  'reason.PHISH_BRAND_NAME_OTHER_DOMAIN': `the sender calls itself "{name}" but writes from {domain}, not {brand}'s`,
  'reason.MODEL_EMPTY': 'no model yet: train it, or install the starter model (mailmoat train --starter)',
  'reason.MODEL_PRIOR': 'the share of spam and good mail in what was learned',
  'reason.token.words': 'the text has the words “{words}”',
  'reason.token.subject': 'the subject has the words “{words}”',
  'reason.token.subject-letters': 'the subject has the letters “{words}”',
  'reason.token.subject-punct': 'the subject has runs of ! or $',
  'reason.token.long': 'the text has long strings of letters (encoded or random text)',
  'reason.token.from': 'the sender is {value}',
  'reason.token.from-name': 'the sender’s name has the word “{value}”',
  'reason.token.from-shape': 'the shape of the sender’s address ({value})',
  'reason.token.from-no-name': 'the sender gives no name',
  'reason.token.reply-to': 'replies go to {value}',
  'reason.token.received': 'it came through {value}',
  'reason.token.header': 'it has a {field} header field',
  'reason.token.header-value': 'its {field} header field says “{value}”',
  'reason.token.mailer': 'it was written with “{value}”',
  'reason.token.date-zone': 'its date is written in time zone {value}',
  'reason.token.date-no-seconds': 'its date has no seconds',
  'reason.token.message-id': 'the shape of its Message-ID ({value})',
  'reason.token.recipients': 'how many recipients it names ({value})',
  'reason.token.content-type': 'its content type is {value}',
  'reason.token.boundary': 'the shape of its MIME boundary ({value})',
  'reason.token.url': 'a link goes to {value}',
  'reason.token.url-tld': 'a link goes to a .{value} domain',
  'reason.token.url-path': 'a link’s path has the word “{value}”',
  'reason.token.html': 'its HTML uses {value}',
  'reason.token.attachment': 'an attachment: {value}',
  'reason.token.images': 'the number of images it shows ({value})',
  'reason.token.length': 'the length of its text ({value})',
  'reason.token.large': 'it is too large to read whole',
  'reason.token.fact': 'a trait of the message ({value})',
  'reason.fact.date-missing': 'it has no date',
  'reason.fact.date-invalid': 'its date is not a valid date',
  'reason.fact.date-weekday-wrong': 'the weekday of its date is wrong',
  'reason.fact.subject-encoded-ascii': 'its subject is encoded although it is plain ASCII',
  'reason.fact.subject-all-caps': 'its subject is in capitals',
  'reason.fact.subject-trailing-id': 'its subject ends in a tracking number after blanks',
  'reason.fact.to-undisclosed': 'the recipients are hidden',
  'reason.fact.message-id-missing': 'it has no Message-ID',
  'reason.fact.reply-to-other-domain': 'replies go to another domain than the sender’s',
  'reason.fact.url-ip-host': 'a link goes to a bare IP address',
  'reason.fact.url-port': 'a link names a port',
  'reason.fact.url-obfuscated': 'a link’s address is disguised',
  'reason.fact.html-hidden-text': 'its HTML has hidden text',
  'reason.fact.html-comment-in-word': 'its HTML breaks words with comments',
  'reason.fact.html-only': 'it is HTML only, with no plain text',
  'reason.fact.image-heavy': 'it is mostly images, with little text',
  'reason.fact.empty-body': 'it has no text at all',
  'reason.fact.link-mismatch': 'a link’s text names another site than its target',
  'reason.fact.html-attachment': 'a web page is attached',
  'reason.fact.html-attachment-form': 'an attached web page has a form',
  'reason.fact.html-attachment-script': 'an attached web page runs script',
  'reason.fact.html-script': 'its HTML has script links',
  'reason.fact.html-data-url': 'its HTML has data: links',
  'reason.fact.attachment-executable': 'a program is attached',
  'reason.fact.attachment-double-extension': 'an attachment hides a program behind a double extension',
  'reason.fact.base64-ascii-text': 'its plain text is base64-encoded',
  'reason.fact.charset-mismatch': 'its text is not in the character set it declares',
  'calibration.summary': 'at 90 %: {held90} good messages would be held and {caught90} % of spam caught; at 60 %: {held60} good messages tagged Unsure or worse — judged on {basis}, each message scored by a model that had not learned it',
  'calibration.ratio.none': 'none of {n}',
  'calibration.ratio.some': 'about 1 in {every} ({k} of {n})',
  'calibration.basis.store': 'your own training data',
  'calibration.basis.starter': "the starter model's corpus",
  'calibration.unfitted': 'the score is not yet calibrated on training data (the fixed default applies until 50 ham and 20 spam are learned)',
};

type ReasonKey = keyof typeof en;

const ja: Record<ReasonKey, string> = {
  'reason.AUTH_DNS_TEMPERROR': '{domain} について DNS が応答しませんでした。SPF・DKIM・DMARC の結果は数えていません',
  'reason.AUTH_SPF_FAIL': '{domain} の SPF が不合格です',
  'reason.AUTH_SPF_SOFTFAIL': '{domain} の SPF がソフトフェイルです',
  'reason.AUTH_DKIM_FAIL': '{domain} の DKIM 署名が無効です',
  'reason.AUTH_DMARC_FAIL': '{domain} の DMARC が不合格です',
  'reason.AUTH_DMARC_PASS': '{domain} の DMARC に合格しています',
  'reason.AUTH_BRAND_VERIFIED': 'DMARC により、{brand} 自身のドメイン {domain} から届いたことが確認できます',
  'reason.URL_ABUSED_TLD': 'リンク先が {host} です。.{tld} はスパムやフィッシングに最も多く使われるトップレベルドメインの一つです',
  'reason.FROM_ABUSED_TLD': '送信元が {domain} です。.{tld} はスパムやフィッシングに最も多く使われるトップレベルドメインの一つです',
  'reason.PHISH_LINK_TEXT_MISMATCH': 'リンクの表示は {shown} ですが、実際のリンク先は {target} です',
  'reason.PHISH_PUNYCODE_DOMAIN': 'リンク先 {host} は、他の文字で {looks} と表示されます',
  'reason.PHISH_LOOKALIKE_DOMAIN': '{host} は {brand} のアドレスに似せていますが、{brand} のものではありません',
  'reason.PHISH_BRAND_IN_FOREIGN_DOMAIN': '{host} は名前に {brand} を含みますが、{brand} のものではありません',
  'reason.PHISH_URL_SHORTENER': 'リンク先が短縮 URL サービス {host} で隠されています',
  'reason.PHISH_CREDENTIAL_FORM': 'メール自体がパスワードの入力を求めています',
  'reason.PHISH_FORM_IN_MAIL': 'メールに {host} へ送信するフォームがあります',
  'reason.PHISH_DATA_URL': 'リンクがメール内に埋め込まれたページ（data: URL）を開きます。アドレスバーで確かめられません',
  'reason.PHISH_JAVASCRIPT_URL': 'リンクがアドレスを開く代わりにスクリプト（javascript: URL）を実行します',
  'reason.PHISH_LOOKALIKE_SENDER_DOMAIN': '送信元ドメイン {domain} は {brand} のものに似せていますが、{brand} のものではありません',
  'reason.PHISH_BRAND_IN_SENDER_DOMAIN': '送信元ドメイン {domain} は名前に {brand} を含みますが、{brand} のものではありません',
  'reason.PHISH_ATTACHED_LOGIN_PAGE': '添付されたページ {page} はブラウザーでログインフォームを開きます',
  'reason.PHISH_QR_CODE_ONLY': 'メールがほぼ画像だけで、コードの読み取りを求めています。その行き先はリンクの検査では確かめられません',
  'reason.JP_UNSOLICITED_AD': '件名に、法律が未承諾の広告に義務づける表示（未承諾広告）があります',
  'reason.BULK_UNSUBSCRIBE_UNSIGNED': '配信停止のヘッダーがありますが、メーリングリスト名がなく、一斉配信の送信者に求められる DKIM 署名もありません',
  'reason.BULK_UNSUBSCRIBE_MALFORMED': '配信停止のヘッダーに使えるアドレス（山括弧で囲んだ mailto: や Web のアドレス）がありません',
  'reason.BULK_MAILER_SOFTWARE': '大量送信用のプログラム（{mailer}）で送られています',
  'reason.PHISH_ATTACHED_ACTIVE_PAGE': '添付されたページ {page} にはフォームかスクリプトがあり、ログインについて書かれています',
  'reason.PHISH_BRAND_NAME_DMARC_FAIL': '送信者は「{name}」と名乗っていますが、{domain} はこのメールを保証していません（DMARC {dmarc}）',
  'reason.PHISH_BRAND_NAME_OTHER_DOMAIN': '送信者は「{name}」と名乗っていますが、{brand} のドメインではなく {domain} から送っています',
  'reason.MODEL_EMPTY': 'まだモデルがありません。学習させるか、スターターモデルを入れてください（mailmoat train --starter）',
  'reason.MODEL_PRIOR': '学習したメールに占めるスパムと正常なメールの割合',
  'reason.token.words': '本文に「{words}」という語があります',
  'reason.token.subject': '件名に「{words}」という語があります',
  'reason.token.subject-letters': '件名に「{words}」という文字列があります',
  'reason.token.subject-punct': '件名に ! や $ が続いています',
  'reason.token.long': '本文に長い文字列（符号化された文字やランダムな文字）があります',
  'reason.token.from': '送信元が {value} です',
  'reason.token.from-name': '送信者名に「{value}」という語があります',
  'reason.token.from-shape': '送信元アドレスの形（{value}）',
  'reason.token.from-no-name': '送信者名がありません',
  'reason.token.reply-to': '返信先が {value} です',
  'reason.token.received': '{value} を経由して届いています',
  'reason.token.header': '{field} ヘッダーがあります',
  'reason.token.header-value': '{field} ヘッダーに「{value}」とあります',
  'reason.token.mailer': '「{value}」で書かれています',
  'reason.token.date-zone': '日付のタイムゾーンが {value} です',
  'reason.token.date-no-seconds': '日付に秒がありません',
  'reason.token.message-id': 'Message-ID の形（{value}）',
  'reason.token.recipients': '宛先の数（{value}）',
  'reason.token.content-type': 'コンテンツタイプが {value} です',
  'reason.token.boundary': 'MIME 境界の形（{value}）',
  'reason.token.url': 'リンク先が {value} です',
  'reason.token.url-tld': 'リンク先が .{value} ドメインです',
  'reason.token.url-path': 'リンクのパスに「{value}」という語があります',
  'reason.token.html': 'HTML で {value} を使っています',
  'reason.token.attachment': '添付ファイル: {value}',
  'reason.token.images': '表示する画像の数（{value}）',
  'reason.token.length': '本文の長さ（{value}）',
  'reason.token.large': '大きすぎて全体を読めません',
  'reason.token.fact': 'メッセージの特徴（{value}）',
  'reason.fact.date-missing': '日付がありません',
  'reason.fact.date-invalid': '日付が正しくありません',
  'reason.fact.date-weekday-wrong': '日付の曜日が合っていません',
  'reason.fact.subject-encoded-ascii': '件名が ASCII だけなのに符号化されています',
  'reason.fact.subject-all-caps': '件名がすべて大文字です',
  'reason.fact.subject-trailing-id': '件名の末尾に空白を挟んで追跡番号があります',
  'reason.fact.to-undisclosed': '宛先が隠されています',
  'reason.fact.message-id-missing': 'Message-ID がありません',
  'reason.fact.reply-to-other-domain': '返信先が送信元と別のドメインです',
  'reason.fact.url-ip-host': 'リンク先が IP アドレスそのものです',
  'reason.fact.url-port': 'リンクがポート番号を指定しています',
  'reason.fact.url-obfuscated': 'リンクのアドレスが偽装されています',
  'reason.fact.html-hidden-text': 'HTML に隠された文字があります',
  'reason.fact.html-comment-in-word': 'HTML のコメントで単語を分断しています',
  'reason.fact.html-only': 'テキスト部分がなく HTML だけです',
  'reason.fact.image-heavy': 'ほとんどが画像で、文字が少ないです',
  'reason.fact.empty-body': '本文がまったくありません',
  'reason.fact.link-mismatch': 'リンクの表示とリンク先が別のサイトです',
  'reason.fact.html-attachment': 'ウェブページが添付されています',
  'reason.fact.html-attachment-form': '添付されたウェブページにフォームがあります',
  'reason.fact.html-attachment-script': '添付されたウェブページがスクリプトを実行します',
  'reason.fact.html-script': 'HTML にスクリプトのリンクがあります',
  'reason.fact.html-data-url': 'HTML に data: リンクがあります',
  'reason.fact.attachment-executable': 'プログラムが添付されています',
  'reason.fact.attachment-double-extension': '二重拡張子でプログラムを隠した添付ファイルがあります',
  'reason.fact.base64-ascii-text': 'ただのテキストが base64 で符号化されています',
  'reason.fact.charset-mismatch': '本文が宣言された文字コードと合っていません',
  'calibration.summary': '90 % では正常なメールの{held90}が保留され、スパムの {caught90} % を捕捉します。60 % では正常なメールの{held60}が「不明」以上になります。{basis}で、各メッセージをそれを学習していないモデルで採点した結果です',
  'calibration.ratio.none': '{n} 通中 0 通',
  'calibration.ratio.some': '約 {every} 通に 1 通（{n} 通中 {k} 通）',
  'calibration.basis.store': 'お客様自身の学習データ',
  'calibration.basis.starter': 'スターターモデルのコーパス',
  'calibration.unfitted': 'スコアはまだ学習データで較正されていません（正常なメール 50 通とスパム 20 通を学習するまでは固定の既定値を使います）',
};

export const reasonCatalog: Catalog<ReasonKey> = { en, ja };

export type ReasonParams = Record<string, string>;

/** What the catalog needs of a reason: its name, the values of its sentence, and the sentence it was stored with. */
export interface ReasonLike {
  name: string;
  params?: ReasonParams;
  detail?: string;
}

function isReasonKey(key: string): key is ReasonKey {
  return key in en;
}

/** "cheap 2 pills" (an OSB pair with its gap) → "cheap … pills"; "cheap 1 pills" → "cheap pills". */
function phrase(token: string): string {
  return token.replace(/ (\d) /, (_, gap: string) => (gap === '1' ? ' ' : ' … '));
}

/** Bucket edges of features.ts, as words. */
const LENGTHS = ['under 50 characters', '50–199 characters', '200–999 characters', '1000–3999 characters', '4000–15999 characters', '16000 characters or more'];
const LENGTHS_JA = ['50 文字未満', '50〜199 文字', '200〜999 文字', '1000〜3999 文字', '4000〜15999 文字', '16000 文字以上'];
const IMAGES = ['1', '2–3', '4–9', '10 or more'];
const IMAGES_JA = ['1', '2〜3', '4〜9', '10 以上'];
const RECIPIENTS: Record<string, [string, string]> = { none: ['none', 'なし'], 1: ['one', '1 人'], few: ['2–4', '2〜4 人'], many: ['5 or more', '5 人以上'] };

/** The key and params a feature token reads as. */
function tokenText(token: string, lang: Language): [ReasonKey, ReasonParams?] {
  const colon = token.indexOf(':');
  if (colon <= 0) return [/^long:/.test(token) ? 'reason.token.long' : 'reason.token.words', { words: phrase(token) }];
  const prefix = token.slice(0, colon);
  const rest = token.slice(colon + 1);
  const after = (p: string) => token.slice(p.length);
  const ja = lang === 'ja';
  switch (prefix) {
    case 'subject':
      if (rest.startsWith('c:')) return ['reason.token.subject-letters', { words: rest.slice(2) }];
      if (rest === 'punct-run') return ['reason.token.subject-punct'];
      return ['reason.token.subject', { words: phrase(rest) }];
    case 'from':
      if (rest === 'no-name') return ['reason.token.from-no-name'];
      if (rest.startsWith('name:')) return ['reason.token.from-name', { value: after('from:name:') }];
      if (rest.startsWith('local:')) return ['reason.token.from-shape', { value: after('from:local:') }];
      return ['reason.token.from', { value: rest.replace(/^(?:addr|dom|reg):/, '') }];
    case 'reply-to': return ['reason.token.reply-to', { value: rest.replace(/^dom:/, '') }];
    case 'rcvd': return ['reason.token.received', { value: rest.replace(/^(?:host|dom|ip|net|with):/, '') }];
    case 'H': return ['reason.token.header', { field: rest }];
    case 'mailer': return ['reason.token.mailer', { value: rest }];
    case 'date':
      if (rest === 'no-seconds') return ['reason.token.date-no-seconds'];
      return ['reason.token.date-zone', { value: rest.replace(/^tz:/, '') }];
    case 'msgid': return rest.startsWith('dom:') ? ['reason.token.header-value', { field: 'Message-ID', value: after('msgid:dom:') }] : ['reason.token.message-id', { value: rest }];
    case 'to': return ['reason.token.recipients', { value: (RECIPIENTS[rest.replace(/^count:/, '')] ?? [rest, rest])[ja ? 1 : 0] }];
    case 'ct':
      if (rest.startsWith('boundary:')) return ['reason.token.boundary', { value: after('ct:boundary:') }];
      return ['reason.token.content-type', { value: rest.replace(/^charset:/, 'charset ') }];
    case 'url':
      if (rest.startsWith('tld:')) return ['reason.token.url-tld', { value: after('url:tld:') }];
      if (rest.startsWith('path:')) return ['reason.token.url-path', { value: after('url:path:') }];
      return ['reason.token.url', { value: rest.replace(/^(?:host|dom):/, '') }];
    case 'tag': case 'attr': return ['reason.token.html', { value: rest }];
    case 'att': return ['reason.token.attachment', { value: rest.replace(/^(?:type|ext|name):/, '') }];
    case 'body': return ['reason.token.length', { value: (ja ? LENGTHS_JA : LENGTHS)[Number(rest.replace(/^len:/, ''))] ?? rest }];
    case 'fact':
      if (rest === 'large') return ['reason.token.large'];
      if (rest.startsWith('images:')) return ['reason.token.images', { value: (ja ? IMAGES_JA : IMAGES)[Number(after('fact:images:')) ] ?? rest }];
      if (isReasonKey('reason.fact.' + rest)) return ['reason.fact.' + rest as ReasonKey];
      return ['reason.token.fact', { value: rest }];
    default:
      // Any other header field's words ("list-id:…", "x-spam-level:…").
      return ['reason.token.header-value', { field: prefix, value: rest }];
  }
}

/**
 * A reason in words, in the reader's language: a rule from its entry in this catalog, a feature
 * token from its prefix, an unknown rule by the sentence it came with (undefined if none).
 */
export function reasonText(lang: Language, r: ReasonLike): string | undefined {
  const key = 'reason.' + r.name;
  if (isReasonKey(key)) return translate(lang, key, r.params ?? {}, reasonCatalog);
  if (/^[A-Z][A-Z0-9_]*$/.test(r.name)) return r.detail;
  const [tokenKey, params] = tokenText(r.name, lang);
  return translate(lang, tokenKey, params ?? {}, reasonCatalog);
}

/** What the calibration text needs of a calibration (classifier/calibration.ts). */
export interface CalibrationFigures {
  basis: 'store' | 'starter' | 'default';
  heldOut?: { ham: number; spam: number; hamAt90: number; spamAt90: number; hamAt60: number };
}

/** What the thresholds mean ("at 90 %: about 1 in N good messages would be held…"), in the reader's language. */
export function calibrationText(lang: Language, c: CalibrationFigures): string {
  const h = c.heldOut;
  if (!h) return translate(lang, 'calibration.unfitted', {}, reasonCatalog);
  const ratio = (k: number, n: number) => (k === 0
    ? translate(lang, 'calibration.ratio.none', { n }, reasonCatalog)
    : translate(lang, 'calibration.ratio.some', { every: Math.round(n / k), k, n }, reasonCatalog));
  return translate(lang, 'calibration.summary', {
    held90: ratio(h.hamAt90, h.ham), caught90: (100 * h.spamAt90 / h.spam).toFixed(1), held60: ratio(h.hamAt60, h.ham),
    basis: translate(lang, c.basis === 'store' ? 'calibration.basis.store' : 'calibration.basis.starter', {}, reasonCatalog),
  }, reasonCatalog);
}
