// HTML bodies reduced to what the classifier reads: the visible text, the tags and attributes
// used (spam templates have a style of their own), the links with the text they show, images,
// and forms. A regular-expression scanner, not a DOM: mail HTML is often broken, and this runs on
// the hot path. Inline tags are removed without a space so "V<b></b>iagra" still reads "Viagra".
export interface HtmlLink {
  href: string;
  text: string;
}

export interface HtmlFacts {
  text: string;
  /** "tag:font", "attr:font.color", "attr:font.size=1"… */
  tagTokens: string[];
  links: HtmlLink[];
  imageSources: string[];
  formActions: string[];
  passwordInputs: number;
  /** Text hidden from the reader (display:none, zero or one-pixel fonts, white on white). */
  hiddenText: boolean;
  commentsInText: number;
}

const INLINE = new Set(['b', 'i', 'u', 'em', 'strong', 'font', 'span', 'a', 'small', 'big', 'sup', 'sub', 'abbr', 's', 'strike', 'wbr']);
const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
  middot: '·', bull: '•', hellip: '…', mdash: '—', ndash: '–', laquo: '«', raquo: '»', yen: '¥', euro: '€', pound: '£',
};
const VALUE_ATTRS = new Set(['font.size', 'font.color', 'font.face', 'table.bgcolor', 'body.bgcolor', 'td.bgcolor', 'img.width', 'img.height', 'div.align', 'p.align']);

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});?/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
    }
    return NAMED[e.toLowerCase()] ?? m;
  });
}

const attrRe = /([a-zA-Z_:-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

function parseAttrs(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of s.matchAll(attrRe)) out.set(m[1].toLowerCase(), m[2] ?? m[3] ?? m[4] ?? '');
  return out;
}

/** Scans an HTML document. */
export function scanHtml(html: string): HtmlFacts {
  const facts: HtmlFacts = { text: '', tagTokens: [], links: [], imageSources: [], formActions: [], passwordInputs: 0, hiddenText: false, commentsInText: 0 };
  let src = html.replace(/<!--[\s\S]*?-->/g, (_m, offset: number, all: string) => {
    if (/\w/.test(all[offset - 1] ?? '') && /\w/.test(all[offset + _m.length] ?? '')) facts.commentsInText++;
    return '';
  });
  src = src.replace(/<(style|script|head)\b[\s\S]*?<\/\1\s*>/gi, (m) => {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(m);
    return title ? ' ' + title[1] + ' ' : ' ';
  });
  const parts: string[] = [];
  let linkStart = -1;
  let linkHref = '';
  let last = 0;
  const seenTokens = new Set<string>();
  const tagRe = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g;
  for (const m of src.matchAll(tagRe)) {
    parts.push(src.slice(last, m.index));
    last = m.index + m[0].length;
    const closing = m[1] === '/';
    const tag = m[2].toLowerCase();
    if (!INLINE.has(tag)) parts.push(tag === 'br' || tag === 'p' || tag === 'div' || tag === 'tr' ? '\n' : ' ');
    if (closing) {
      if (tag === 'a' && linkStart >= 0) {
        facts.links.push({ href: linkHref, text: decodeEntities(parts.slice(linkStart).join('')).replace(/\s+/g, ' ').trim() });
        linkStart = -1;
      }
      continue;
    }
    const tagTok = 'tag:' + tag;
    if (!seenTokens.has(tagTok)) { seenTokens.add(tagTok); facts.tagTokens.push(tagTok); }
    const attrs = m[3].trim() ? parseAttrs(m[3]) : undefined;
    if (attrs) {
      for (const [name, value] of attrs) {
        const key = tag + '.' + name;
        const tok = VALUE_ATTRS.has(key) ? `attr:${key}=${value.toLowerCase().slice(0, 20)}` : 'attr:' + key;
        if (!seenTokens.has(tok)) { seenTokens.add(tok); facts.tagTokens.push(tok); }
      }
      const style = (attrs.get('style') ?? '').toLowerCase();
      if (/display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*[01](px|pt)?\b/.test(style) || attrs.get('size') === '0') facts.hiddenText = true;
      if (tag === 'font' && /^#?(fff|ffffff|white)$/i.test(attrs.get('color') ?? '') ) facts.hiddenText = true;
    }
    if (tag === 'a') {
      if (linkStart >= 0) facts.links.push({ href: linkHref, text: decodeEntities(parts.slice(linkStart).join('')).replace(/\s+/g, ' ').trim() });
      linkHref = decodeEntities(attrs?.get('href') ?? '').trim();
      linkStart = linkHref ? parts.length : -1;
    } else if (tag === 'img') {
      const s = attrs?.get('src');
      if (s) facts.imageSources.push(decodeEntities(s).trim());
    } else if (tag === 'form') {
      facts.formActions.push(decodeEntities(attrs?.get('action') ?? '').trim());
    } else if (tag === 'input' && (attrs?.get('type') ?? '').toLowerCase() === 'password') {
      facts.passwordInputs++;
    }
  }
  parts.push(src.slice(last));
  if (linkStart >= 0) facts.links.push({ href: linkHref, text: decodeEntities(parts.slice(linkStart).join('')).replace(/\s+/g, ' ').trim() });
  facts.text = decodeEntities(parts.join(''));
  return facts;
}
