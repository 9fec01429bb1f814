// Message sources for the admin's tools: files and folders given on the command line, each file
// an RFC 5322 message (.eml), an mbox of many, or an Outlook .msg (converted to a MIME message
// with its transport headers, bodies and attachment names). A source that cannot be read is
// reported as an error value beside the messages, so one bad file does not stop the rest.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import msgreader from '@kenjiuno/msgreader';
import { encodeEncodedWords } from '../message/encoded-words.ts';

/** The package is CommonJS with the class on `default`. */
const MsgReader = msgreader.default;

export type SourceItem = { path: string; raw: Buffer } | { path: string; error: string };

const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/** Splits an mbox at its "From " separator lines (mboxrd: ">From " lines are unquoted). */
export function splitMbox(data: Buffer): Buffer[] {
  const s = data.toString('latin1');
  const starts: number[] = [];
  const re = /(^|\n)From [^\n]*\n/g;
  for (const m of s.matchAll(re)) starts.push(m.index + m[1].length);
  const out: Buffer[] = [];
  for (let i = 0; i < starts.length; i++) {
    const headerEnd = s.indexOf('\n', starts[i]) + 1;
    const end = i + 1 < starts.length ? starts[i + 1] : s.length;
    const body = s.slice(headerEnd, end).replace(/\n$/, '').replace(/^>(>*From )/gm, '$1');
    out.push(Buffer.from(body, 'latin1'));
  }
  return out;
}

function isMbox(data: Buffer): boolean {
  return data.subarray(0, 5).toString('latin1') === 'From ';
}

/** Converts an Outlook .msg into a MIME message the classifier reads like any other. */
export function msgToMime(data: Buffer): Buffer {
  const reader = new MsgReader(data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer);
  const f = reader.getFileData();
  if (f.error) throw new Error(`not a readable Outlook message: ${f.error}`);
  const kept = (f.headers ?? '').split(/\r?\n(?=\S)/)
    .filter((h) => h.trim() && !/^(content-type|content-transfer-encoding|mime-version)\s*:/i.test(h));
  if (kept.length === 0) {
    kept.push(`From: ${encodeEncodedWords(f.senderName ?? '')} <${f.senderEmail ?? ''}>`, `Subject: ${encodeEncodedWords(f.subject ?? '')}`);
  }
  // Derived from the file, so the same .msg always converts to the same bytes (and so to the same
  // training record: training it twice is recognised).
  const boundary = 'mailmoat-msg-' + createHash('sha256').update(data).digest('hex').slice(0, 24);
  const parts: string[] = [];
  const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64').replace(/.{76}/g, '$&\r\n');
  if (f.body) parts.push(`Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(f.body)}`);
  const html = f.bodyHtml ?? (f.html ? Buffer.from(f.html).toString('utf8') : undefined);
  if (html) parts.push(`Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(html)}`);
  for (const a of f.attachments ?? []) {
    const name = a.fileName ?? a.fileNameShort ?? 'attachment';
    parts.push(`Content-Type: ${a.attachMimeTag ?? 'application/octet-stream'}; name="${name.replace(/"/g, '')}"\r\n` +
      `Content-Disposition: attachment; filename="${name.replace(/"/g, '')}"\r\n\r\n`);
  }
  const head = [...kept, 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`].join('\r\n');
  return Buffer.from(`${head}\r\n\r\n${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`, 'utf8');
}

async function* fileItems(file: string): AsyncGenerator<SourceItem> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    yield { path: file, error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    return;
  }
  if (data.subarray(0, 8).equals(OLE_MAGIC)) {
    try {
      yield { path: file, raw: msgToMime(data) };
    } catch (err) {
      yield { path: file, error: `cannot read the Outlook .msg file: ${(err as Error).message}` };
    }
    return;
  }
  if (isMbox(data)) {
    const messages = splitMbox(data);
    if (messages.length === 1) yield { path: file, raw: messages[0] };
    else for (let i = 0; i < messages.length; i++) yield { path: `${file}#${i + 1}`, raw: messages[i] };
    return;
  }
  yield { path: file, raw: data };
}

/** Every message under the given paths (files, folders recursively in name order, mboxes). */
export async function* readSources(paths: string[]): AsyncGenerator<SourceItem> {
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      yield { path: p, error: `cannot read: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}` };
      continue;
    }
    if (info.isDirectory()) {
      const entries = (await readdir(p, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      yield* readSources(entries.map((e) => path.join(p, e.name)));
    } else {
      yield* fileItems(p);
    }
  }
}
