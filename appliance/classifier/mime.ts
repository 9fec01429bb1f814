// The one MIME parse of a message: the pipeline's parse stage walks it here and hands the result
// to the later stages, the classifier included, so a message is parsed once. It gives what the
// stages read: the header fields raw and in their order (RFC 2047 decoding on demand, charset.ts:
// ISO-2022-JP, Shift_JIS and EUC-JP decode exactly), the decoded text and HTML of text parts, and
// the names, types and sizes of everything else. It sits on the SMTP hot path, so it works on a
// latin1 view of the bytes (one byte, one character: cheap slicing with no loss), decodes no
// attachment but an attached web page (the phishing rules read its forms), and caps what it reads.
import { decodeCharset, decodeHeader } from './charset.ts';

/** Only the head of a very large message is walked; spam signals live near the top. */
const MAX_BYTES = 512 * 1024;
/** Each text part is decoded up to this many bytes. */
const MAX_TEXT_BYTES = 64 * 1024;
const MAX_DEPTH = 8;
const MAX_PARTS = 64;

export interface HeaderField {
  /** Lower-case field name. */
  name: string;
  /** The unfolded value as raw bytes (latin1 string), before RFC 2047 decoding. */
  raw: string;
}

export interface Attachment {
  name: string;
  type: string;
  /** Decoded size in bytes. */
  bytes: number;
}

/** How many messages parseMime walked in this thread (a test checks each message is walked once). */
export const mimeParses = { count: 0 };

/** Decoded size of a transfer-encoded body, without decoding it. */
function decodedSize(body: string, encoding: string): number {
  if (encoding === 'base64') {
    const chars = body.replace(/[^A-Za-z0-9+/]/g, '').length;
    return Math.floor(chars * 3 / 4);
  }
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body).length;
  return body.length;
}

export interface MimeMessage {
  headers: HeaderField[];
  texts: string[];
  htmls: string[];
  attachments: Attachment[];
  /** Attached web pages (.html, .htm, .shtml, text/html attachments), decoded like text parts. */
  attachedPages: { name: string; html: string }[];
  /** Content types of all leaf parts, in order. */
  partTypes: string[];
  /** Transfer encodings seen on text parts (e.g. "base64" on a plain-ASCII body is a trick). */
  textEncodings: string[];
  /** A text part whose declared charset did not match its bytes, or 8-bit bytes with no charset. */
  charsetMismatch: boolean;
  /** True when the message was cut at MAX_BYTES. */
  truncated: boolean;
  /** True when no header block could be found at all (not a mail message). */
  headerless: boolean;
}

export interface ContentType {
  type: string;
  params: Record<string, string>;
}

function splitHead(s: string, start: number, end: number): { head: string; bodyStart: number } {
  const crlf = s.indexOf('\r\n\r\n', start);
  const lf = s.indexOf('\n\n', start);
  let headEnd = -1;
  let bodyStart = end;
  if (crlf !== -1 && crlf < end && (lf === -1 || crlf < lf)) { headEnd = crlf; bodyStart = crlf + 4; }
  else if (lf !== -1 && lf < end) { headEnd = lf; bodyStart = lf + 2; }
  else headEnd = end;
  return { head: s.slice(start, headEnd), bodyStart: Math.min(bodyStart, end) };
}

/** Parses a header block into fields, unfolding continuation lines. */
export function parseHeaders(head: string): HeaderField[] {
  const out: HeaderField[] = [];
  for (const line of head.split(/\r?\n/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) {
      out[out.length - 1].raw += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim().toLowerCase(), raw: line.slice(colon + 1).trim() });
  }
  return out;
}

/** Parses "type/sub; a=b; c*=utf-8''x" (RFC 2045 and RFC 2231 continuations/encodings). */
export function parseContentType(value: string | undefined, fallback = 'text/plain'): ContentType {
  if (!value) return { type: fallback, params: {} };
  const [first, ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  const extended: Record<string, { charset?: string; pieces: string[] }> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq <= 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    let val = p.slice(eq + 1).trim();
    if (val.startsWith('"')) val = val.slice(1, val.endsWith('"') ? -1 : undefined).replace(/\\(.)/g, '$1');
    const m = /^([^*]+)\*(?:(\d+)\*?)?$/.exec(key);
    if (m) {
      const slot = (extended[m[1]] ??= { pieces: [] });
      let piece = val;
      if (key.endsWith('*')) {
        const q = /^([^']*)'[^']*'(.*)$/.exec(val);
        if (q) { slot.charset = q[1] || slot.charset; piece = q[2]; }
        piece = piece.replace(/%([0-9a-fA-F]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16)));
      }
      slot.pieces[Number(m[2] ?? 0)] = piece;
    } else {
      params[key] = val;
    }
  }
  for (const [key, slot] of Object.entries(extended)) {
    params[key] = decodeCharset(Buffer.from(slot.pieces.join(''), 'latin1'), slot.charset);
  }
  const type = first.trim().toLowerCase();
  return { type: /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type) ? type : fallback, params };
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (c === ';' && !quoted) { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

function decodeQuotedPrintable(s: string): string {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function decodeTransfer(body: string, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(body, 'base64');
  if (encoding === 'quoted-printable') return Buffer.from(decodeQuotedPrintable(body), 'latin1');
  return Buffer.from(body, 'latin1');
}

function headerValue(headers: HeaderField[], name: string): string | undefined {
  for (const h of headers) if (h.name === name) return h.raw;
  return undefined;
}

function isAsciiBuffer(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] > 0x7f) return false;
  return true;
}

/** Walks a message (raw bytes) into headers, decoded texts, and attachment facts. */
export function parseMime(raw: Buffer): MimeMessage {
  mimeParses.count++;
  const truncated = raw.length > MAX_BYTES;
  const s = (truncated ? raw.subarray(0, MAX_BYTES) : raw).toString('latin1');
  const msg: MimeMessage = {
    headers: [], texts: [], htmls: [], attachments: [], attachedPages: [], partTypes: [], textEncodings: [],
    charsetMismatch: false, truncated, headerless: false,
  };
  const { head, bodyStart } = splitHead(s, 0, s.length);
  msg.headers = parseHeaders(head);
  msg.headerless = msg.headers.length === 0;
  let parts = 0;

  const walk = (headers: HeaderField[], start: number, end: number, depth: number, defaultType: string): void => {
    if (++parts > MAX_PARTS) return;
    const ct = parseContentType(headerValue(headers, 'content-type'), defaultType);
    const encoding = (headerValue(headers, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
    const disposition = parseContentType(headerValue(headers, 'content-disposition'), 'inline/inline');
    const rawName = disposition.params.filename ?? ct.params.name;
    const name = rawName !== undefined ? decodeHeader(rawName) : undefined;

    if (ct.type.startsWith('multipart/') && ct.params.boundary && depth < MAX_DEPTH) {
      const delim = '--' + ct.params.boundary;
      const childDefault = ct.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
      let pos = s.indexOf(delim, start);
      while (pos !== -1 && pos < end) {
        const lineEnd = s.indexOf('\n', pos);
        if (s.startsWith(delim + '--', pos) || lineEnd === -1 || lineEnd >= end) break;
        let next = s.indexOf('\n' + delim, lineEnd);
        if (next === -1 || next > end) next = end;
        const partStart = lineEnd + 1;
        const partEnd = next > partStart && s[next - 1] === '\r' ? next - 1 : next;
        const split = splitHead(s, partStart, partEnd);
        // A part that starts with its blank line has no headers.
        const noHead = s.startsWith('\r\n', partStart) || s.startsWith('\n', partStart);
        walk(noHead ? [] : parseHeaders(split.head), noHead ? partStart + (s[partStart] === '\r' ? 2 : 1) : split.bodyStart,
          partEnd, depth + 1, childDefault);
        if (next >= end) break;
        pos = next + 1;
      }
      return;
    }
    if (ct.type === 'message/rfc822' && depth < MAX_DEPTH && encoding !== 'base64') {
      const inner = splitHead(s, start, end);
      walk(parseHeaders(inner.head), inner.bodyStart, end, depth + 1, 'text/plain');
      return;
    }
    msg.partTypes.push(ct.type);
    const isText = (ct.type === 'text/plain' || ct.type === 'text/html') && disposition.type !== 'attachment' && !name;
    const limit = Math.min(end, start + (encoding === 'base64' ? MAX_TEXT_BYTES * 4 / 3 : MAX_TEXT_BYTES));
    if (!isText) {
      msg.attachments.push({ name: name ?? '', type: ct.type, bytes: decodedSize(s.slice(start, end), encoding) });
      if (ct.type === 'text/html' || /\.s?html?$/i.test(name ?? '')) {
        msg.attachedPages.push({ name: name ?? '', html: decodeCharset(decodeTransfer(s.slice(start, limit), encoding), ct.params.charset) });
      }
      return;
    }
    const bytes = decodeTransfer(s.slice(start, limit), encoding);
    msg.textEncodings.push(encoding);
    const charset = ct.params.charset;
    if (!isAsciiBuffer(bytes) && (!charset || /^(us-)?ascii$/i.test(charset))) msg.charsetMismatch = true;
    const text = decodeCharset(bytes, charset);
    if (charset && /utf-?8/i.test(charset) && text.includes('\ufffd')) msg.charsetMismatch = true;
    (ct.type === 'text/html' ? msg.htmls : msg.texts).push(text);
  };

  if (!msg.headerless) walk(msg.headers, bodyStart, s.length, 0, 'text/plain');
  return msg;
}
