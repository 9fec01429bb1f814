// Saved message-log searches mailed on a schedule (the hosted filter's "email this search").
// A saved search belongs to one console account and is run with that account's scope *as it is
// when the mail goes out* (a domain admin who lost a domain stops receiving its mail; a disabled
// or deleted account's searches send nothing). Each mailing lists what the search finds among
// the mail received since the previous mailing (the stored run, as for digests), as a CSV
// attachment (the console's export columns) or an HTML table, in the owner's language. Its
// recipients must lie in the owner's scope: a mailbox user mails only themself, a domain admin
// only addresses in their domains; the check is made when saving and again at every mailing.
// A deleted account's searches are deleted at the next scheduler pass.
import type { LogField } from '../logsearch/log-index.ts';
import type { Language, MessageKey } from '../i18n/catalog.ts';
import { translate } from '../i18n/catalog.ts';
import { toCsv } from '../csv/csv.ts';
import { formatTime, type Rendered } from './render.ts';
import type { Schedule } from './schedule.ts';

/** Whose mail a search sees: everything, some domains, or one mailbox (as the console's scopes). */
export type Scope = { all: true } | { domains: string[] } | { address: string };

/** A message log record as the console's search gives it (api/providers LogItem, as far as reports read it). */
export interface LogItem {
  id: string;
  receivedAt: string;
  direction: string;
  sender: string;
  from?: string;
  recipients: { address: string; status: string; class?: string }[];
  subject: string;
  status: string;
  reply?: string;
  delivery?: { reply: string };
}

/** The console's message log search (api/providers/message-log.ts), which applies the scope. */
export interface LogSearch {
  search(q: {
    scope: Scope; fields: Partial<Record<LogField, string>>; match: 'all' | 'any'; mode: 'exact' | 'contains';
    from?: number; to?: number; limit: number; after?: string;
  }): Promise<{ items: LogItem[]; resume?: string }>;
}

function addressInScope(scope: Scope, address: string): boolean {
  const a = address.toLowerCase();
  if ('all' in scope) return true;
  if ('domains' in scope) return scope.domains.includes(a.slice(a.lastIndexOf('@') + 1));
  return scope.address.toLowerCase() === a;
}

export interface SavedSearch {
  id: string;
  /** The owning account's id. */
  owner: string;
  name: string;
  query: { fields: Partial<Record<LogField, string>>; match: 'all' | 'any'; mode: 'exact' | 'contains' };
  format: 'csv' | 'html';
  schedule: Schedule;
  recipients: string[];
  createdAt: number;
}

/** The account a saved search runs as (appliance/api/users.ts UserRecord, as far as this reads it). */
export interface SearchOwner {
  id: string;
  username: string;
  role: 'admin' | 'domain-admin' | 'user';
  domains: string[];
  language: Language;
  disabled: boolean;
}

export function ownerScope(o: SearchOwner): Scope {
  if (o.role === 'admin') return { all: true };
  if (o.role === 'domain-admin') return { domains: o.domains.map((d) => d.toLowerCase()) };
  return { address: o.username.toLowerCase() };
}

/** Recipients outside the owner's scope (empty when all may receive the search). */
export function recipientsOutOfScope(o: SearchOwner, recipients: string[]): string[] {
  const scope = ownerScope(o);
  return recipients.filter((r) => !addressInScope(scope, r));
}

/** Most messages one mailing lists; the mail says when there were more. */
export const SEARCH_MAIL_LIMIT = 5000;

const COLUMNS = ['receivedAt', 'id', 'direction', 'sender', 'from', 'recipients', 'subject', 'class', 'status', 'reply', 'deliveryStatus'] as const;

function csvCell(i: LogItem, c: typeof COLUMNS[number]): string {
  switch (c) {
    case 'recipients': return i.recipients.map((r) => r.address).join(' ');
    case 'class': return [...new Set(i.recipients.flatMap((r) => (r.class ? [r.class] : [])))].join(' ');
    case 'deliveryStatus': return i.delivery?.reply ?? '';
    default: return i[c] ?? '';
  }
}

/** The CSV file a mailing attaches: UTF-8 with a byte order mark, as the console's export. */
export function searchCsv(items: LogItem[]): Buffer {
  return Buffer.from(`\ufeff${toCsv([...COLUMNS], items.map((i) => COLUMNS.map((c) => csvCell(i, c))))}`, 'utf8');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
const CELL = 'padding:4px 6px;border-bottom:1px solid #dde3ea;vertical-align:top;font-size:12px;color:#1d2733';
const HEAD = 'padding:4px 6px;border-bottom:2px solid #9aa8b8;text-align:left;font-size:12px;color:#44546a;background:#eef2f6';
const FONT = "font-family:Helvetica,Arial,'Hiragino Sans','Meiryo',sans-serif";

export interface SearchMailView {
  language: Language;
  zone: string;
  hostname: string;
  name: string;
  since: number;
  until: number;
  items: LogItem[];
  truncated: boolean;
  format: 'csv' | 'html';
  file: string;
}

/** The mail of one run: HTML lists the messages; CSV says what is attached. */
export function renderSearchMail(v: SearchMailView): Rendered {
  const t = (k: MessageKey, p?: Record<string, string | number>) => translate(v.language, k, p);
  const intro = t('search.mail.intro', { name: v.name, since: formatTime(v.since, v.zone, v.language), until: formatTime(v.until, v.zone, v.language), zone: v.zone });
  const lines = [
    intro,
    v.items.length ? (v.format === 'csv' ? t('search.mail.csv', { count: v.items.length, file: v.file }) : '') : t('search.mail.empty'),
    v.truncated ? t('search.mail.truncated', { count: v.items.length }) : '',
  ].filter(Boolean);
  const footer = t('report.footer', { hostname: v.hostname });
  const head: MessageKey[] = ['report.col.date', 'report.col.from', 'report.col.to', 'report.col.subject', 'report.col.class', 'report.col.status'];
  const row = (i: LogItem) => [formatTime(Date.parse(i.receivedAt), v.zone, v.language), i.from || i.sender || '<>', i.recipients.map((r) => r.address).join(', '),
    i.subject, [...new Set(i.recipients.flatMap((r) => (r.class ? [r.class] : [])))].join(', '), i.status];
  const table = v.format === 'html' && v.items.length
    ? `<table width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:12px 0;${FONT}">
<tr>${head.map((k) => `<th style="${HEAD}">${esc(t(k))}</th>`).join('')}</tr>
${v.items.map((i) => `<tr>${row(i).map((c) => `<td style="${CELL}">${esc(c)}</td>`).join('')}</tr>`).join('\n')}
</table>` : '';
  const title = t('search.mail.title', { name: v.name });
  const html = `<!DOCTYPE html>
<html lang="${v.language}"><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body style="margin:0;padding:16px;background:#ffffff;${FONT};font-size:14px;color:#1d2733">
<h1 style="margin:0 0 12px;font-size:18px">${esc(title)}</h1>
${lines.map((l) => `<p style="margin:0 0 8px">${esc(l)}</p>`).join('\n')}
${table}
<p style="margin:12px 0 0;font-size:12px;color:#6b7a8c">${esc(footer)}</p>
</body></html>
`;
  const text = [title, '', ...lines, '',
    ...(v.format === 'html' ? v.items.map((i) => `- ${row(i).join('  ')}`) : []), '', footer, ''].join('\n');
  return { subject: t('search.mail.subject', { name: v.name, count: v.items.length }), html, text };
}
