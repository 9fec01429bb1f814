// Charsets: turning the bytes of a header word or a body part into text. Japanese mail still
// arrives as ISO-2022-JP, Shift_JIS or EUC-JP as often as UTF-8, and the classifier must see the
// same words whatever the sender's encoding, so every decoder ends in the same JavaScript string.
// iconv-lite covers most charsets; ISO-2022-JP (a stateful 7-bit encoding) comes from
// encoding-japanese. Unlabelled 8-bit text is guessed: UTF-8 if valid, else a Japanese encoding
// if it looks like one, else Latin-1 (which never fails).
import iconv from 'iconv-lite';
import Encoding from 'encoding-japanese';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8Loose = new TextDecoder('utf-8');

/** Normalizes the aliases senders use (x-sjis, cp932, iso2022jp…) to one name per decoder. */
function canonical(charset: string): string {
  const c = charset.trim().toLowerCase().replace(/^["']|["']$/g, '');
  if (c === 'utf-8' || c === 'utf8' || c === 'us-ascii' || c === 'ascii' || c === '') return 'utf-8';
  if (/^(iso-?2022-?jp|csiso2022jp)/.test(c)) return 'iso-2022-jp';
  if (/^(shift[_-]?jis|x-sjis|sjis|ms_kanji|csshiftjis|cp932|windows-31j|ms932)$/.test(c)) return 'cp932';
  if (/^(euc-?jp|x-euc-jp|cseucpkdfmtjapanese)$/.test(c)) return 'eucjp';
  if (c === 'iso-8859-1' || c === 'latin1' || c === 'latin-1') return 'windows-1252';
  return c;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
}

function decodeJis(bytes: Uint8Array): string {
  return Encoding.convert(bytes, { to: 'UNICODE', from: 'JIS', type: 'string' });
}

/** Decodes text that carries no charset label, or whose label is wrong or unknown. */
export function decodeGuess(bytes: Uint8Array): string {
  if (isAscii(bytes)) {
    // ISO-2022-JP is 7-bit: its escape sequences are the only tell.
    return bytes.includes(0x1b) ? decodeJis(bytes) : Buffer.from(bytes).toString('latin1');
  }
  try {
    return utf8Strict.decode(bytes);
  } catch {
    const detected = Encoding.detect(bytes);
    if (detected === 'SJIS') return iconv.decode(Buffer.from(bytes), 'cp932');
    if (detected === 'EUCJP') return iconv.decode(Buffer.from(bytes), 'eucjp');
    return iconv.decode(Buffer.from(bytes), 'windows-1252');
  }
}

/** Decodes bytes in the named charset; an unknown or unsupported name falls back to a guess. */
export function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  const c = canonical(charset ?? '');
  if (c === 'utf-8') return isAscii(bytes) && !bytes.includes(0x1b) ? Buffer.from(bytes).toString('latin1')
    : isAscii(bytes) ? decodeJis(bytes) : utf8Loose.decode(bytes);
  if (c === 'iso-2022-jp') return decodeJis(bytes);
  if (iconv.encodingExists(c)) return iconv.decode(Buffer.from(bytes), c);
  return decodeGuess(bytes);
}

const encodedWord = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding === 'b' || encoding === 'B') return Buffer.from(text, 'base64');
  const qp = text.replace(/_/g, ' ').replace(/=([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(qp, 'latin1');
}

/**
 * Decodes a header value (given as a latin1 string of its raw bytes): RFC 2047 encoded words,
 * joining adjacent words of one charset before decoding (senders split multi-byte characters
 * and ISO-2022-JP escape runs across words), and raw 8-bit text by guessing.
 */
export function decodeHeader(raw: string): string {
  if (!raw.includes('=?')) return /[\x80-\xff\x1b]/.test(raw) ? decodeGuess(Buffer.from(raw, 'latin1')) : raw;
  let out = '';
  let last = 0;
  let pending: { charset: string; chunks: Buffer[] } | undefined;
  const flush = () => {
    if (pending) out += decodeCharset(Buffer.concat(pending.chunks), pending.charset.replace(/\*.*$/, ''));
    pending = undefined;
  };
  for (const m of raw.matchAll(encodedWord)) {
    const between = raw.slice(last, m.index);
    const charset = m[1].toLowerCase();
    if (pending && /^\s*$/.test(between) && pending.charset === charset) {
      pending.chunks.push(wordBytes(m[2], m[3]));
    } else {
      flush();
      if (!(/^\s*$/.test(between) && last > 0)) out += decodeGuessIf8bit(between);
      pending = { charset, chunks: [wordBytes(m[2], m[3])] };
    }
    last = m.index + m[0].length;
  }
  flush();
  return out + decodeGuessIf8bit(raw.slice(last));
}

function decodeGuessIf8bit(s: string): string {
  return /[\x80-\xff\x1b]/.test(s) ? decodeGuess(Buffer.from(s, 'latin1')) : s;
}
