// Dashboard: mail flow of the last 24 h (and, for admins, its graph by hour from the statistics),
// queue, quarantine size, services, disks, and the virus signatures' age with freshclam's last check.
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { formatSize, stateText } from '../format.ts';
import { formatTime, ownZone } from '../dates.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import { chart, OUTCOMES, type Series } from '../stats-chart.ts';

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
  static override properties = { data: { state: true }, hours: { state: true }, user: { attribute: false } };
  declare data: Dashboard | null;
  declare hours: Series | null;
  declare user: SessionUser | undefined;
  static override styles = [shared];
  constructor() {
    super();
    this.data = null;
    this.hours = null;
  }
  override connectedCallback(): void {
    super.connectedCallback();
    void api<Dashboard>('GET', '/api/dashboard').then((d) => { this.data = d; });
    // Statistics are kept per domain: mailbox users have the numbers only.
    if (this.user && this.user.role !== 'user') void api<Series>('GET', '/api/stats?period=24h').then((s) => { this.hours = s; }).catch(() => undefined);
  }
  override render() {
    const d = this.data;
    if (!d) return html`<h1>${t('dashboard.title')}</h1><p>${t('common.loading')}</p>`;
    const na = html`<p class="muted">${t('common.notAvailable')}</p>`;
    return html`<h1>${t('dashboard.title')}</h1>
      <section class="card"><h2>${t('dashboard.flow')}</h2>${d.flow ? html`<table><tbody>
        ${(['received', 'delivered', 'quarantined', 'rejected'] as const).map((k) => html`<tr><th>${t(`dashboard.${k}`)}</th><td>${d.flow![k] ?? 0}</td></tr>`)}
      </tbody></table>` : na}
      ${this.hours ? html`<h2>${t('dashboard.graph')}</h2>${chart(this.hours, OUTCOMES, t('dashboard.graph'), { height: 220 })}` : nothing}</section>
      <section class="card"><h2>${t('dashboard.quarantineSize')}</h2>${d.quarantine === null ? na : html`<p>${d.quarantine}</p>`}</section>
      ${d.queue ? html`<section class="card"><h2>${t('dashboard.queue')}</h2><p>${t('dashboard.queueMessages', d.queue)}</p></section>` : nothing}
      ${d.services ? html`<section class="card"><h2>${t('dashboard.services')}</h2><table><tbody>${d.services.map((s) => html`<tr><th class="mono">${s.name}</th><td>${stateText(s.state)}</td><td class="muted mono">${s.detail ?? ''}</td></tr>`)}</tbody></table></section>` : nothing}
      ${d.disks ? html`<section class="card"><h2>${t('dashboard.disks')}</h2>${d.disks.map((x) => html`<p>${t('dashboard.diskUse', { mount: x.mount, used: formatSize(x.usedBytes), size: formatSize(x.sizeBytes) })} — ${stateText(x.state)}</p>`)}</section>` : nothing}
      ${d.signatures ? this.#signatures(d.signatures, d.freshclam) : nothing}`;
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
