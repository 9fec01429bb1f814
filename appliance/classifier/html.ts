// HTML bodies reduced to what the classifier reads: the visible text, the tags and attributes
// used (spam templates have a style of their own), the links with the text they show, images,
// forms and password fields, and what phishing needs to see (script and data: URLs, login words).
// htmlparser2's streaming tokenizer reads it: no DOM is built (this runs on the hot path), it
// copes with the broken HTML mail is full of, and it decodes entities. Inline tags are removed
// without a space so "V<b></b>iagra" still reads "Viagra"; style and script are not text, and of
// the head only the title is.
import { Parser } from 'htmlparser2';

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
  /** javascript: URLs in links, forms or frames, other than do-nothing placeholders (<script> elements are no sign: newsletters had them). */
  scripts: number;
  /** data: URLs in links, forms or frames (a page carried inside the mail). */
  dataUrls: number;
}

const INLINE = new Set(['b', 'i', 'u', 'em', 'strong', 'font', 'span', 'a', 'small', 'big', 'sup', 'sub', 'abbr', 's', 'strike', 'wbr']);
const BREAKS = new Set(['br', 'p', 'div', 'tr']);
/** Elements whose content is not text a reader sees. */
const NOT_TEXT = new Set(['style', 'script', 'head', 'noscript', 'template']);
const VALUE_ATTRS = new Set(['font.size', 'font.color', 'font.face', 'table.bgcolor', 'body.bgcolor', 'td.bgcolor', 'img.width', 'img.height', 'div.align', 'p.align']);
/** Attributes whose value is a URL something opens or submits to. */
const URL_ATTRS = new Set(['href', 'action', 'src', 'formaction']);

/** Scans an HTML document. */
export function scanHtml(html: string): HtmlFacts {
  const facts: HtmlFacts = {
    text: '', tagTokens: [], links: [], imageSources: [], formActions: [], passwordInputs: 0, hiddenText: false,
    commentsInText: 0, scripts: 0, dataUrls: 0,
  };
  const parts: string[] = [];
  const seenTokens = new Set<string>();
  let hidden = 0; // depth inside elements that are not text
  let inTitle = false;
  let link: { href: string; start: number } | undefined;
  let commentAfterWord = false;
  const lastChar = () => { const p = parts[parts.length - 1]; return p ? p[p.length - 1] : ''; };
  const closeLink = () => {
    if (link?.href) facts.links.push({ href: link.href, text: parts.slice(link.start).join('').replace(/\s+/g, ' ').trim() });
    link = undefined;
  };
  const token = (t: string) => { if (!seenTokens.has(t)) { seenTokens.add(t); facts.tagTokens.push(t); } };

  const parser = new Parser({
    onopentag(tag, attrs) {
      if (NOT_TEXT.has(tag)) hidden++;
      if (tag === 'title') inTitle = true;
      if (!INLINE.has(tag)) parts.push(BREAKS.has(tag) ? '\n' : ' ');
      token('tag:' + tag);
      for (const [name, value] of Object.entries(attrs)) {
        const key = tag + '.' + name;
        token(VALUE_ATTRS.has(key) ? `attr:${key}=${value.toLowerCase().slice(0, 20)}` : 'attr:' + key);
        if (URL_ATTRS.has(name)) {
          const v = value.trim().toLowerCase();
          if (v.startsWith('javascript:') && !NO_OP_SCRIPT.test(v)) facts.scripts++;
          else if (v.startsWith('data:') && !(tag === 'img' && /^data:image\//.test(v))) facts.dataUrls++;
        }
      }
      const style = (attrs.style ?? '').toLowerCase();
      if (/display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*[01](px|pt)?\b/.test(style) || attrs.size === '0') facts.hiddenText = true;
      if (tag === 'font' && /^#?(fff|ffffff|white)$/i.test(attrs.color ?? '')) facts.hiddenText = true;
      if (tag === 'a') {
        closeLink();
        const href = (attrs.href ?? '').trim();
        if (href) link = { href, start: parts.length };
      } else if (tag === 'img') {
        if (attrs.src) facts.imageSources.push(attrs.src.trim());
      } else if (tag === 'form') {
        facts.formActions.push((attrs.action ?? '').trim());
      } else if (tag === 'input' && (attrs.type ?? '').toLowerCase() === 'password') {
        facts.passwordInputs++;
      }
    },
    onclosetag(tag) {
      if (NOT_TEXT.has(tag)) hidden = Math.max(0, hidden - 1);
      if (tag === 'title') inTitle = false;
      if (tag === 'a') closeLink();
      if (!INLINE.has(tag)) parts.push(BREAKS.has(tag) ? '\n' : ' ');
    },
    ontext(text) {
      if (hidden > 0 && !inTitle) return;
      if (commentAfterWord && /^\w/.test(text)) facts.commentsInText++;
      commentAfterWord = false;
      parts.push(inTitle ? ` ${text} ` : text);
    },
    oncomment() {
      commentAfterWord = /\w/.test(lastChar());
    },
  }, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  parser.write(html);
  parser.end();
  closeLink();
  facts.text = parts.join('').replace(/\u00a0/g, ' ');
  return facts;
}

/** Words on a page that asks the reader to log in or confirm an account (English and Japanese). */
/** Placeholder links of HTML templates ("javascript:void(0)"): they do nothing and hide nothing. */
const NO_OP_SCRIPT = /^javascript:\s*(?:void\s*\(?\s*0\s*\)?|false|undefined|return\s+false)?\s*;?\s*$/;

export const LOGIN_WORDS = /\b(?:log\s?in|sign\s?in|password|passcode|verify your (?:account|identity)|confirm your (?:account|identity)|account (?:suspended|locked|limited))\b|パスワード|ログイン|暗証番号|本人確認|アカウント(?:の)?(?:確認|停止|ロック)/i;
