// Stage 1, parse: the spooled message into header fields, text, HTML and attachments, once, by
// the classifier's MIME walker (classifier/mime.ts: ISO-2022-JP, Shift_JIS, EUC-JP, UTF-8 and the
// other charsets). The result is shared with the later stages through the StageContext — the
// scorer reads the same structure instead of walking the message again — together with the
// findings and the decoded header values the lists match against: plain data, since parsing may
// run in an analysis thread.
//
// The walker is lenient by design: it never throws on garbage. So the stage also checks the
// structure itself — a header section made of header fields, and a multipart body that declares a
// boundary and uses it. A message failing these checks is "malformed": it gets the main class
// Error (and the configured action for Error) instead of being scored as an ordinary empty mail.
import { decodeHeader, parseAddress, parseContentType, parseMime, type ParsedMessage } from '../classifier/index.ts';
import type { StageContext } from './message-context.ts';

export async function parseStage(sc: StageContext): Promise<void> {
  let mime: ParsedMessage;
  try {
    mime = parseMime(sc.raw);
  } catch (err) {
    sc.findings.parse = { ok: false, error: `the message could not be parsed: ${(err as Error).message}`, subject: '', fromAddress: '', messageId: '', attachments: [] };
    return;
  }
  sc.mime = mime;
  sc.headers = headerValues(mime, sc.headerNames);
  const first = (name: string) => mime.headers.find((h) => h.name === name)?.raw;
  const subject = first('subject');
  const from = first('from');
  sc.findings.parse = {
    ok: true,
    subject: subject === undefined ? '' : decodeHeader(subject),
    fromAddress: from === undefined ? '' : parseAddress(decodeHeader(from)).address,
    messageId: first('message-id') ?? '',
    attachments: mime.attachments.map((a) => ({ filename: a.name, contentType: a.type, size: a.bytes })),
  };
  const problem = structureProblem(sc.raw, mime);
  if (problem) {
    sc.findings.parse.ok = false;
    sc.findings.parse.error = problem;
  }
}

/** The values of the named headers (or of all), by lower-case name, RFC 2047-decoded and unfolded. */
export function headerValues(mime: ParsedMessage, names?: readonly string[]): Record<string, string[]> {
  const wanted = names ? new Set(names) : undefined;
  const out: Record<string, string[]> = {};
  for (const h of mime.headers) {
    if (wanted && !wanted.has(h.name)) continue;
    (out[h.name] ??= []).push(decodeHeader(h.raw));
  }
  return out;
}

const HEADER_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/** What is structurally wrong with the message, or undefined when it is well-formed enough to judge. */
export function structureProblem(raw: Buffer, mime: ParsedMessage): string | undefined {
  const end = headerEnd(raw);
  const head = raw.subarray(0, end).toString('latin1');
  const lines = head.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length === 0) return 'the message has no header section';
  for (const line of lines) {
    if (line[0] === ' ' || line[0] === '\t') continue; // folded continuation
    if (!HEADER_LINE.test(line)) return `the header section has a line that is not a header field: ${JSON.stringify(line.slice(0, 60))}`;
  }
  const value = mime.headers.find((h) => h.name === 'content-type')?.raw;
  const ct = parseContentType(value, '');
  if (ct.type.startsWith('multipart/')) {
    const boundary = ct.params.boundary;
    if (!boundary) return `the message is ${ct.type} but declares no boundary`;
    const body = raw.subarray(end).toString('latin1');
    if (!body.includes(`--${boundary}`)) return `the multipart boundary "${boundary}" never occurs in the body`;
  }
  return undefined;
}

/** Offset of the blank line that ends the header section (or the end of the message). */
function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const cands = [crlf, lf].filter((i) => i >= 0);
  return cands.length ? Math.min(...cands) : raw.length;
}
