// Rendering of reports and of the pages an action link shows, in Japanese or English from the
// shared catalog (appliance/i18n/catalog.ts). Report HTML is written for mail clients: layout
// tables, inline styles only, no scripts, no images, no remote resources, and a plain-text twin
// carrying the same links. Every value from a message (subject, sender) is escaped. The domain
// report's graph is inline SVG from the statistics' renderer (a client that drops SVG still has the
// totals table above it) and the same chart drawn as vectors in the PDF.
import { translate, type Language, type MessageKey } from '../i18n/catalog.ts';
import type { ReportAction } from '../config/schema.ts';
import { barChartSvg, PALETTE, type BarChart } from '../stats/svg-chart.ts';
import type { DocumentTable, ReportDocument } from './pdf.ts';

export interface ReportLink { action: ReportAction; url: string }

export interface ReportItem {
  at: number;
  from: string;
  to: string;
  subject: string;
  mainClass: string;
  score?: number;
  links: ReportLink[];
}

/** A message refused at SMTP (5xx) or deferred (4xx), from the message log: the "extra table". */
export interface RefusedItem {
  at: number;
  from: string;
  to: string;
  subject: string;
  status: string;
  reply: string;
}

export interface DigestView {
  language: Language;
  zone: string;
  hostname: string;
  address: string;
  since: number;
  until: number;
  /** Set for the retention-horizon variant (everything held from the last N days). */
  horizonDays?: number;
  items: ReportItem[];
  openUrl?: string;
  unsubscribeUrl?: string;
  linksUntil: number;
  /** Set when the extra table is included. */
  refused?: RefusedItem[];
}

export interface Totals { received: number; delivered: number; quarantined: number; rejected: number; spam: number; virus: number }

export interface DomainReportView {
  language: Language;
  zone: string;
  hostname: string;
  domain: string;
  since: number;
  until: number;
  totals: Totals;
  /** Undefined when the report is sent without the held messages. */
  items?: ReportItem[];
  held: number;
  linksUntil: number;
  /** Set when the extra table is included. */
  refused?: RefusedItem[];
  /** The period bucket by bucket (hours for a day, local days for longer), for the graph. */
  timeline?: { at: number; unit: 'hour' | 'day'; totals: Totals }[];
}

export interface Rendered { subject: string; html: string; text: string; document?: ReportDocument }

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));

// Building a DateTimeFormat costs far more than formatting with one: one per zone and language.
const formats = new Map<string, Intl.DateTimeFormat>();
export function formatTime(ms: number, zone: string, language: Language): string {
  let f = formats.get(`${zone} ${language}`);
  if (!f) {
    f = new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(`${zone} ${language}`, f);
  }
  return f.format(ms);
}

const FONT = "font-family:Helvetica,Arial,'Hiragino Sans','Meiryo',sans-serif";
const CELL = 'padding:6px 8px;border-bottom:1px solid #dde3ea;vertical-align:top;font-size:13px;color:#1d2733';
const HEAD = 'padding:6px 8px;border-bottom:2px solid #9aa8b8;text-align:left;font-size:12px;color:#44546a;background:#eef2f6';
const BUTTON = 'display:inline-block;margin:2px 4px 2px 0;padding:3px 8px;border:1px solid #2f6fb2;border-radius:3px;color:#2f6fb2;text-decoration:none;font-size:12px;white-space:nowrap';

const actionLabel = (lang: Language, a: ReportAction) => translate(lang, `quarantine.action.${a}` as MessageKey);

function page(title: string, body: string, lang: Language): string {
  return `<!DOCTYPE html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title></head>
<body style="margin:0;padding:0;background:#f4f6f8">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f6f8;${FONT}"><tr><td align="center" style="padding:16px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:960px;background:#ffffff;border:1px solid #dde3ea">
<tr><td style="padding:16px 20px;background:#1f3b5a;color:#ffffff;font-size:18px;font-weight:bold;${FONT}">${esc(title)}</td></tr>
<tr><td style="padding:16px 20px;font-size:14px;color:#1d2733;line-height:1.5;${FONT}">${body}</td></tr>
</table></td></tr></table></body></html>
`;
}

function itemsTable(lang: Language, zone: string, items: ReportItem[], withTo: boolean): string {
  const t = (k: MessageKey) => esc(translate(lang, k));
  const head = ['report.col.date', 'report.col.from', ...(withTo ? ['report.col.to'] : []), 'report.col.subject', 'report.col.class', 'report.col.score', 'report.col.actions'] as MessageKey[];
  const rows = items.map((i) => `<tr>
<td style="${CELL};white-space:nowrap">${esc(formatTime(i.at, zone, lang))}</td>
<td style="${CELL};word-break:break-all">${esc(i.from || '<>')}</td>${withTo ? `\n<td style="${CELL};word-break:break-all">${esc(i.to)}</td>` : ''}
<td style="${CELL}">${esc(i.subject)}</td>
<td style="${CELL}">${esc(i.mainClass)}</td>
<td style="${CELL};text-align:right">${i.score === undefined ? '' : `${Math.round(i.score)}%`}</td>
<td style="${CELL}">${i.links.map((l) => `<a href="${esc(l.url)}" style="${BUTTON}">${esc(actionLabel(lang, l.action))}</a>`).join('')}</td>
</tr>`).join('\n');
  return `<table width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:12px 0;${FONT}">
<tr>${head.map((k) => `<th style="${HEAD}">${t(k)}</th>`).join('')}</tr>
${rows}
</table>`;
}

function itemsText(lang: Language, zone: string, items: ReportItem[], withTo: boolean): string {
  return items.map((i) => [
    `- ${formatTime(i.at, zone, lang)}  ${i.from || '<>'}${withTo ? ` -> ${i.to}` : ''}`,
    `  ${translate(lang, 'report.col.subject')}: ${i.subject}`,
    `  ${translate(lang, 'report.col.class')}: ${i.mainClass}${i.score === undefined ? '' : ` (${Math.round(i.score)}%)`}`,
    ...i.links.map((l) => `  ${actionLabel(lang, l.action)}: ${l.url}`),
  ].join('\n')).join('\n\n');
}

function refusedTable(lang: Language, zone: string, items: RefusedItem[]): string {
  const t = (k: MessageKey) => esc(translate(lang, k));
  const head: MessageKey[] = ['report.col.date', 'report.col.from', 'report.col.to', 'report.col.subject', 'report.col.status', 'report.col.reply'];
  const heading = `<h2 style="margin:16px 0 4px;font-size:15px">${t('report.refused.heading')} (${items.length})</h2>`;
  if (!items.length) return `${heading}\n<p style="margin:8px 0;color:#44546a">${t('report.refused.empty')}</p>`;
  const rows = items.map((i) => `<tr>
<td style="${CELL};white-space:nowrap">${esc(formatTime(i.at, zone, lang))}</td>
<td style="${CELL};word-break:break-all">${esc(i.from || '<>')}</td>
<td style="${CELL};word-break:break-all">${esc(i.to)}</td>
<td style="${CELL}">${esc(i.subject)}</td>
<td style="${CELL}">${esc(i.status)}</td>
<td style="${CELL};font-size:12px">${esc(i.reply)}</td>
</tr>`).join('\n');
  return `${heading}
<table width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:12px 0;${FONT}">
<tr>${head.map((k) => `<th style="${HEAD}">${t(k)}</th>`).join('')}</tr>
${rows}
</table>`;
}

function refusedText(lang: Language, zone: string, items: RefusedItem[]): string[] {
  return [
    `${translate(lang, 'report.refused.heading')} (${items.length})`,
    items.length ? items.map((i) => `- ${formatTime(i.at, zone, lang)}  ${i.from || '<>'} -> ${i.to}\n  ${translate(lang, 'report.col.subject')}: ${i.subject}\n  ${i.status}: ${i.reply}`).join('\n\n') : translate(lang, 'report.refused.empty'),
    '',
  ];
}

function itemsDocTable(lang: Language, zone: string, heading: string, items: ReportItem[], withTo: boolean): DocumentTable {
  const t = (k: MessageKey) => translate(lang, k);
  return {
    heading, empty: t('report.digest.empty'),
    columns: [t('report.col.date'), t('report.col.from'), ...(withTo ? [t('report.col.to')] : []), t('report.col.subject'), t('report.col.class'), t('report.col.score')],
    widths: [2, 3, ...(withTo ? [3] : []), 6, 1.3, 1],
    rows: items.map((i) => ({
      cells: [formatTime(i.at, zone, lang), i.from || '<>', ...(withTo ? [i.to] : []), i.subject, i.mainClass, i.score === undefined ? '' : `${Math.round(i.score)}%`],
      links: i.links.map((l) => ({ label: actionLabel(lang, l.action), url: l.url })),
    })),
  };
}

function refusedDocTable(lang: Language, zone: string, items: RefusedItem[]): DocumentTable {
  const t = (k: MessageKey) => translate(lang, k);
  return {
    heading: `${t('report.refused.heading')} (${items.length})`, empty: t('report.refused.empty'),
    columns: [t('report.col.date'), t('report.col.from'), t('report.col.to'), t('report.col.subject'), t('report.col.status'), t('report.col.reply')],
    widths: [2, 3, 3, 5, 1.5, 4],
    rows: items.map((i) => ({ cells: [formatTime(i.at, zone, lang), i.from || '<>', i.to, i.subject, i.status, i.reply] })),
  };
}

export function renderDigest(v: DigestView): Rendered {
  const lang = v.language;
  const t = (k: MessageKey, p?: Record<string, string | number>) => translate(lang, k, p);
  const intro = v.horizonDays
    ? t('report.digest.horizonIntro', { address: v.address, days: v.horizonDays, zone: v.zone })
    : t('report.digest.intro', { address: v.address, since: formatTime(v.since, v.zone, lang), until: formatTime(v.until, v.zone, lang), zone: v.zone });
  const linksUntil = t('report.linksValid', { date: formatTime(v.linksUntil, v.zone, lang) });
  const footer = t('report.footer', { hostname: v.hostname });
  const html = page(t('report.digest.title'), [
    `<p style="margin:0 0 8px">${esc(intro)}</p>`,
    v.items.length ? itemsTable(lang, v.zone, v.items, false) : `<p style="margin:12px 0;color:#44546a">${esc(t('report.digest.empty'))}</p>`,
    v.refused ? refusedTable(lang, v.zone, v.refused) : '',
    v.openUrl ? `<p style="margin:12px 0"><a href="${esc(v.openUrl)}" style="${BUTTON};font-size:14px;padding:6px 12px;background:#2f6fb2;color:#ffffff">${esc(t('report.openQuarantine'))}</a></p>` : '',
    `<p style="margin:12px 0 4px;font-size:12px;color:#44546a">${esc(linksUntil)}</p>`,
    v.unsubscribeUrl ? `<p style="margin:4px 0;font-size:12px"><a href="${esc(v.unsubscribeUrl)}" style="color:#44546a">${esc(t('report.unsubscribe'))}</a></p>` : '',
    `<p style="margin:4px 0;font-size:12px;color:#6b7a8c">${esc(footer)}</p>`,
  ].join('\n'), lang);
  const text = [
    t('report.digest.title'), '', intro, '',
    v.items.length ? itemsText(lang, v.zone, v.items, false) : t('report.digest.empty'), '',
    ...(v.refused ? refusedText(lang, v.zone, v.refused) : []),
    ...(v.openUrl ? [`${t('report.openQuarantine')}: ${v.openUrl}`, ''] : []),
    linksUntil,
    ...(v.unsubscribeUrl ? [`${t('report.unsubscribe')} ${v.unsubscribeUrl}`] : []),
    footer, '',
  ].join('\n');
  const document: ReportDocument = {
    title: t('report.digest.title'), paragraphs: [intro],
    tables: [itemsDocTable(lang, v.zone, `${t('report.domain.held')} (${v.items.length})`, v.items, false), ...(v.refused ? [refusedDocTable(lang, v.zone, v.refused)] : [])],
    footer: [linksUntil, footer],
  };
  return { subject: t('report.digest.subject', { address: v.address, count: v.items.length }), html, text, document };
}

const TOTALS: (keyof Totals)[] = ['received', 'delivered', 'quarantined', 'rejected', 'spam', 'virus'];
// What became of the mail, stacked: together they make up what was received.
const GRAPHED: (keyof Totals)[] = ['delivered', 'quarantined', 'rejected'];

const bucketFormats = new Map<string, Intl.DateTimeFormat>();
function bucketLabel(at: number, unit: 'hour' | 'day', zone: string, language: Language): string {
  const key = `${zone} ${language} ${unit}`;
  let f = bucketFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', unit === 'hour'
      ? { timeZone: zone, hour: '2-digit', hourCycle: 'h23' } : { timeZone: zone, month: 'numeric', day: 'numeric' });
    bucketFormats.set(key, f);
  }
  return f.format(at);
}

/** The domain report's graph: delivered, quarantined and refused mail per hour or day. */
function timelineChart(v: DomainReportView, label: (k: keyof Totals) => string): BarChart | undefined {
  if (!v.timeline?.length) return undefined;
  const timeline = v.timeline;
  return {
    title: translate(v.language, 'report.domain.graph'),
    labels: timeline.map((b) => bucketLabel(b.at, b.unit, v.zone, v.language)),
    series: GRAPHED.map((k, i) => ({ name: label(k), color: PALETTE[i], values: timeline.map((b) => b.totals[k]) })),
    width: 640,
    height: 220,
  };
}

export function renderDomainReport(v: DomainReportView): Rendered {
  const lang = v.language;
  const t = (k: MessageKey, p?: Record<string, string | number>) => translate(lang, k, p);
  const intro = t('report.domain.intro', { domain: v.domain, since: formatTime(v.since, v.zone, lang), until: formatTime(v.until, v.zone, lang), zone: v.zone });
  const label = (k: keyof Totals) => t(`report.total.${k}` as MessageKey);
  const totals = `<table cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:8px 0;${FONT}">
${TOTALS.map((k) => `<tr><td style="${CELL}">${esc(label(k))}</td><td style="${CELL};text-align:right;font-weight:bold">${v.totals[k]}</td></tr>`).join('\n')}
</table>`;
  const chart = timelineChart(v, label);
  const linksUntil = t('report.linksValid', { date: formatTime(v.linksUntil, v.zone, lang) });
  const footer = t('report.footer', { hostname: v.hostname });
  const html = page(t('report.domain.title', { domain: v.domain }), [
    `<p style="margin:0 0 8px">${esc(intro)}</p>`,
    `<h2 style="margin:12px 0 4px;font-size:15px">${esc(t('report.domain.totals'))}</h2>`, totals,
    chart ? `<div style="margin:8px 0;max-width:640px">${barChartSvg(chart)}</div>` : '',
    `<h2 style="margin:16px 0 4px;font-size:15px">${esc(t('report.domain.held'))} (${v.held})</h2>`,
    v.items === undefined ? `<p style="margin:8px 0;color:#44546a">${esc(t('report.domain.withoutMessages'))}</p>`
      : v.items.length ? itemsTable(lang, v.zone, v.items, true) : `<p style="margin:8px 0;color:#44546a">${esc(t('report.digest.empty'))}</p>`,
    v.refused ? refusedTable(lang, v.zone, v.refused) : '',
    v.items?.length ? `<p style="margin:12px 0 4px;font-size:12px;color:#44546a">${esc(linksUntil)}</p>` : '',
    `<p style="margin:4px 0;font-size:12px;color:#6b7a8c">${esc(footer)}</p>`,
  ].join('\n'), lang);
  const text = [
    t('report.domain.title', { domain: v.domain }), '', intro, '',
    t('report.domain.totals'), ...TOTALS.map((k) => `  ${label(k)}: ${v.totals[k]}`), '',
    `${t('report.domain.held')} (${v.held})`,
    v.items === undefined ? t('report.domain.withoutMessages') : v.items.length ? itemsText(lang, v.zone, v.items, true) : t('report.digest.empty'), '',
    ...(v.refused ? refusedText(lang, v.zone, v.refused) : []),
    ...(v.items?.length ? [linksUntil] : []),
    footer, '',
  ].join('\n');
  const document: ReportDocument = {
    title: t('report.domain.title', { domain: v.domain }),
    paragraphs: [intro, `${t('report.domain.totals')}: ${TOTALS.map((k) => `${label(k)} ${v.totals[k]}`).join(' / ')}`, ...(v.items === undefined ? [t('report.domain.withoutMessages')] : [])],
    ...(chart ? { charts: [chart] } : {}),
    tables: [
      ...(v.items ? [itemsDocTable(lang, v.zone, `${t('report.domain.held')} (${v.held})`, v.items, true)] : []),
      ...(v.refused ? [refusedDocTable(lang, v.zone, v.refused)] : []),
    ],
    footer: [...(v.items?.length ? [linksUntil] : []), footer],
  };
  return { subject: t('report.domain.subject', { domain: v.domain, count: v.held }), html, text, document };
}

export interface WelcomeView {
  language: Language;
  zone: string;
  hostname: string;
  address: string;
  times: string[];
  unsubscribeUrl: string;
  subscribeUrl: string;
}

/** The explanation a mailbox gets before its first digest (the scout report's welcome mail). */
export function renderWelcome(v: WelcomeView): Rendered {
  const t = (k: MessageKey, p?: Record<string, string | number>) => translate(v.language, k, p);
  const text = t('report.welcome.text', { hostname: v.hostname, address: v.address, times: v.times.join(', '), zone: v.zone });
  const footer = t('report.footer', { hostname: v.hostname });
  const html = page(t('report.welcome.title'), [
    `<p style="margin:0 0 12px">${esc(text)}</p>`,
    `<p style="margin:8px 0;font-size:13px"><a href="${esc(v.unsubscribeUrl)}" style="color:#2f6fb2">${esc(t('report.welcome.stop'))}</a></p>`,
    `<p style="margin:8px 0;font-size:13px"><a href="${esc(v.subscribeUrl)}" style="color:#2f6fb2">${esc(t('report.welcome.resubscribe'))}</a></p>`,
    `<p style="margin:12px 0 0;font-size:12px;color:#6b7a8c">${esc(footer)}</p>`,
  ].join('\n'), v.language);
  return {
    subject: t('report.welcome.subject', { address: v.address }), html,
    text: [t('report.welcome.title'), '', text, '', `${t('report.welcome.stop')}: ${v.unsubscribeUrl}`, `${t('report.welcome.resubscribe')}: ${v.subscribeUrl}`, '', footer, ''].join('\n'),
  };
}

/** The small page an action link shows: a question with one button (a POST form), or an answer. */
export function linkPage(o: { language: Language; message: string; form?: { action: string; button: string }; extra?: { href: string; text: string }; status?: 'ok' | 'error' }): string {
  const t = (k: MessageKey) => translate(o.language, k);
  const colour = o.status === 'error' ? '#9b1c1c' : '#1d2733';
  return page(t('link.title'), [
    `<p style="margin:0 0 12px;color:${colour}">${esc(o.message)}</p>`,
    o.form ? `<form method="post" action="${esc(o.form.action)}" style="margin:12px 0"><button type="submit" style="padding:8px 16px;font-size:14px;border:1px solid #2f6fb2;border-radius:3px;background:#2f6fb2;color:#ffffff;cursor:pointer">${esc(o.form.button)}</button></form>` : '',
    o.extra ? `<p style="margin:12px 0;font-size:13px"><a href="${esc(o.extra.href)}" style="color:#2f6fb2">${esc(o.extra.text)}</a></p>` : '',
  ].join('\n'), o.language);
}
