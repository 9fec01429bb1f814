// Dashboard: mail flow of the last 24 h and, for admins and domain admins, the statistics' graphs
// of it (outcomes by hour, the queue's and quarantine's sampled size by hour, today's spam-score
// histogram, drawn like the statistics page's) with the numbers behind them in a table and as CSV;
// queue, quarantine size, services, disks, and the virus signatures' age with freshclam's last check.
// Below 600 px the services and the numbers are cards of labelled lines, as lists are elsewhere.
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { formatSize, stateText } from '../format.ts';
import { formatTime, ownZone, query } from '../dates.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import { bucketLabel, chart, counterName, hasQueue, OUTCOMES, scoreChart, sizeCharts, type Series } from '../stats-chart.ts';
import type { StatisticsScores } from '../../../appliance/api/providers/interfaces.ts';

/** The 24 hours' CSV and today's histogram's: the statistics API's own exports. */
const HOURS_CSV = `/api/stats/export${query({ period: '24h' })}`;
const SCORES_CSV = `/api/stats/scores/export${query({ period: 'day' })}`;

interface Dashboard {
  flow: Record<string, number> | null;
  quarantine: number | null;
  queue: { messages: number; deferred: number } | null;
  services: { name: string; state: string; detail?: string }[] | null;
  disks: { mount: string; sizeBytes: number; usedBytes: number; state: string }[] | null;
  signatures: { databases: { version: number }[]; newestAt?: string; ageSeconds?: number; stale: boolean } | null;
  freshclam: { lastRun?: { startedAt: string; ok: boolean; error?: string }; failingSince?: string; failuresInARow: number } | null;
}

export class MmDashboard extends I18nElement {
  static override properties = { data: { state: true }, hours: { state: true }, scores: { state: true }, user: { attribute: false } };
  declare data: Dashboard | null;
  declare hours: Series | null;
  declare scores: StatisticsScores | null;
  declare user: SessionUser | undefined;
  static override styles = [shared];
  constructor() {
    super();
    this.data = null;
    this.hours = null;
    this.scores = null;
  }
  override connectedCallback(): void {
    super.connectedCallback();
    void api<Dashboard>('GET', '/api/dashboard').then((d) => { this.data = d; });
    // Statistics are kept per domain: mailbox users have the numbers only.
    if (this.user && this.user.role !== 'user') {
      void api<Series>('GET', '/api/stats?period=24h').then((s) => { this.hours = s; }).catch(() => undefined);
      void api<StatisticsScores>('GET', '/api/stats/scores?period=day').then((s) => { this.scores = s; }).catch(() => undefined);
    }
  }
  override render() {
    const d = this.data;
    if (!d) return html`<h1>${t('dashboard.title')}</h1><p>${t('common.loading')}</p>`;
    const na = html`<p class="muted">${t('common.notAvailable')}</p>`;
    return html`<h1>${t('dashboard.title')}</h1>
      <section class="card"><h2>${t('dashboard.flow')}</h2>${d.flow ? html`<table><tbody>
        ${(['received', 'delivered', 'tagged', 'quarantined', 'rejected'] as const).map((k) => html`<tr><th>${t(`dashboard.${k}`)}</th><td>${d.flow![k] ?? 0}</td></tr>`)}
      </tbody></table>` : na}
      ${this.hours ? html`<h2>${t('dashboard.graph')}</h2>${chart(this.hours, OUTCOMES, t('dashboard.graph'), { height: 220 })}` : nothing}</section>
      <section class="card"><h2>${t('dashboard.quarantineSize')}</h2>${d.quarantine === null ? na : html`<p>${d.quarantine}</p>`}</section>
      ${d.queue ? html`<section class="card"><h2>${t('dashboard.queue')}</h2><p>${t('dashboard.queueMessages', d.queue)}</p></section>` : nothing}
      ${d.services ? html`<section class="card"><h2>${t('dashboard.services')}</h2><table class="cards">
        <thead><tr><th>${t('dashboard.service')}</th><th>${t('dashboard.serviceState')}</th><th>${t('dashboard.serviceDetail')}</th></tr></thead>
        <tbody>${d.services.map((s) => html`<tr><td class="mono"><strong>${s.name}</strong></td><td data-label=${t('dashboard.serviceState')}>${stateText(s.state)}</td>
          ${s.detail ? html`<td class="muted mono" data-label=${t('dashboard.serviceDetail')}>${s.detail}</td>` : html`<td></td>`}</tr>`)}</tbody></table></section>` : nothing}
      ${d.disks ? html`<section class="card"><h2>${t('dashboard.disks')}</h2>${d.disks.map((x) => html`<p>${t('dashboard.diskUse', { mount: x.mount, used: formatSize(x.usedBytes), size: formatSize(x.sizeBytes) })} — ${stateText(x.state)}</p>`)}</section>` : nothing}
      ${d.signatures ? this.#signatures(d.signatures, d.freshclam) : nothing}
      ${this.hours ? this.#graphs(this.hours, this.scores) : nothing}`;
  }
  /** The sizes and the histogram, and the numbers behind every graph of the dashboard. */
  #graphs(s: Series, sc: StatisticsScores | null) {
    const num = (n: number) => n.toLocaleString(lang() === 'ja' ? 'ja-JP' : 'en-US');
    const queue = hasQueue(s);
    const gauge = (p: Series['points'][number], g: 'queue' | 'quarantined') =>
      (p.gauges?.average[g] === undefined ? '' : `${num(p.gauges.average[g])} / ${num(p.gauges.peak[g] ?? 0)}`);
    const sizes = sizeCharts(s, t('dashboard.last24h'));
    return html`${sizes ? html`<section class="card"><h2>${t('dashboard.sizes')}</h2>${sizes}</section>` : nothing}
      ${sc ? html`<section class="card"><h2>${t('dashboard.scores')}</h2>${scoreChart(sc)}</section>` : nothing}
      <section class="card"><details><summary>${t('stats.numbers')}</summary>
        <div class="table-wrap"><table class="cards" aria-label=${t('dashboard.graph')}>
          <thead><tr><th>${t('stats.bucket')}</th>${OUTCOMES.map((c) => html`<th>${counterName(c)}</th>`)}
            ${queue ? html`<th>${t('stats.g.queuePeak')}</th>` : nothing}<th>${t('stats.g.quarantinePeak')}</th></tr></thead>
          <tbody>${s.points.map((p) => html`<tr><td><strong>${bucketLabel(s, p.start)}</strong></td>${OUTCOMES.map((c) => html`<td data-label=${counterName(c)}>${num(p.counts[c])}</td>`)}
            ${queue ? html`<td data-label=${t('stats.g.queuePeak')}>${gauge(p, 'queue')}</td>` : nothing}<td data-label=${t('stats.g.quarantinePeak')}>${gauge(p, 'quarantined')}</td></tr>`)}</tbody>
        </table></div>
        ${sc ? html`<div class="table-wrap"><table aria-label=${t('dashboard.scores')}>
          <thead><tr><th>${t('stats.scores')}</th><th>${t('stats.scores.messages')}</th></tr></thead>
          <tbody>${sc.bins.map((n, i) => html`<tr><td>${i * sc.binWidth}–${i === sc.bins.length - 1 ? 100 : (i + 1) * sc.binWidth}</td><td>${num(n)}</td></tr>`)}</tbody>
        </table></div>` : nothing}
      </details>
      <div class="actions"><a class="button secondary" href=${HOURS_CSV} download>${t('stats.export')}</a>
        <a class="button secondary" href=${SCORES_CSV} download>${t('stats.exportScores')}</a></div></section>`;
  }
  #signatures(s: NonNullable<Dashboard['signatures']>, f: Dashboard['freshclam']) {
    const run = f?.lastRun;
    return html`<section class="card" id="signatures"><h2>${t('dashboard.signatures')}</h2>
      <p>${s.newestAt ? t('dashboard.signaturesAge', { at: formatTime(lang(), s.newestAt, ownZone()), days: ((s.ageSeconds ?? 0) / 86400).toFixed(1), version: Math.max(...s.databases.map((x) => x.version)) }) : t('dashboard.signaturesNone')}</p>
      ${s.stale ? html`<p class="banner error" role="alert">${t('dashboard.signaturesStale')}</p>` : nothing}
      ${!run ? html`<p class="muted">${t('dashboard.freshclamNever')}</p>` : run.ok ? html`<p>${t('dashboard.freshclamOk', { at: formatTime(lang(), run.startedAt, ownZone()) })}</p>`
        : html`<p class="banner error freshclam" role="alert">${t('dashboard.freshclamFailing', { since: formatTime(lang(), f!.failingSince ?? run.startedAt, ownZone()), count: f!.failuresInARow, error: run.error ?? '' })}</p>`}</section>`;
  }
}
customElements.define('mm-dashboard', MmDashboard);
