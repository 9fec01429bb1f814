// The bytes we relay: the spooled file as received, with the pipeline's header edits applied on
// the way out (forged copies of our own headers taken out, headers prepended, Subject tagged). The
// file itself is never rewritten, so one spooled copy serves recipients whose verdicts differ.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { HeaderEdits } from '../message/message.ts';
import { encodeEncodedWords } from '../message/encoded-words.ts';

export function hasEdits(edits: HeaderEdits | undefined): edits is HeaderEdits {
  return Boolean(edits && (edits.prepend.length || edits.subjectPrefix || edits.remove?.length || edits.removeAuthResultsOf));
}

/** The message to relay, from its spool file or from the bytes still held in memory. */
export function messageStream(source: string | Buffer, edits?: HeaderEdits): Readable {
  if (Buffer.isBuffer(source)) return Readable.from([hasEdits(edits) ? editedBuffer(source, edits) : source]);
  if (!hasEdits(edits)) return createReadStream(source);
  return Readable.from(editedChunks(source, edits));
}

function editedBuffer(raw: Buffer, edits: HeaderEdits): Buffer {
  const end = headerEnd(raw);
  const cut = end < 0 ? raw.length : end;
  return Buffer.concat([Buffer.from(applyHeaderEdits(raw.subarray(0, cut).toString('latin1'), edits), 'latin1'), raw.subarray(cut)]);
}

async function* editedChunks(file: string, edits: HeaderEdits): AsyncGenerator<Buffer> {
  let head: Buffer = Buffer.alloc(0);
  let edited = false;
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    if (edited) { yield chunk; continue; }
    head = head.length ? Buffer.concat([head, chunk]) : chunk;
    const end = headerEnd(head);
    if (end < 0 && head.length < 4 * 1024 * 1024) continue;
    const cut = end < 0 ? head.length : end;
    yield Buffer.from(applyHeaderEdits(head.subarray(0, cut).toString('latin1'), edits), 'latin1');
    yield head.subarray(cut);
    edited = true;
  }
  if (!edited) yield Buffer.from(applyHeaderEdits(head.toString('latin1'), edits), 'latin1');
}

/** Offset just after the line break that ends the last header line (before the blank line). */
function headerEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 2;
  return lf >= 0 ? lf + 1 : -1;
}

/**
 * Applies edits to a header section held as latin1 text (bytes preserved one-to-one; values we add
 * are encoded so non-ASCII tags survive: RFC 2047 for the Subject prefix when needed).
 */
export function applyHeaderEdits(header: string, edits: HeaderEdits): string {
  const eol = header.includes('\r\n') || header === '' ? '\r\n' : '\n';
  let out = edits.remove?.length || edits.removeAuthResultsOf ? withoutFields(header, edits) : header;
  if (edits.subjectPrefix) {
    const tag = encodeWord(edits.subjectPrefix);
    const m = /(^|\n)subject:[ \t]?/i.exec(out);
    if (m) {
      const at = m.index + m[0].length;
      out = `${out.slice(0, at)}${tag} ${out.slice(at)}`;
    } else {
      out = `Subject: ${tag}${eol}${out}`;
    }
  }
  const lines = edits.prepend.map(([name, value]) => `${name}: ${encodeWord(value)}${eol}`).join('');
  return lines + out;
}

/** The header section without the fields `edits` names for removal (a field with its folded lines). */
function withoutFields(header: string, edits: HeaderEdits): string {
  const names = new Set((edits.remove ?? []).map((n) => n.toLowerCase()));
  const authserv = edits.removeAuthResultsOf?.toLowerCase();
  // Split before every line that does not start with white space: one piece per field.
  return header.split(/(?<=\n)(?=[^ \t])/).filter((field) => {
    const colon = field.indexOf(':');
    if (colon < 0) return true;
    const name = field.slice(0, colon).trim().toLowerCase();
    if (names.has(name)) return false;
    if (authserv && name === 'authentication-results') {
      const id = field.slice(colon + 1).replace(/\([^)]*\)/g, ' ').trim().split(/[\s;]/)[0].toLowerCase();
      return id !== authserv;
    }
    return true;
  }).join('');
}

/**
 * A header value as it goes on the wire: folded lines stay folded, a line break that is not a
 * fold becomes a space (no header injection), and non-ASCII text becomes an RFC 2047 word.
 */
function encodeWord(text: string): string {
  const safe = text.replace(/\r?\n(?![ \t])/g, ' ').replace(/\r?\n/g, '\r\n');
  if (/^[\x20-\x7e\r\n\t]*$/.test(safe)) return safe;
  return encodeEncodedWords(safe.replace(/\r\n[ \t]+/g, ' '));
}
