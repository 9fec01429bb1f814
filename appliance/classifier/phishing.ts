// Phishing: mail that impersonates someone to take credentials or money. Statistics catch bulk
// spam; phishing is often short, well written and new, so these rules look at what it must do
// to work: show one domain and link to another, use a domain that looks like a brand's (digits
// for letters, punycode, the brand inside a stranger's name), ask for a password in the mail
// itself, hide the target behind a URL shortener, or put a brand in the display name of mail
// whose DMARC fails or whose domain is not the brand's, send from a domain made to look like the
// brand's, carry the login page inside the mail (an attached web page with a form, a data: or
// javascript: URL), or be nothing but an image of a code to scan. Each hit is a named rule with a
// weight and a sentence that says what was seen, in words a recipient can check.
import { domainToUnicode } from 'node:url';
import type { MessageFeatures } from './features.ts';
import { domainInText, registrableDomain, urlHost } from './urls.ts';
import { reasonText, type ReasonParams } from '../i18n/reasons.ts';

export interface RuleHit {
  name: string;
  /** Logit units added to the score. */
  contribution: number;
  detail?: string;
  params?: ReasonParams;
}

/** A rule hit whose sentence comes from the reasons catalog: params for any language, detail in English. */
export function ruleHit(name: string, contribution: number, params?: ReasonParams): RuleHit {
  const detail = reasonText('en', { name, params });
  return { name, contribution, ...(detail ? { detail } : {}), ...(params ? { params } : {}) };
}

/** Brands that phishers imitate, with the registrable domains they really send from and link to. */
const BRANDS: Record<string, string[]> = {
  paypal: ['paypal.com', 'paypal.jp', 'paypal-communication.com', 'paypalobjects.com'],
  apple: ['apple.com', 'icloud.com', 'apple.co.jp', 'me.com', 'mzstatic.com'],
  microsoft: ['microsoft.com', 'office.com', 'outlook.com', 'live.com', 'microsoftonline.com', 'office365.com', 'onmicrosoft.com', 'sharepoint.com', 'azure.com', 'msn.com', 'bing.com'],
  google: ['google.com', 'gmail.com', 'google.co.jp', 'youtube.com', 'googleapis.com', 'gstatic.com', 'googleusercontent.com', 'googlemail.com', 'googlegroups.com'],
  amazon: ['amazon.com', 'amazon.co.jp', 'amazon.co.uk', 'amazon.de', 'amazonaws.com', 'amazonses.com', 'media-amazon.com', 'ssl-images-amazon.com'],
  netflix: ['netflix.com'],
  facebook: ['facebook.com', 'facebookmail.com', 'meta.com', 'fbcdn.net', 'instagram.com'],
  docusign: ['docusign.com', 'docusign.net'],
  dropbox: ['dropbox.com'],
  dhl: ['dhl.com', 'dhl.de'],
  fedex: ['fedex.com'],
  rakuten: ['rakuten.co.jp', 'rakuten.com', 'rakuten-card.co.jp', 'rakuten-bank.co.jp'],
  mufg: ['mufg.jp', 'bk.mufg.jp'],
  smbc: ['smbc.co.jp', 'smbc-card.com'],
  mizuho: ['mizuhobank.co.jp', 'mizuho-fg.co.jp'],
  yucho: ['jp-bank.japanpost.jp', 'japanpost.jp'],
  japanpost: ['japanpost.jp', 'post.japanpost.jp'],
  yamato: ['kuronekoyamato.co.jp'],
  sagawa: ['sagawa-exp.co.jp'],
  docomo: ['docomo.ne.jp', 'nttdocomo.co.jp'],
  softbank: ['softbank.jp', 'softbank.ne.jp'],
  aeon: ['aeon.co.jp', 'aeon.com'],
  jcb: ['jcb.co.jp', 'jcb.jp'],
  saison: ['saisoncard.co.jp'],
  mercari: ['mercari.com', 'mercari.jp'],
  'au pay': ['au.com', 'kddi.com'],
};
/**
 * Display-name spellings of brands (Latin and Japanese), matched at the start of the name: an
 * impersonation puts the brand first ("PayPal Security", "【三井住友カード】"), while a newsletter
 * about a brand names itself first ("Lockergnome Apple Core").
 */
const LEAD = '^[\\s\\p{P}\\p{S}]*';
const BRAND_NAMES: [RegExp, string][] = [
  ...Object.keys(BRANDS).map((b): [RegExp, string] => [new RegExp(`${LEAD}${b.replace(' ', '\\s*')}\\b`, 'iu'), b]),
  ...([[/アマゾン|amazon\.co\.jp/, 'amazon'], [/楽天/, 'rakuten'], [/三菱\s*UFJ/, 'mufg'], [/三井住友/, 'smbc'],
    [/みずほ/, 'mizuho'], [/ゆうちょ/, 'yucho'], [/日本郵便|郵便局/, 'japanpost'], [/ヤマト運輸|クロネコ/, 'yamato'],
    [/佐川急便/, 'sagawa'], [/ドコモ/, 'docomo'], [/ソフトバンク/, 'softbank'], [/イオン/, 'aeon'],
    [/セゾン/, 'saison'], [/メルカリ/, 'mercari'], [/アップル/, 'apple'], [/マイクロソフト/, 'microsoft']] as [RegExp, string][])
    .map(([re, b]): [RegExp, string] => [new RegExp(LEAD + '(?:' + re.source + ')', 'iu'), b]),
];
const SHORTENERS = new Set(['bit.ly', 'tinyurl.com', 't.co', 'goo.gl', 'ow.ly', 'is.gd', 'buff.ly', 'rebrand.ly', 'cutt.ly', 'shorturl.at', 'tiny.cc', 'rb.gy', 'x.gd', 'v.gd', 't.ly', 'bl.ink', 'amzn.to']);

/** Rule weights, in logit units (the statistical part typically spans about ±10). */
export const PHISH_WEIGHTS = {
  linkMismatch: 2.5,
  punycode: 1.5,
  lookalike: 3,
  brandInHost: 1.5,
  passwordForm: 4,
  formInMail: 1,
  shortener: 0.8,
  brandDisplayName: 2.5,
  brandDisplayNameDmarcFail: 4,
  attachedLoginPage: 4,
  attachedActivePage: 2,
  dataUrl: 4,
  javascriptUrl: 4,
  lookalikeSender: 3,
  brandInSender: 1.5,
  qrOnly: 4,
} as const;

/** Text shorter than this beside an image is "little text": the image is the message. */
const LITTLE_TEXT = 300;

/** Letters of other scripts that look like Latin ones, as punycode phishing uses them. */
const CONFUSABLES: Record<string, string> = {
  'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'һ': 'h', 'ԁ': 'd', 'ɡ': 'g', 'ո': 'n', 'ս': 'u',
  'α': 'a', 'ο': 'o', 'ρ': 'p', 'ν': 'v', 'τ': 't', 'ι': 'i', 'κ': 'k', 'ı': 'i', 'ℓ': 'l',
};

/** The Latin look of a punycode host ("xn--pypal-4ve.com" → "paypal.com"), or undefined. */
function latinSkeleton(host: string): string | undefined {
  if (!host.split('.').some((label) => label.startsWith('xn--'))) return undefined;
  const unicode = domainToUnicode(host);
  if (!unicode) return undefined;
  const skeleton = [...unicode.normalize('NFKD').replace(/[\u0300-\u036f]/g, '')].map((ch) => CONFUSABLES[ch] ?? ch).join('');
  return /^[a-z0-9.-]+$/.test(skeleton) ? skeleton : undefined;
}

export function brandOf(domain: string): string | undefined {
  const reg = registrableDomain(domain);
  for (const [brand, domains] of Object.entries(BRANDS)) if (domains.includes(reg)) return brand;
  return undefined;
}

/** "paypa1", "rn1crosoft" → letters they imitate. */
function unLeet(s: string): string {
  return s.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/0/g, 'o').replace(/[1l|]/g, 'l').replace(/3/g, 'e').replace(/5/g, 's').replace(/4/g, 'a');
}

/** Brands matched inside host names (single words), with their de-leeted form worked out once. */
const HOST_BRANDS = Object.keys(BRANDS).filter((b) => !b.includes(' ')).map((brand) => ({ brand, leet: unLeet(brand) }));

/** A host that imitates a brand without being one of its domains. */
function lookalikeBrand(host: string): { brand: string; kind: 'lookalike' | 'brandInHost' } | undefined {
  if (brandOf(host)) return undefined;
  const skeleton = latinSkeleton(host);
  if (skeleton) {
    const brand = brandOf(skeleton) ?? lookalikeBrand(skeleton)?.brand;
    if (brand) return { brand, kind: 'lookalike' };
  }
  const pieces = host.split(/[.-]/);
  const leetPieces = pieces.map(unLeet);
  const plain = host.replace(/[^a-z0-9]/g, '');
  const leet = unLeet(plain);
  for (const { brand, leet: brandLeet } of HOST_BRANDS) {
    // Short brands ("dhl", "jcb") only as a whole label piece; longer ones anywhere in the host.
    if (pieces.includes(brand) || (brand.length >= 5 && plain.includes(brand))) return { brand, kind: 'brandInHost' };
    if (pieces.some((p, i) => p !== brand && leetPieces[i] === brandLeet) || (brand.length >= 5 && leet.includes(brandLeet))) {
      return { brand, kind: 'lookalike' };
    }
  }
  return undefined;
}

export function phishingRules(f: MessageFeatures, auth?: { dmarc?: string }): RuleHit[] {
  const hits: RuleHit[] = [];
  const W = PHISH_WEIGHTS;
  for (const l of f.links) {
    const shown = domainInText(l.text);
    const target = urlHost(l.href);
    if (shown && target && /^(https?:)?\/\//i.test(l.href) && registrableDomain(shown) !== registrableDomain(target)) {
      hits.push(ruleHit('PHISH_LINK_TEXT_MISMATCH', W.linkMismatch, { shown, target }));
      break;
    }
  }
  const hosts = new Set([...f.urlHosts, ...f.formActions.map(urlHost).filter(Boolean)]);
  const seen = new Set<string>();
  for (const host of hosts) {
    if (host.split('.').some((label) => label.startsWith('xn--')) && !seen.has('puny')) {
      seen.add('puny');
      const looks = domainToUnicode(host);
      hits.push(ruleHit('PHISH_PUNYCODE_DOMAIN', W.punycode, { host, looks: looks || host }));
    }
    const look = lookalikeBrand(host);
    if (look && !seen.has(look.kind)) {
      seen.add(look.kind);
      hits.push(look.kind === 'lookalike'
        ? ruleHit('PHISH_LOOKALIKE_DOMAIN', W.lookalike, { host, brand: look.brand })
        : ruleHit('PHISH_BRAND_IN_FOREIGN_DOMAIN', W.brandInHost, { host, brand: look.brand }));
    }
    if (SHORTENERS.has(host) && !seen.has('short')) {
      seen.add('short');
      hits.push(ruleHit('PHISH_URL_SHORTENER', W.shortener, { host }));
    }
  }
  if (f.passwordInputs > 0) {
    hits.push(ruleHit('PHISH_CREDENTIAL_FORM', W.passwordForm));
  } else if (f.formActions.length > 0) {
    hits.push(ruleHit('PHISH_FORM_IN_MAIL', W.formInMail, { host: urlHost(f.formActions[0]) || '?' }));
  }
  if (f.dataUrls > 0) {
    hits.push(ruleHit('PHISH_DATA_URL', W.dataUrl));
  } else if (f.scripts > 0) {
    // No mail client runs a link's script, so no honest sender writes one: its use is to hide the
    // target from checks like these, and to run in a webmail or an opened attachment.
    hits.push(ruleHit('PHISH_JAVASCRIPT_URL', W.javascriptUrl));
  }
  // A code to scan as the message itself: like a data: or javascript: link, its target is out of
  // reach of every link check, and the phone that opens it has none of the mail's protection.
  // Lawful mail that shows a code (a ticket, a boarding pass) says more around it.
  if (f.images > 0 && f.textChars < LITTLE_TEXT && f.asksToScan && f.links.every((l) => !l.href || /^cid:/i.test(l.href))) {
    hits.push(ruleHit('PHISH_QR_CODE_ONLY', W.qrOnly));
  }
  // The sender's own domain dressed up as a brand's: registering one is deliberate, unlike a
  // display name that merely starts with a brand's word.
  const sender = f.fromDomain ? lookalikeBrand(f.fromDomain) : undefined;
  if (sender) {
    hits.push(sender.kind === 'lookalike'
      ? ruleHit('PHISH_LOOKALIKE_SENDER_DOMAIN', W.lookalikeSender, { domain: f.fromDomain, brand: sender.brand })
      : ruleHit('PHISH_BRAND_IN_SENDER_DOMAIN', W.brandInSender, { domain: f.fromDomain, brand: sender.brand }));
  }
  const page = f.attachedPages.find((p) => p.passwordInputs > 0 || (p.forms > 0 && p.loginWords));
  if (page) {
    hits.push(ruleHit('PHISH_ATTACHED_LOGIN_PAGE', W.attachedLoginPage, { page: page.name || '?' }));
  } else {
    const active = f.attachedPages.find((p) => p.forms > 0 || (p.active && p.loginWords));
    if (active) hits.push(ruleHit('PHISH_ATTACHED_ACTIVE_PAGE', W.attachedActivePage, { page: active.name || '?' }));
  }
  const displayName = f.fromDisplayName.normalize('NFKC');
  for (const [re, brand] of BRAND_NAMES) {
    if (!re.test(displayName)) continue;
    const fromBrand = f.fromDomain ? brandOf(f.fromDomain) : undefined;
    const dmarcFails = /^(fail|quarantine|reject)/i.test(auth?.dmarc ?? '');
    if (fromBrand === brand && !dmarcFails) break;
    hits.push(dmarcFails
      ? ruleHit('PHISH_BRAND_NAME_DMARC_FAIL', W.brandDisplayNameDmarcFail, { name: f.fromDisplayName, domain: f.fromDomain || '?', dmarc: auth?.dmarc ?? '' })
      : ruleHit('PHISH_BRAND_NAME_OTHER_DOMAIN', W.brandDisplayName, { name: f.fromDisplayName, domain: f.fromDomain || '?', brand }));
    break;
  }
  return hits;
}
