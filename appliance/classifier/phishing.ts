// Phishing: mail that impersonates someone to take credentials or money. Statistics catch bulk
// spam; phishing is often short, well written and new, so these rules look at what it must do
// to work: show one domain and link to another, use a domain that looks like a brand's (digits
// for letters, punycode, the brand inside a stranger's name), ask for a password in the mail
// itself, hide the target behind a URL shortener, or put a brand in the display name of mail
// whose DMARC fails or whose domain is not the brand's. Each hit is a named rule with a weight.
import type { MessageFeatures } from './features.ts';
import { domainInText, registrableDomain, urlHost } from './urls.ts';

export interface RuleHit {
  name: string;
  /** Logit units added to the score. */
  contribution: number;
  detail?: string;
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
/** Display-name spellings of brands (Latin and Japanese). */
const BRAND_NAMES: [RegExp, string][] = [
  ...Object.keys(BRANDS).map((b): [RegExp, string] => [new RegExp(`\\b${b.replace(' ', '\\s*')}\\b`, 'i'), b]),
  [/アマゾン|amazon\.co\.jp/i, 'amazon'], [/楽天/, 'rakuten'], [/三菱\s*UFJ/i, 'mufg'], [/三井住友/, 'smbc'],
  [/みずほ/, 'mizuho'], [/ゆうちょ/, 'yucho'], [/日本郵便|郵便局/, 'japanpost'], [/ヤマト運輸|クロネコ/, 'yamato'],
  [/佐川急便/, 'sagawa'], [/ドコモ/, 'docomo'], [/ソフトバンク/, 'softbank'], [/イオン/, 'aeon'],
  [/セゾン/, 'saison'], [/メルカリ/, 'mercari'], [/アップル/, 'apple'], [/マイクロソフト/, 'microsoft'],
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
} as const;

function brandOf(domain: string): string | undefined {
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
      hits.push({ name: 'PHISH_LINK_TEXT_MISMATCH', contribution: W.linkMismatch, detail: `shows ${shown}, links to ${target}` });
      break;
    }
  }
  const hosts = new Set([...f.urlHosts, ...f.formActions.map(urlHost).filter(Boolean)]);
  const seen = new Set<string>();
  for (const host of hosts) {
    if (host.split('.').some((label) => label.startsWith('xn--')) && !seen.has('puny')) {
      seen.add('puny');
      hits.push({ name: 'PHISH_PUNYCODE_DOMAIN', contribution: W.punycode, detail: host });
    }
    const look = lookalikeBrand(host);
    if (look && !seen.has(look.kind)) {
      seen.add(look.kind);
      hits.push(look.kind === 'lookalike'
        ? { name: 'PHISH_LOOKALIKE_DOMAIN', contribution: W.lookalike, detail: `${host} imitates ${look.brand}` }
        : { name: 'PHISH_BRAND_IN_FOREIGN_DOMAIN', contribution: W.brandInHost, detail: `${host} is not ${look.brand}'s` });
    }
    if (SHORTENERS.has(host) && !seen.has('short')) {
      seen.add('short');
      hits.push({ name: 'PHISH_URL_SHORTENER', contribution: W.shortener, detail: host });
    }
  }
  if (f.passwordInputs > 0) {
    hits.push({ name: 'PHISH_CREDENTIAL_FORM', contribution: W.passwordForm, detail: 'the mail itself asks for a password' });
  } else if (f.formActions.length > 0) {
    hits.push({ name: 'PHISH_FORM_IN_MAIL', contribution: W.formInMail, detail: f.formActions[0] || 'form' });
  }
  const displayName = f.fromDisplayName.normalize('NFKC');
  for (const [re, brand] of BRAND_NAMES) {
    if (!re.test(displayName)) continue;
    const fromBrand = f.fromDomain ? brandOf(f.fromDomain) : undefined;
    const dmarcFails = /^(fail|quarantine|reject)/i.test(auth?.dmarc ?? '');
    if (fromBrand === brand && !dmarcFails) break;
    hits.push(dmarcFails
      ? { name: 'PHISH_BRAND_NAME_DMARC_FAIL', contribution: W.brandDisplayNameDmarcFail, detail: `"${f.fromDisplayName}" with DMARC ${auth?.dmarc}` }
      : { name: 'PHISH_BRAND_NAME_OTHER_DOMAIN', contribution: W.brandDisplayName, detail: `"${f.fromDisplayName}" from ${f.fromDomain || 'no domain'}` });
    break;
  }
  return hits;
}
