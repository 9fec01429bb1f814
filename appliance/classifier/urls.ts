// URLs and domains: finding links in plain text, taking their host apart, and reducing a host to
// its registrable domain ("mail.example.co.jp" → "example.co.jp") so that two links are compared
// by who owns them. The public-suffix rule here is a short built-in list of two-level suffixes,
// enough for comparison; it is not the full Public Suffix List.
const TWO_LEVEL = new Set([
  'co.jp', 'ne.jp', 'or.jp', 'ac.jp', 'go.jp', 'ad.jp', 'ed.jp', 'gr.jp', 'lg.jp',
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'me.uk', 'ltd.uk', 'plc.uk',
  'com.au', 'net.au', 'org.au', 'edu.au', 'gov.au', 'co.nz', 'org.nz', 'co.za', 'com.br', 'com.cn',
  'com.tw', 'com.hk', 'com.sg', 'co.kr', 'or.kr', 'co.in', 'com.mx', 'com.ar', 'com.tr', 'com.ru',
]);

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
  if (isIpAddress(host)) return host;
  const labels = host.split('.').filter(Boolean);
  if (labels.length <= 2) return labels.join('.');
  const lastTwo = labels.slice(-2).join('.');
  return TWO_LEVEL.has(lastTwo) ? labels.slice(-3).join('.') : lastTwo;
}

/** A domain-looking string shown as link text ("www.paypal.com", "https://paypal.com/login"). */
export function domainInText(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  const m = /^(?:https?:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[\/:?#]\S*)?$/.exec(t);
  return m ? m[1] : undefined;
}
