// Words from text, the same whatever the script. Latin-script runs are split on non-letters (fast,
// and the bulk of mail); runs in scripts written without spaces (Japanese, Chinese, Thai…) go to
// Intl.Segmenter, which on Node 24 carries ICU's dictionary segmentation. Text is NFKC-normalized
// first so full-width "ＦＲＥＥ" and half-width katakana read like their common forms.
const segmenter = new Intl.Segmenter('ja', { granularity: 'word' });

/** Runs of letters/digits (with inner ' . - kept for "don't", "3.5", "e-mail"), or of CJK-type script. */
const RUN_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\u30fc\u3005]+|[\p{L}\p{N}$€£¥]+(?:['.\-][\p{L}\p{N}]+)*/gu;
const SPACELESS_RE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;
const MAX_WORD = 24;

/** Lower-cased words of a text, in order, up to `limit` words. */
export function words(text: string, limit: number): string[] {
  const out: string[] = [];
  const norm = /[^\x00-\x7f]/.test(text) ? text.normalize('NFKC') : text;
  for (const m of norm.matchAll(RUN_RE)) {
    const run = m[0];
    if (SPACELESS_RE.test(run[0])) {
      for (const s of segmenter.segment(run)) {
        if (s.isWordLike) out.push(s.segment);
        if (out.length >= limit) return out;
      }
      continue;
    }
    const w = run.toLowerCase();
    if (w.length > MAX_WORD) {
      // Long strings (encoded junk, hashes, URLs) are one token by shape, as SpamBayes does.
      out.push(`long:${w[0]}${Math.min(9, Math.floor(w.length / 10))}`);
    } else {
      out.push(w);
    }
    if (out.length >= limit) return out;
  }
  return out;
}

/**
 * Orthogonal sparse bigrams: each word paired with each of the next `window - 1` words, the gap
 * written into the token ("buy 1 now", "buy 2 cheap"), plus the word itself. OSB carries phrase
 * information with few features, and was the strongest feature set in the TREC spam tracks.
 */
export function osb(ws: string[], prefix: string, out: string[], window = 4): void {
  for (let i = 0; i < ws.length; i++) {
    out.push(prefix + ws[i]);
    for (let k = 1; k < window && i + k < ws.length; k++) out.push(`${prefix}${ws[i]} ${k} ${ws[i + k]}`);
  }
}
