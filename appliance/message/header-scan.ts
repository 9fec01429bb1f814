// A look at the header section while the message streams to the spool (or, for a message we
// queue ourselves, at the start of its file): where it ends, whether it is within the size limit,
// and the few fields the message log wants before any full parse (Subject and From with their
// RFC 2047 encoded words decoded, so a Japanese subject is logged as it reads).
import { decodeEncodedWords } from './encoded-words.ts';

export interface HeaderSummary {
  messageId?: string;
  subject?: string;
  from?: string;
}

export class HeaderScanner {
  #limit: number;
  #chunks: Buffer[] = [];
  #length = 0;
  done = false;
  tooLarge = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Feeds a chunk of the message; cheap once the end of the header section was seen. */
  push(chunk: Buffer): void {
    if (this.done) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const all = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks);
    this.#chunks = [all];
    const end = findHeaderEnd(all);
    if (end >= 0) {
      this.#chunks = [all.subarray(0, end)];
      this.#length = end;
      this.done = true;
    } else if (this.#length > this.#limit) {
      this.tooLarge = true;
      this.done = true;
      this.#chunks = [];
    }
    if (this.done && this.#length > this.#limit) this.tooLarge = true;
  }

  summary(): HeaderSummary {
    if (this.tooLarge) return {};
    const text = Buffer.concat(this.#chunks).toString('utf8').replace(/\r?\n[ \t]+/g, ' ');
    const field = (name: string) => {
      const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(text);
      return m ? m[1].trim().slice(0, 998) : undefined;
    };
    const decoded = (name: string) => {
      const raw = field(name);
      return raw === undefined ? undefined : decodeEncodedWords(raw).slice(0, 998);
    };
    return { messageId: field('Message-ID'), subject: decoded('Subject'), from: decoded('From') };
  }
}

/** Offset of the blank line ending the header section (CRLF or bare LF), or -1. */
function findHeaderEnd(buf: Buffer): number {
  if (buf[0] === 0x0a || (buf[0] === 0x0d && buf[1] === 0x0a)) return 0; // no headers at all
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}
