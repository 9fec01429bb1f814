// The statistics graphs in the console: an answer of GET /api/stats drawn by the shared SVG
// renderer (appliance/stats/svg-chart.ts, the one reports use), with bucket labels in the zone the
// buckets were counted in and series names from the catalog. The SVG comes from our own renderer,
// which escapes every text it draws, so it is inserted as markup. Besides the stacked counters:
// the queue's and quarantine's sampled sizes and the spam-score histogram, one series each, drawn
// the same way on the statistics page and the dashboard.
import { html, type TemplateResult } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { localTime } from '../../appliance/stats/calendar.ts';
import type { Counter, Counts } from '../../appliance/stats/counters.ts';
import { barChartSvg, PALETTE } from '../../appliance/stats/svg-chart.ts';
import type { StatisticsScores, StatisticsSeries } from '../../appliance/api/providers/interfaces.ts';
import type { MessageKey } from '../../appliance/i18n/catalog.ts';
import { lang, t } from './i18n.ts';

/** An answer of GET /api/stats (the API's own type). */
export type Series = StatisticsSeries;

/** The graphs the page draws, each a stack of counters. */
export const OUTCOMES: Counter[] = ['delivered', 'quarantined', 'rejected', 'deleted', 'bounced', 'refusedRcpt', 'oversize'];
export const TRAFFIC: Counter[] = ['received', 'outbound'];
export const THREATS: Counter[] = ['spam', 'phish', 'virus', 'blocked'];

const pad = (n: number) => String(n).padStart(2, '0');

/** A bucket's label in the series' zone: 13:00, 11/30 (or 11/30 13:00 by hour over a week), 2026-11. */
export function bucketLabel(s: Series, iso: string): string {
  const l = localTime(Date.parse(iso), s.zone);
  const time = `${pad(l.hour)}:${pad(l.minute)}`;
  if (s.step === 'hour') return s.period === 'week' ? `${l.month}/${l.day} ${time}` : time;
  if (s.step === 'day') return `${l.month}/${l.day}`;
  return lang() === 'ja' ? `${l.month}月` : `${l.year}-${pad(l.month)}`;
}

export function counterName(c: Counter): string {
  return t(`stats.c.${c}` as MessageKey);
}

/** One series drawn alone (a size over time, a histogram). */
export function singleChart(title: string, labels: string[], name: string, values: number[], color = PALETTE[0]): TemplateResult {
  const svg = barChartSvg({
    title, labels, series: [{ name, color, values }],
    formatValue: (n) => n.toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-US'),
  });
  return html`<figure class="chart">${unsafeHTML(svg)}</figure>`;
}

export function chart(s: Series, counters: Counter[], title: string, size: { width?: number; height?: number } = {}): TemplateResult {
  const svg = barChartSvg({
    title,
    labels: s.points.map((p) => bucketLabel(s, p.start)),
    series: counters.map((c, i) => ({ name: counterName(c), color: PALETTE[i % PALETTE.length], values: s.points.map((p) => p.counts[c]) })),
    ...size,
    formatValue: (n) => n.toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-US'),
  });
  return html`<figure class="chart">${unsafeHTML(svg)}</figure>`;
}

/** Whether the series has the queue's samples (the whole box's only). */
export const hasQueue = (s: Series): boolean => s.points.some((p) => p.gauges?.average.queue !== undefined);

/**
 * The queue's (the whole box only) and the quarantine's sampled average per bucket, a chart each,
 * titled with `range`; undefined when nothing was sampled in the series.
 */
export function sizeCharts(s: Series, range: string): TemplateResult | undefined {
  if (!s.points.some((p) => p.gauges)) return undefined;
  const labels = s.points.map((p) => bucketLabel(s, p.start));
  const values = (g: 'queue' | 'quarantined') => s.points.map((p) => p.gauges?.average[g] ?? 0);
  return html`${hasQueue(s) ? singleChart(`${t('stats.g.queue')} — ${range}`, labels, t('stats.g.queue'), values('queue'), '#546e7a') : ''}
    ${singleChart(`${t('stats.g.quarantined')} — ${range}`, labels, t('stats.g.quarantined'), values('quarantined'), '#f5a623')}`;
}

/** The spam-score histogram: messages per bin of `binWidth` points over the answer's days. */
export function scoreChart(sc: StatisticsScores): TemplateResult {
  const labels = sc.bins.map((_, i) => String(i * sc.binWidth));
  return singleChart(`${t('stats.scores')} — ${sc.firstDay} – ${sc.lastDay}`, labels, t('stats.scores.messages'), sc.bins, '#c62828');
}
