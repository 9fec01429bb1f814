// Stage 7, stamp: the headers the relayed copy carries, so the recipient's mail client (and the
// admin) can see what the appliance concluded and why:
//   Received-SPF, Authentication-Results       from the auth stage
//   X-Mailmoat-Spam-Score: 97.53%              two decimals, only when a scorer judged the message
//   X-Mailmoat-Class: Spam
//   X-Mailmoat-Reasons: name(+12.50), …        the biggest contributions first, plus list/virus/auth hits
// Non-ASCII text (e.g. Japanese rule details) is encoded as RFC 2047 words; long values are folded.
// Whatever the settings, copies of these headers that arrived with the message are taken out, and
// so are Authentication-Results that claim to be ours: a sender must not be able to pass off its
// own verdict as the appliance's.
import type { HeaderEdits, MainClass } from '../message/message.ts';
import type { Findings, ListHit } from './message-context.ts';
import { encodeEncodedWords } from '../message/encoded-words.ts';

const MAX_REASONS = 12;
export const STAMP_HEADERS = ['X-Mailmoat-Spam-Score', 'X-Mailmoat-Class', 'X-Mailmoat-Reasons'];

/** Folds a comma-separated value so no line exceeds ~78 characters. */
export function fold(name: string, parts: string[]): string {
  let out = '';
  let lineLength = name.length + 2;
  parts.forEach((p, i) => {
    const piece = i < parts.length - 1 ? `${p},` : p;
    if (i > 0 && lineLength + piece.length + 1 > 78) {
      out += '\r\n ';
      lineLength = 1;
    } else if (i > 0) {
      out += ' ';
      lineLength += 1;
    }
    out += piece;
    lineLength += piece.length;
  });
  return out;
}

export function formatScore(score: number): string {
  return `${score.toFixed(2)}%`;
}

function reasonList(f: Findings, hit: ListHit | undefined): string[] {
  const out: string[] = [];
  if (f.antivirus?.status === 'infected') out.push(`VIRUS(${encodeEncodedWords(f.antivirus.virus ?? '')})`);
  if (f.antivirus?.status === 'failed') out.push('AV_NOT_SCANNED');
  if (hit) out.push(`LIST_${hit.kind.toUpperCase().replace(/-/g, '_')}(${hit.scope})`);
  if (f.parse && !f.parse.ok) out.push('MALFORMED');
  const a = f.auth;
  if (a) {
    out.push(`SPF_${a.spf.result.toUpperCase()}`);
    if (a.dmarc) out.push(`DMARC_${a.dmarc.result.toUpperCase()}(${a.dmarc.policy})`);
    if (a.dkim.some((d) => d.result === 'pass')) out.push('DKIM_PASS');
    else if (a.dkim.length) out.push(`DKIM_${a.dkim[0].result.toUpperCase()}`);
  }
  const reasons = [...(f.spam?.reasons ?? [])].sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution)).slice(0, MAX_REASONS);
  for (const r of reasons) out.push(`${encodeEncodedWords(r.name)}(${r.contribution >= 0 ? '+' : ''}${r.contribution.toFixed(2)})`);
  return out;
}

export function stamp(f: Findings, mainClass: MainClass, hit: ListHit | undefined, tags: string[], enabled: boolean, authservId: string): HeaderEdits {
  const edits: HeaderEdits = { prepend: [...(f.auth?.headers ?? [])], remove: STAMP_HEADERS, removeAuthResultsOf: authservId };
  if (enabled) {
    if (f.spam && f.spam.classHint !== 'Unknown') edits.prepend.push(['X-Mailmoat-Spam-Score', formatScore(f.spam.score)]);
    edits.prepend.push(['X-Mailmoat-Class', mainClass]);
    const reasons = reasonList(f, hit);
    if (reasons.length) edits.prepend.push(['X-Mailmoat-Reasons', fold('X-Mailmoat-Reasons', reasons)]);
  }
  if (tags.length) edits.subjectPrefix = tags.join(' ');
  return edits;
}
