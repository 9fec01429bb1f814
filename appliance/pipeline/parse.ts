// Stage 1, parse: the spooled message into headers, text, HTML and attachments (mailparser decodes
// ISO-2022-JP, Shift_JIS, EUC-JP, UTF-8 and the other charsets). The message is parsed once and the
// result shared with the later stages through the StageContext: the findings, and the decoded
// header values the lists match against — plain data, since parsing may run in an analysis thread.
// HTML is not converted to text here: nothing downstream reads mailparser's text, and the
// conversion was half of the parse time.
//
// mailparser is lenient by design: it never throws on garbage, it returns an empty message. So the
// stage also checks the structure itself — a header section made of header fields, and a multipart
// body that declares a boundary and uses it. A message failing these checks is "malformed": it gets
// the main class Error (and the configured action for Error) instead of crashing or being scored
// as an ordinary empty mail.
import { simpleParser, type ParsedMail } from 'mailparser';
import type { ParseFindings, StageContext } from './message-context.ts';

export async function parseStage(sc: StageContext): Promise<void> {
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(sc.raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  } catch (err) {
    sc.findings.parse = empty(`the message could not be parsed: ${(err as Error).message}`);
    return;
  }
  sc.parsed = parsed;
  sc.headers = headerValues(parsed, sc.headerNames);
  const from = parsed.from?.value[0]?.address ?? '';
  sc.findings.parse = {
    ok: true,
    subject: parsed.subject ?? '',
    fromAddress: from.toLowerCase(),
    messageId: parsed.messageId ?? '',
    attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType, size: a.size })),
  };
  const problem = structureProblem(sc.raw, parsed);
  if (problem) {
    sc.findings.parse.ok = false;
    sc.findings.parse.error = problem;
  }
}

/**
 * The values of the named headers (or of all), by lower-case name, as text. mailparser keeps structured values
 * (addresses, dates) as objects; their text form is what an admin writes in a condition, and the
 * raw (unfolded) line is the fallback.
 */
export function headerValues(parsed: ParsedMail, names?: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const present = new Set(parsed.headerLines.map((h) => h.key));
  for (const key of names ?? present) {
    if (!present.has(key)) continue;
    if (key === 'subject') { out.subject = parsed.subject ? [parsed.subject] : []; continue; }
    const value = parsed.headers.get(key);
    if (typeof value === 'string') out[key] = [value];
    else if (Array.isArray(value)) out[key] = value.map((v) => (v && typeof v === 'object' && 'text' in v ? String(v.text) : String(v)));
    else if (value && typeof value === 'object' && 'text' in value) out[key] = [String((value as { text: unknown }).text)];
    else out[key] = parsed.headerLines.filter((h) => h.key === key).map((h) => h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
  }
  return out;
}

function empty(error: string): ParseFindings {
  return { ok: false, error, subject: '', fromAddress: '', messageId: '', attachments: [] };
}

const HEADER_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/** What is structurally wrong with the message, or undefined when it is well-formed enough to judge. */
export function structureProblem(raw: Buffer, parsed: ParsedMail): string | undefined {
  const end = headerEnd(raw);
  const head = raw.subarray(0, end).toString('latin1');
  const lines = head.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length === 0) return 'the message has no header section';
  for (const line of lines) {
    if (line[0] === ' ' || line[0] === '\t') continue; // folded continuation
    if (!HEADER_LINE.test(line)) return `the header section has a line that is not a header field: ${JSON.stringify(line.slice(0, 60))}`;
  }
  const ct = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (ct?.value?.toLowerCase().startsWith('multipart/')) {
    const boundary = ct.params?.boundary;
    if (!boundary) return `the message is ${ct.value} but declares no boundary`;
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
