// Rules beside the statistics: findings the model cannot learn from a message's text alone.
// Authentication results come from the pipeline (SPF, DKIM, DMARC); links to top-level domains
// known for abuse add a little; so do the Japanese unsolicited-advertising label and bulk-mailer
// header tells (unsigned or malformed unsubscribe headers, mass-mailing programs); phishing rules live in phishing.ts. Mail that DMARC proves to come from a brand's own domain (the phishing rules' list)
// counts as that brand's: notifications of well-known services are HTML-heavy and look like
// spam to statistics alone. Every rule is named and carries its contribution in logit units, so the console
// can list it next to the token evidence, the way rspamd lists symbols. Results that DNS trouble
// may have caused (temperror) never count against a message.
import type { MessageFeatures } from './features.ts';
import { brandOf, phishingRules, ruleHit, type RuleHit } from './phishing.ts';

export type { RuleHit } from './phishing.ts';

export interface AuthFindings {
  spf?: string;
  dkim?: string;
  dmarc?: string;
  fromDomain?: string;
}

export const AUTH_WEIGHTS = {
  spfFail: 1.5,
  spfSoftfail: 0.5,
  dkimFail: 1,
  dmarcFail: 2,
  dmarcPass: -0.3,
  brandVerified: -2,
} as const;

function result(v: string | undefined): string {
  return (v ?? '').trim().toLowerCase().split(/[\s(]/)[0];
}

/**
 * True when DNS did not answer for SPF, DKIM or DMARC: then a "fail" beside it may only mean
 * "could not check", and none of the results count — DNS trouble must never hold mail.
 */
export function dnsTrouble(auth: AuthFindings | undefined): boolean {
  return Boolean(auth) && [auth!.spf, auth!.dkim, auth!.dmarc].some((v) => result(v) === 'temperror');
}

export function authRules(auth: AuthFindings | undefined): RuleHit[] {
  if (!auth) return [];
  const domain = auth.fromDomain || '?';
  if (dnsTrouble(auth)) return [ruleHit('AUTH_DNS_TEMPERROR', 0, { domain })];
  const hits: RuleHit[] = [];
  const spf = result(auth.spf);
  const dkim = result(auth.dkim);
  const dmarc = result(auth.dmarc);
  if (spf === 'fail') hits.push(ruleHit('AUTH_SPF_FAIL', AUTH_WEIGHTS.spfFail, { domain }));
  else if (spf === 'softfail') hits.push(ruleHit('AUTH_SPF_SOFTFAIL', AUTH_WEIGHTS.spfSoftfail, { domain }));
  if (dkim === 'fail') hits.push(ruleHit('AUTH_DKIM_FAIL', AUTH_WEIGHTS.dkimFail, { domain }));
  if (dmarc === 'fail' || dmarc === 'quarantine' || dmarc === 'reject') {
    hits.push(ruleHit('AUTH_DMARC_FAIL', AUTH_WEIGHTS.dmarcFail, { domain }));
  } else if (dmarc === 'pass') {
    const brand = auth.fromDomain ? brandOf(auth.fromDomain) : undefined;
    hits.push(brand
      ? ruleHit('AUTH_BRAND_VERIFIED', AUTH_WEIGHTS.brandVerified, { domain, brand })
      : ruleHit('AUTH_DMARC_PASS', AUTH_WEIGHTS.dmarcPass, { domain }));
  }
  return hits;
}

/**
 * Top-level domains that abuse reports of recent years (Spamhaus, Interisle) list as the most used
 * for spam and phishing, relative to their size: reputation that needs no network. A nudge, not a
 * verdict — ordinary sites live there too.
 */
const ABUSED_TLDS = new Set(['top', 'xyz', 'click', 'shop', 'online', 'live', 'site', 'icu', 'buzz', 'cyou', 'sbs', 'cfd', 'bond',
  'rest', 'monster', 'quest', 'support', 'help', 'lol', 'mom', 'zip', 'mov', 'loan', 'win', 'bid', 'gq', 'tk', 'ml', 'cf', 'ga']);
export const URL_WEIGHTS = { abusedTld: 1, abusedTldSender: 0.5 } as const;

const tldOf = (host: string) => host.slice(host.lastIndexOf('.') + 1);

export function urlRules(f: MessageFeatures): RuleHit[] {
  const hits: RuleHit[] = [];
  const link = f.urlHosts.find((host) => ABUSED_TLDS.has(tldOf(host)));
  if (link) hits.push(ruleHit('URL_ABUSED_TLD', URL_WEIGHTS.abusedTld, { host: link, tld: tldOf(link) }));
  // The same reputation for the sender's own domain; unverified, so a nudge only (a forger picks
  // any domain, but one that sends from its own abused-TLD domain shows it).
  if (f.fromDomain && ABUSED_TLDS.has(tldOf(f.fromDomain))) {
    hits.push(ruleHit('FROM_ABUSED_TLD', URL_WEIGHTS.abusedTldSender, { domain: f.fromDomain, tld: tldOf(f.fromDomain) }));
  }
  return hits;
}

/**
 * Japan's law on commercial mail once required unsolicited advertising to carry 未承諾広告 at the
 * start of its subject; since 2008 such mail needs prior consent and the label is gone from lawful
 * mail, so what still carries it is bulk mail from senders who never asked.
 */
const JP_AD_LABEL = /^[\s※*＊\[［【〔(（]*未承諾広告/;
export const CONTENT_WEIGHTS = { jpUnsolicitedAd: 2.5 } as const;

export function contentRules(f: MessageFeatures): RuleHit[] {
  return JP_AD_LABEL.test(f.subject.normalize('NFKC')) ? [ruleHit('JP_UNSOLICITED_AD', CONTENT_WEIGHTS.jpUnsolicitedAd)] : [];
}

/**
 * Bulk-mailer tells in the header: what a mailing list or a bulk sender that keeps the rules sends,
 * and this message does not. A list says who it is (List-Id, RFC 2919, or the other List-* fields
 * and its program's own, as lists of 2002 did) beside Precedence: bulk and its unsubscribe link; since 2024 the large mailbox providers require bulk senders to sign with
 * DKIM and give an unsubscribe link in angle brackets (RFC 2369, RFC 8058); automatic replies say so
 * (Auto-Submitted, RFC 3834). Each is a nudge, since old list software and small senders miss some.
 * Precedence: bulk alone is no tell: system notices (cron, monitoring) carry it without a list, and
 * on the 2002 corpus it marked 90 ham against 2 spam.
 * Programs made for sending mail in bulk that name themselves in X-Mailer weigh more: ordinary mail
 * clients and the services that send newsletters do not carry those names.
 */
export const BULK_WEIGHTS = { unsubscribeUnsigned: 0.5, unsubscribeMalformed: 0.5, bulkMailer: 1 } as const;
const BULK_MAILER = /\b(?:mass|bulk)[\s-]?(?:e-?)?mail(?:er|ing)?\b|\bmass[\s-]?sender\b|\bsend-?safe\b|\batomic mail sender\b|\bgroup[\s-]?mail\b|\bworldmerge\b/i;
const UNSUBSCRIBE_URI = /<\s*(?:mailto:[^>\s]+@[^>\s]+|https?:\/\/[^>\s]+)\s*>/i;

export function bulkRules(f: MessageFeatures): RuleHit[] {
  const b = f.bulk;
  const hits: RuleHit[] = [];
  if (b.listUnsubscribe !== undefined) {
    if (!UNSUBSCRIBE_URI.test(b.listUnsubscribe)) hits.push(ruleHit('BULK_UNSUBSCRIBE_MALFORMED', BULK_WEIGHTS.unsubscribeMalformed));
    else if (!b.listNamed && !b.dkimSigned) hits.push(ruleHit('BULK_UNSUBSCRIBE_UNSIGNED', BULK_WEIGHTS.unsubscribeUnsigned));
  }
  const mailer = b.mailer && BULK_MAILER.exec(b.mailer);
  if (mailer) hits.push(ruleHit('BULK_MAILER_SOFTWARE', BULK_WEIGHTS.bulkMailer, { mailer: b.mailer!.slice(0, 60) }));
  return hits;
}

/** All rule hits for a message: authentication, links, content, bulk-mailer headers, then phishing. */
export function evaluateRules(f: MessageFeatures, auth: AuthFindings | undefined): { hits: RuleHit[]; phish: number } {
  const phish = phishingRules(f, dnsTrouble(auth) ? undefined : auth);
  return { hits: [...authRules(auth), ...urlRules(f), ...contentRules(f), ...bulkRules(f), ...phish], phish: phish.reduce((s, h) => s + h.contribution, 0) };
}
