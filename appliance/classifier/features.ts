// Features: everything the classifier reads from one message, as named tokens. Header tokens
// carry the header name as prefix ("subject:free", "from:dom:example.com", "rcvd:ip:192.0.2.1"),
// so one word means different things in different places; body words come as OSB pairs; URLs
// give their hosts and registrable domains; attachments their names and types; structural facts
// ("fact:html-only", "fact:link-mismatch") are tokens too, so their weight is learned. The same
// walk also gathers what the rules read (links with their text, forms, the From display name).
import { decodeHeader } from './charset.ts';
import { LOGIN_WORDS, scanHtml, type HtmlLink } from './html.ts';
import { parseMime, type HeaderField, type MimeMessage } from './mime.ts';
import { osb, words } from './tokenize.ts';
import { domainInText, findUrls, isIpAddress, registrableDomain, urlHost } from './urls.ts';

/** Body words beyond this are not read: spam shows itself early, and scoring must stay fast. */
const MAX_BODY_WORDS = 600;
const MAX_URLS = 40;

export interface MessageFeatures {
  /** Feature tokens, possibly repeated (the model counts each once). */
  tokens: string[];
  /** Structural facts found (also present in tokens as "fact:NAME"). */
  facts: string[];
  fromAddress: string;
  fromDomain: string;
  fromDisplayName: string;
  replyToDomain: string;
  subject: string;
  links: HtmlLink[];
  urlHosts: string[];
  formActions: string[];
  passwordInputs: number;
  /** javascript: URLs in the mail's HTML. */
  scripts: number;
  /** data: URLs (other than images) in the mail's HTML. */
  dataUrls: number;
  /** Attached web pages and what they ask of the reader. */
  attachedPages: AttachedPage[];
  /** Images shown or attached, and characters of text (spaces left out). */
  images: number;
  textChars: number;
  /** The subject or text asks the reader to scan a (QR) code. */
  asksToScan: boolean;
  /** False when the input had no header block: not a mail message. */
  isMail: boolean;
  /** The header fields that tell bulk mail from a mailing list (rules.ts, bulkRules). */
  bulk: BulkHeaders;
}

export interface BulkHeaders {
  /** A field through which a mailing list names itself (List-Id and the other List-* fields of RFC 2369/2919, or a list program's own). */
  listNamed: boolean;
  /** The List-Unsubscribe field's value, when there is one. */
  listUnsubscribe?: string;
  dkimSigned: boolean;
  /** X-Mailer or User-Agent. */
  mailer?: string;
}

export interface AttachedPage {
  name: string;
  forms: number;
  passwordInputs: number;
  /** It speaks of logging in, passwords or confirming an account. */
  loginWords: boolean;
  /** javascript: or data: URLs in it. */
  active: boolean;
}

interface Address { name: string; address: string }

/** The first address of an address header: "Name" <a@b>, a@b (Name), or a@b. */
export function parseAddress(value: string): Address {
  const angle = /^(.*?)<([^>]*)>/.exec(value);
  if (angle) return { name: angle[1].trim().replace(/^"|"$/g, '').trim(), address: angle[2].trim().toLowerCase() };
  const paren = /^\s*([^\s()]+)\s*\((.*)\)/.exec(value);
  if (paren) return { name: paren[2].trim(), address: paren[1].toLowerCase() };
  return { name: '', address: value.trim().split(/[\s,]/)[0].toLowerCase() };
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1).replace(/[>\s]+$/, '');
}

/** The shape of an identifier: letters → a, digits → 9, runs collapsed ("----=_NextPart_000_0012" → "-=_a_9_9"). */
function shape(s: string): string {
  return s.replace(/[a-zA-Z]+/g, 'a').replace(/[0-9]+/g, '9').replace(/(.)\1+/g, '$1').slice(0, 24);
}

const DATE_RE = /^\s*(?:(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s*)?(\d{1,2})\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]{1,5})?/i;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Date-header facts: missing, unparseable, impossible, or with a weekday that does not match. */
function dateFacts(value: string | undefined, facts: string[], tokens: string[]): void {
  if (value === undefined) { facts.push('date-missing'); return; }
  const m = DATE_RE.exec(value);
  if (!m) { facts.push('date-invalid'); return; }
  const day = Number(m[2]);
  let year = Number(m[4]);
  if (year < 100) year += year < 50 ? 2000 : 1900;
  const hour = Number(m[5]);
  const minute = Number(m[6]);
  const month = MONTHS.indexOf(m[3].toLowerCase());
  const d = new Date(Date.UTC(year, month, day));
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || d.getUTCDate() !== day) { facts.push('date-invalid'); return; }
  if (m[1] && DAYS[d.getUTCDay()] !== m[1].toLowerCase()) facts.push('date-weekday-wrong');
  tokens.push('date:tz:' + (m[8] ?? 'none').toLowerCase());
  if (!m[7]) tokens.push('date:no-seconds');
}

const RECEIVED_HOST_RE = /\b(?:from|by)\s+([a-z0-9.-]+\.[a-z]{2,})\b/gi;
const IP_RE = /\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g;
/** Received headers read from the top: the hops nearest us are the ones a sender cannot forge. */
const MAX_RECEIVED = 4;
/** Words taken from each header field without a reader of its own. */
const GENERIC_HEADER_WORDS = 6;

/** Fields by which mailing-list programs name a list (RFC 2369/2919; ezmlm, SmartList, Mailman, Majordomo, fml). */
const LIST_FIELDS = new Set(['list-id', 'list-post', 'list-help', 'list-subscribe', 'list-archive', 'list-owner',
  'mailing-list', 'x-mailing-list', 'x-beenthere', 'x-list-manager', 'x-loop', 'x-ml-name']);
/** A list program's bounce address (owner-LIST@, LIST-owner@, LIST-bounces@, LIST-request@). */
const LIST_BOUNCE = /^\s*<?(?:owner-[^@\s]+|[^@\s<]+-(?:owner|bounces?|request))@/i;

function headerTokens(headers: HeaderField[], out: string[], facts: string[], result: MessageFeatures): void {
  let received = 0;
  let toCount = 0;
  let dateValue: string | undefined;
  let hasMessageId = false;
  const bulk = result.bulk;
  for (const h of headers) {
    out.push('H:' + h.name.slice(0, 30));
    if (LIST_FIELDS.has(h.name) || ((h.name === 'sender' || h.name === 'return-path') && LIST_BOUNCE.test(h.raw))) bulk.listNamed = true;
    else if (h.name === 'list-unsubscribe') bulk.listUnsubscribe ??= h.raw.trim();
    else if (h.name === 'dkim-signature') bulk.dkimSigned = true;
    switch (h.name) {
      case 'subject': {
        const subject = decodeHeader(h.raw);
        result.subject = subject;
        if (h.raw.includes('=?') && !/[^\x00-\x7f]/.test(subject)) facts.push('subject-encoded-ascii');
        const ws = words(subject, 40);
        osb(ws, 'subject:', out, 3);
        // Character trigrams survive the misspellings spammers use to dodge word filters.
        const compact = subject.toLowerCase().replace(/\s+/g, ' ').slice(0, 80);
        for (let i = 0; i + 3 <= compact.length; i++) out.push('subject:c:' + compact.slice(i, i + 3));
        const letters = subject.replace(/[^a-zA-Z]/g, '');
        if (letters.length >= 8 && letters === letters.toUpperCase()) facts.push('subject-all-caps');
        if (/!{2,}|\${2,}/.test(subject)) out.push('subject:punct-run');
        if (/\s{4,}\S+$/.test(subject)) facts.push('subject-trailing-id');
        break;
      }
      case 'from': {
        const a = parseAddress(decodeHeader(h.raw));
        result.fromAddress = a.address;
        result.fromDomain = domainOf(a.address);
        result.fromDisplayName = a.name;
        out.push('from:addr:' + a.address, 'from:dom:' + result.fromDomain, 'from:reg:' + registrableDomain(result.fromDomain));
        for (const w of words(a.name, 8)) out.push('from:name:' + w);
        const local = a.address.split('@')[0] ?? '';
        out.push('from:local:' + shape(local));
        if (!a.name) out.push('from:no-name');
        break;
      }
      case 'reply-to': {
        result.replyToDomain = domainOf(parseAddress(decodeHeader(h.raw)).address);
        out.push('reply-to:dom:' + result.replyToDomain);
        break;
      }
      case 'to': case 'cc':
        toCount += h.raw.split(',').length;
        if (/undisclosed|recipient list suppressed/i.test(h.raw)) facts.push('to-undisclosed');
        break;
      case 'received':
        if (received++ < MAX_RECEIVED) {
          for (const m of h.raw.matchAll(RECEIVED_HOST_RE)) {
            const host = m[1].toLowerCase();
            out.push('rcvd:host:' + host, 'rcvd:dom:' + registrableDomain(host));
          }
          for (const m of h.raw.matchAll(IP_RE)) out.push('rcvd:ip:' + m[0], `rcvd:net:${m[1]}.${m[2]}.${m[3]}`);
          const w = /\bwith\s+([a-z0-9]+)/i.exec(h.raw);
          if (w) out.push('rcvd:with:' + w[1].toLowerCase());
        }
        break;
      case 'content-type': {
        const v = h.raw.toLowerCase();
        out.push('ct:' + v.split(';')[0].trim());
        const cs = /charset\s*=\s*"?([^";\s]+)/.exec(v);
        if (cs) out.push('ct:charset:' + cs[1]);
        const b = /boundary\s*=\s*"?([^";]+)/i.exec(h.raw);
        if (b) out.push('ct:boundary:' + shape(b[1]));
        break;
      }
      case 'x-mailer': case 'user-agent':
        bulk.mailer ??= decodeHeader(h.raw).trim();
        for (const w of words(decodeHeader(h.raw), 6)) out.push('mailer:' + w);
        break;
      case 'message-id':
        hasMessageId = true;
        out.push('msgid:' + shape(h.raw.replace(/@.*$/, '')), 'msgid:dom:' + registrableDomain(h.raw.replace(/^.*@/, '').replace(/>.*$/, '').toLowerCase()));
        break;
      case 'date':
        dateValue ??= h.raw;
        break;
      case 'list-id': case 'precedence': case 'x-priority': case 'x-msmail-priority': case 'importance':
      case 'content-transfer-encoding': case 'mime-version':
        out.push(`${h.name}:${h.raw.toLowerCase().slice(0, 40)}`);
        break;
      default:
        // Any other field: its first words, under its name (mailing-list and mailer fingerprints).
        if (h.name !== 'to' && h.name !== 'cc' && h.name !== 'date') {
          for (const w of words(decodeHeader(h.raw.slice(0, 200)), GENERIC_HEADER_WORDS)) out.push(`${h.name}:${w}`);
        }
    }
  }
  out.push('to:count:' + (toCount === 0 ? 'none' : toCount === 1 ? '1' : toCount < 5 ? 'few' : 'many'));
  if (!hasMessageId) facts.push('message-id-missing');
  dateFacts(dateValue, facts, out);
  if (result.replyToDomain && result.fromDomain && registrableDomain(result.replyToDomain) !== registrableDomain(result.fromDomain)) {
    facts.push('reply-to-other-domain');
  }
}

function urlTokens(urls: string[], out: string[], facts: string[], hosts: string[]): void {
  const seen = new Set<string>();
  for (const u of urls.slice(0, MAX_URLS)) {
    const host = urlHost(u);
    if (!host || seen.has(host)) continue;
    seen.add(host);
    hosts.push(host);
    if (isIpAddress(host)) { facts.push('url-ip-host'); continue; }
    const reg = registrableDomain(host);
    out.push('url:host:' + host, 'url:dom:' + reg, 'url:tld:' + reg.slice(reg.lastIndexOf('.') + 1));
    if (/:\d+$/.test(u.split('/')[2] ?? '')) facts.push('url-port');
    if (/%[0-9a-f]{2}/i.test(host) || u.includes('@')) facts.push('url-obfuscated');
  }
  for (const u of urls.slice(0, 8)) {
    const path = u.replace(/^[a-z]+:\/\/[^\/]*/i, '');
    for (const w of words(path, 4)) out.push('url:path:' + w);
  }
}

/** Words asking the reader to scan a code with a phone. */
const SCAN_WORDS = /\bqr\b|\bscan\b|QR\s*コード|二次元(?:バー)?コード|読み取|スキャン/i;

function bucket(n: number, edges: number[]): string {
  let i = 0;
  while (i < edges.length && n >= edges[i]) i++;
  return String(i);
}

/** Extracts the features of one message (raw bytes), from its parse when the caller has one. */
export function extractFeatures(raw: Buffer, mime: MimeMessage = parseMime(raw)): MessageFeatures {
  const tokens: string[] = [];
  const facts: string[] = [];
  const result: MessageFeatures = {
    tokens, facts, fromAddress: '', fromDomain: '', fromDisplayName: '', replyToDomain: '', subject: '',
    links: [], urlHosts: [], formActions: [], passwordInputs: 0, scripts: 0, dataUrls: 0, attachedPages: [], isMail: !mime.headerless,
    images: 0, textChars: 0, asksToScan: false, bulk: { listNamed: false, dkimSigned: false },
  };
  headerTokens(mime.headers, tokens, facts, result);

  let plain = mime.texts.join('\n');
  const htmlText: string[] = [];
  let images = 0;
  for (const html of mime.htmls) {
    const h = scanHtml(html);
    htmlText.push(h.text);
    for (const t of h.tagTokens) tokens.push(t);
    result.links.push(...h.links);
    result.formActions.push(...h.formActions);
    result.passwordInputs += h.passwordInputs;
    result.scripts += h.scripts;
    result.dataUrls += h.dataUrls;
    images += h.imageSources.length;
    if (h.hiddenText) facts.push('html-hidden-text');
    if (h.commentsInText > 0) facts.push('html-comment-in-word');
  }
  if (mime.htmls.length > 0 && mime.texts.length === 0) facts.push('html-only');
  const body = plain.trim() ? plain : htmlText.join('\n');
  const ws = words(body, MAX_BODY_WORDS);
  osb(ws, '', tokens);

  const textChars = body.replace(/\s+/g, '').length;
  images += mime.attachments.filter((a) => a.type.startsWith('image/')).length;
  if (images > 0) {
    tokens.push('fact:images:' + bucket(images, [2, 4, 10]));
    if (textChars < 200 * images) facts.push('image-heavy');
  }
  if (textChars === 0 && mime.attachments.length === 0) facts.push('empty-body');
  result.images = images;
  result.textChars = textChars;
  result.asksToScan = SCAN_WORDS.test(result.subject) || SCAN_WORDS.test(body.slice(0, 2000));
  tokens.push('body:len:' + bucket(textChars, [50, 200, 1000, 4000, 16000]));

  const urls = findUrls(plain);
  // A javascript: link's real target is the address inside its script: that is what the host rules read.
  for (const l of result.links) if (l.href) urls.push(...(/^\s*javascript:/i.test(l.href) ? findUrls(l.href) : [l.href]));
  urlTokens(urls, tokens, facts, result.urlHosts);
  for (const l of result.links) {
    const shown = domainInText(l.text);
    const target = urlHost(l.href);
    if (shown && target && /^(https?:)?\/\//i.test(l.href) && registrableDomain(shown) !== registrableDomain(target)) {
      facts.push('link-mismatch');
      break;
    }
  }

  for (const page of mime.attachedPages) {
    const h = scanHtml(page.html);
    const p: AttachedPage = {
      name: page.name, forms: h.formActions.length, passwordInputs: h.passwordInputs,
      loginWords: LOGIN_WORDS.test(h.text), active: h.scripts + h.dataUrls > 0,
    };
    result.attachedPages.push(p);
    facts.push('html-attachment');
    if (p.forms > 0 || p.passwordInputs > 0) facts.push('html-attachment-form');
    if (p.active) facts.push('html-attachment-script');
  }
  if (result.scripts > 0) facts.push('html-script');
  if (result.dataUrls > 0) facts.push('html-data-url');

  for (const a of mime.attachments) {
    tokens.push('att:type:' + a.type);
    const dot = a.name.lastIndexOf('.');
    if (dot > 0) tokens.push('att:ext:' + a.name.slice(dot + 1).toLowerCase().slice(0, 10));
    for (const w of words(a.name, 4)) tokens.push('att:name:' + w);
    if (/\.(exe|scr|pif|bat|cmd|com|js|vbs|jar|lnk|hta|iso|img)$/i.test(a.name)) facts.push('attachment-executable');
    if (/\.[a-z0-9]{2,4}\.(exe|scr|pif|bat|cmd|com|js|vbs)$/i.test(a.name)) facts.push('attachment-double-extension');
  }
  const b64Ascii = mime.textEncodings.includes('base64') && !/[^\x00-\x7f]/.test(body);
  if (b64Ascii) facts.push('base64-ascii-text');
  if (mime.charsetMismatch) facts.push('charset-mismatch');
  if (mime.truncated) tokens.push('fact:large');

  for (const f of new Set(facts)) tokens.push('fact:' + f);
  result.facts = [...new Set(facts)];
  return result;
}
