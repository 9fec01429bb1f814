// URLs and domains: finding links in plain text, taking their host apart, and reducing a host to
// its registrable domain ("mail.example.co.jp" → "example.co.jp") so that two links are compared
// by who owns them. Registrable domains come from the Public Suffix List (tldts, its ICANN part:
// "foo.s3.amazonaws.com" belongs to amazonaws.com, as its mail would be signed); a host under
// no known suffix, or a bare suffix, stands for itself.
import { getDomain } from 'tldts';

/** URL schemes and bare www. hosts in plain text. */
const URL_RE = /\b(?:(?:https?|ftp):\/\/|www\.)[^\s<>"'()\[\]{}\u3000-\u303f\uff08\uff09]+/gi;

export function findUrls(text: string, limit = 100): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(URL_RE)) {
    out.push(m[0].replace(/[.,;:!?]+$/, ''));
    if (out.length >= limit) break;
  }
  return out;
}

/** The lower-case host of a URL (or of a bare "www.x" / "x.com" string), or '' if there is none. */
export function urlHost(url: string): string {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@\/?#]*@)?(\[[^\]]+\]|[^\/:?#\s]+)/i.exec(url.trim());
  if (!m) return '';
  return m[1].toLowerCase().replace(/\.$/, '');
}

export function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith('[') || /^0x[0-9a-f]+$|^\d{8,10}$/i.test(host);
}

/** The registrable domain of a host ("a.b.example.com" → "example.com"). */
export function registrableDomain(host: string): string {
  if (!host || isIpAddress(host)) return host;
  return getDomain(host) ?? host;
}

/** A domain-looking string shown as link text ("www.paypal.com", "https://paypal.com/login"). */
export function domainInText(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  const m = /^(?:https?:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[\/:?#]\S*)?$/.exec(t);
  return m ? m[1] : undefined;
}
