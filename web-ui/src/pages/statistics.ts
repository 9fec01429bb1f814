// Statistics: the mail of a day (by hour), a week (by day), a month (by day) or a year (by month)
// for the whole appliance or one domain (a domain admin: their domains together or one of them),
// as stacked bar graphs — outcomes, traffic, threats —, the queue's and quarantine's size over
// the period (sampled; the queue for the whole box only), the spam-score histogram, a top-20 table
// (senders, sender domains, recipients, client IPs or virus names), the totals, the numbers behind
// the graphs and a CSV of each. Earlier / Later page by whole periods. Buckets are in the zone the
// answer names (the domain's, or the appliance's).
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import type { SessionUser } from '../app.ts';
import { query } from '../dates.ts';
import { describeFailure } from '../failure.ts';
import { field } from '../field.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { bucketLabel, chart, counterName, hasQueue as sampledQueue, OUTCOMES, scoreChart, sizeCharts, THREATS, TRAFFIC, type Series } from '../stats-chart.ts';
import { formatSize } from '../format.ts';
import { shared } from '../styles.ts';
import type { Counter } from '../../../appliance/stats/counters.ts';
import { TOP_KINDS, type TopKind } from '../../../appliance/stats/top.ts';
import type { StatisticsScores, StatisticsTop } from '../../../appliance/api/providers/interfaces.ts';
import type { MessageKey } from '../../../appliance/i18n/catalog.ts';

const PERIODS = ['day', 'week', 'month', 'year'] as const;
const TABLE: Counter[] = ['received', 'outbound', 'delivered', 'tagged', 'deferred', 'quarantined', 'rejected', 'deleted', 'bounced', 'refusedRcpt', 'oversize', 'spam', 'phish', 'virus', 'blocked'];
const BYTES: Counter[] = ['receivedBytes', 'outboundBytes'];

const TOP_ROWS = 20;

export class MmStatistics extends I18nElement {
  static override properties = {
    user: { attribute: false }, series: { state: true }, domains: { state: true }, banner: { state: true }, scores: { state: true }, top: { state: true },
  };
  declare user: SessionUser | undefined;
  declare series: Series | null;
  declare scores: StatisticsScores | null;
  declare top: StatisticsTop | null;
  declare domains: string[];
  declare banner: string | null;
  period: (typeof PERIODS)[number] = 'day';
  date = '';
  domain = '';
  kind: TopKind = 'sender';
  static override styles = [shared];

  constructor() {
    super();
    this.series = null;
    this.scores = null;
    this.top = null;
    this.domains = [];
    this.banner = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void api<{ items: { name: string }[] }>('GET', '/api/domains').then((r) => { this.domains = r.items.map((d) => d.name); }).catch(() => undefined);
    void this.#load();
  }

  #params(): Record<string, string | undefined> {
    return { period: this.period, date: this.date || undefined, domain: this.domain || undefined };
  }

  #topParams(): Record<string, string | undefined> {
    return { ...this.#params(), kind: this.kind, limit: String(TOP_ROWS) };
  }

  async #load(ev?: Event): Promise<void> {
    ev?.preventDefault();
    try {
      [this.series, this.scores, this.top] = await Promise.all([
        api<Series>('GET', `/api/stats${query(this.#params())}`),
        api<StatisticsScores>('GET', `/api/stats/scores${query(this.#params())}`),
        api<StatisticsTop>('GET', `/api/stats/top${query(this.#topParams())}`),
      ]);
      this.banner = null;
    } catch (err) { this.banner = describeFailure(err).text; }
  }

  async #loadTop(kind: TopKind): Promise<void> {
    this.kind = kind;
    try {
      this.top = await api<StatisticsTop>('GET', `/api/stats/top${query(this.#topParams())}`);
      this.banner = null;
    } catch (err) { this.banner = describeFailure(err).text; }
  }

  /** The queue (the whole box only) and the quarantine over the period, as sampled. */
  #sizes(s: Series) {
    return html`<section class="card"><h2 class="flush-top">${t('stats.sizes')}</h2>
      ${sizeCharts(s, this.#range(s)) ?? html`<p class="muted">${t('stats.sizes.none')}</p>`}
    </section>`;
  }

  #scores(sc: StatisticsScores) {
    return html`<section class="card"><h2 class="flush-top">${t('stats.scores')}</h2>
      <p class="muted">${t('stats.scores.note', { first: sc.firstDay, last: sc.lastDay })}</p>
      ${scoreChart(sc)}
      <div class="actions"><a class="button secondary" href=${`/api/stats/scores/export${query(this.#params())}`} download>${t('stats.exportScores')}</a></div>
    </section>`;
  }

  #top(top: StatisticsTop, num: (n: number) => string) {
    const name = t(`stats.top.${top.kind}` as MessageKey);
    const approximate = top.items.some((i) => i.error > 0);
    return html`<section class="card"><h2 class="flush-top">${t('stats.top', { n: TOP_ROWS })}</h2>
      <div class="row">${field({ label: t('stats.top.kind'), value: this.kind, options: TOP_KINDS.map((k) => ({ value: k, label: t(`stats.top.${k}` as MessageKey) })),
        onInput: (v) => { void this.#loadTop(v as TopKind); } })}</div>
      ${top.items.length ? html`<div class="table-wrap"><table aria-label=${name}>
        <thead><tr><th>#</th><th>${name}</th><th>${t('stats.top.count')}</th></tr></thead>
        <tbody>${top.items.map((i, n) => html`<tr><td>${n + 1}</td><td>${i.value}</td><td>${num(i.count)}${i.error ? ` ±${num(i.error)}` : ''}</td></tr>`)}</tbody>
      </table></div>
      ${approximate ? html`<p class="muted">${t('stats.top.approximate')}</p>` : nothing}` : html`<p class="muted">${t('stats.top.none')}</p>`}
      <div class="actions"><a class="button secondary" href=${`/api/stats/top/export${query(this.#topParams())}`} download>${t('stats.exportTop')}</a></div>
    </section>`;
  }

  #page(date: string | undefined): void {
    if (!date) return;
    this.date = date;
    void this.#load();
  }

  #range(s: Series): string {
    const fmt = new Intl.DateTimeFormat(lang() === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: s.zone, year: 'numeric', month: 'short', day: 'numeric' });
    const last = new Date(Date.parse(s.end) - 1);
    return s.period === 'day' ? fmt.format(new Date(s.start)) : t('stats.range', { start: fmt.format(new Date(s.start)), end: fmt.format(last) });
  }

  override render() {
    const s = this.series;
    const admin = this.user?.role === 'admin';
    const num = (n: number) => n.toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-US');
    const hasQueue = !!s && sampledQueue(s);
    const gauge = (p: Series['points'][number], g: 'queue' | 'quarantined') =>
      (p.gauges?.average[g] === undefined ? '' : `${num(p.gauges.average[g])} / ${num(p.gauges.peak[g] ?? 0)}`);
    return html`<h1>${t('stats.title')}</h1>
      <form @submit=${(e: Event) => this.#load(e)}><section class="card"><div class="row">
        ${field({ label: t('stats.period'), value: this.period, options: PERIODS.map((p) => ({ value: p, label: t(`stats.period.${p}`) })),
          onInput: (v) => { this.period = v as typeof this.period; void this.#load(); } })}
        ${field({ label: t('stats.date'), type: 'date', value: this.date, onInput: (v) => { this.date = v; } })}
        ${field({ label: t('stats.domain'), value: this.domain,
          options: [{ value: '', label: admin ? t('stats.wholeAppliance') : t('stats.allMyDomains') }, ...this.domains.map((d) => ({ value: d, label: d }))],
          onInput: (v) => { this.domain = v; void this.#load(); } })}
      </div><div class="actions">
        <button type="submit">${t('stats.show')}</button>
        <button type="button" class="secondary" ?disabled=${!s?.previous} @click=${() => this.#page(s?.previous)}>${t('stats.previous')}</button>
        <button type="button" class="secondary" ?disabled=${!s?.next} @click=${() => this.#page(s?.next)}>${t('stats.next')}</button>
        <a class="button secondary" href=${`/api/stats/export${query(this.#params())}`} download>${t('stats.export')}</a>
      </div></section></form>
      ${this.banner ? html`<p class="banner error" role="alert">${this.banner}</p>` : nothing}
      ${s ? html`
        <p><strong>${this.#range(s)}</strong> · <span class="muted">${t('stats.timesIn', { zone: s.zone })}</span></p>
        <section class="card"><h2 class="flush-top">${t('stats.outcomes')}</h2>${chart(s, OUTCOMES, `${t('stats.outcomes')} — ${this.#range(s)}`)}</section>
        <section class="card"><h2 class="flush-top">${t('stats.traffic')}</h2>${chart(s, TRAFFIC, `${t('stats.traffic')} — ${this.#range(s)}`)}</section>
        <section class="card"><h2 class="flush-top">${t('stats.threats')}</h2>${chart(s, THREATS, `${t('stats.threats')} — ${this.#range(s)}`)}</section>
        ${this.#sizes(s)}
        ${this.scores ? this.#scores(this.scores) : nothing}
        ${this.top ? this.#top(this.top, num) : nothing}
        <section class="card"><h2 class="flush-top">${t('stats.totals')}</h2><table aria-label=${t('stats.totals')}><tbody>
          ${TABLE.map((c) => html`<tr><th>${counterName(c)}</th><td>${num(s.totals[c])}</td></tr>`)}
          ${BYTES.map((c) => html`<tr><th>${counterName(c)}</th><td>${formatSize(s.totals[c])}</td></tr>`)}
        </tbody></table>
        <details><summary>${t('stats.numbers')}</summary><div class="table-wrap"><table class="cards" aria-label=${t('stats.numbers')}>
          <thead><tr><th>${t('stats.bucket')}</th>${TABLE.map((c) => html`<th>${counterName(c)}</th>`)}
            ${hasQueue ? html`<th>${t('stats.g.queuePeak')}</th>` : nothing}<th>${t('stats.g.quarantinePeak')}</th></tr></thead>
          <tbody>${s.points.map((p) => html`<tr><td><strong>${bucketLabel(s, p.start)}</strong></td>${TABLE.map((c) => html`<td data-label=${counterName(c)}>${num(p.counts[c])}</td>`)}
            ${hasQueue ? html`<td data-label=${t('stats.g.queuePeak')}>${gauge(p, 'queue')}</td>` : nothing}<td data-label=${t('stats.g.quarantinePeak')}>${gauge(p, 'quarantined')}</td></tr>`)}</tbody>
        </table></div></details></section>` : html`<p>${t('common.loading')}</p>`}`;
  }
}
customElements.define('mm-statistics', MmStatistics);
