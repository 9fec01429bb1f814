// RFC 2047 encoded words in header fields (`=?UTF-8?B?…?=`, `=?ISO-2022-JP?B?…?=`, Q encoding), as
// Japanese mail writes its subjects and display names, decoded for the message log. Adjacent
// encoded words of one charset are joined before decoding, because senders split a multi-byte
// character (or an ISO-2022-JP escape sequence) across two words; the space between encoded words
// is dropped (RFC 2047 §6.2). A word in a charset this Node cannot decode is left as it was.
// Encoding goes the other way for the text we write into headers (subjects, notices, tags).
const WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=/g;

function bytesOf(encoding: string, text: string): Buffer {
  if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '_') bytes.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) { bytes.push(parseInt(text.slice(i + 1, i + 3), 16)); i += 2; }
    else bytes.push(c.charCodeAt(0) & 0xff);
  }
  return Buffer.from(bytes);
}

function decode(charset: string, bytes: Buffer): string | undefined {
  try {
    return new TextDecoder(charset.toLowerCase()).decode(bytes);
  } catch {
    return undefined;
  }
}

export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let at = 0;
  let run: { charset: string; chunks: Buffer[]; raw: string } | undefined;
  const flush = () => {
    if (!run) return;
    out += decode(run.charset, Buffer.concat(run.chunks)) ?? run.raw;
    run = undefined;
  };
  for (const m of value.matchAll(WORD)) {
    const between = value.slice(at, m.index);
    const adjacent = run !== undefined && /^\s*$/.test(between);
    if (!adjacent) { flush(); out += between; }
    const charset = m[1];
    const bytes = bytesOf(m[2], m[3]);
    if (run && run.charset.toLowerCase() === charset.toLowerCase()) { run.chunks.push(bytes); run.raw += m[0]; }
    else { flush(); run = { charset, chunks: [bytes], raw: m[0] }; }
    at = m.index + m[0].length;
  }
  flush();
  return out + value.slice(at);
}

// 45 bytes of UTF-8 are 60 base64 characters: with `=?UTF-8?B?` and `?=` a word stays within the
// 75 characters RFC 2047 §2 allows.
const WORD_BYTES = 45;

/**
 * Text for a header field: ASCII text as it is, anything else as UTF-8 encoded words of at most 75
 * characters, split between characters (never inside one) and separated by spaces, which decoders
 * drop between adjacent words.
 */
export function encodeEncodedWords(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > WORD_BYTES) { words.push(chunk); chunk = ''; }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(' ');
}
