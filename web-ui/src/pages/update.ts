// System update (admin only; the API is appliance/api/routes/updates.ts): which system (A or B)
// runs with which version, the other one's version, the last boot check and, when the box fell
// back, from which system and the check's reason. A bundle is uploaded with its progress (an
// XMLHttpRequest: fetch reports no upload progress), checked by the appliance (signature, version,
// notes) and shown before anything changes; "install and reboot" asks first, then the install's
// progress and errors are polled until the box restarts, and the page shows the new system when
// the console answers again. RAUC's own words (progress, refusals) and the boot check's reason are
// the box's records, shown as literal data.
import { css, html, nothing } from 'lit';
import { api, getCsrf, ApiFailure } from '../api.ts';
import { formatTime, zoneFor } from '../dates.ts';
import { confirmDialog } from '../dialog.ts';
import { describeFailure } from '../failure.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { formatSize } from '../format.ts';
import { shared } from '../styles.ts';

type Slot = 'A' | 'B';
interface Bundle { compatible: string; version: string; description: string; build: string; size: number; uploadedAt: string }
type Install =
  | { state: 'installing'; percent: number; message: string; startedAt: string }
  | { state: 'installed'; slot: Slot | null; version: string | null; startedAt: string; finishedAt: string; rebooting?: boolean }
  | { state: 'failed'; error: string; startedAt: string; finishedAt: string };
interface Status {
  booted: Slot | null;
  version: string;
  slots: { name: Slot; version: string | null; installedAt: string | null; booted: boolean }[];
  lastCheck: { slot: Slot; version: string; result: 'checking' | 'good' | 'bad'; reason?: string; fallbackUntil?: string; at: string } | null;
  fallback: { from: Slot; reason: string; at: string } | null;
  install: Install | null;
  bundle: Bundle | null;
}
interface Upload { done: number; total: number; checking: boolean }

const POLL_MS = { installing: 1000, restarting: 5000, checking: 5000 };

export class MmUpdate extends I18nElement {
  static override properties = { status: { state: true }, upload: { state: true }, banner: { state: true }, unreachable: { state: true } };
  declare status: Status | null;
  declare upload: Upload | null;
  declare banner: { ok: boolean; text: string; detail?: string } | null;
  /** True while the box restarts: the status could not be read since the reboot began. */
  declare unreachable: boolean;
  #file: File | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The system the box ran before the reboot it was asked for; the page waits for the other. */
  #restartingFrom: Slot | null = null;
  static override styles = [shared, css`progress { width: 100%; height: 1.2rem; }`];

  constructor() {
    super();
    this.status = null;
    this.upload = null;
    this.banner = null;
    this.unreachable = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.#timer);
  }

  async #load(): Promise<void> {
    clearTimeout(this.#timer);
    try {
      const status = await api<Status>('GET', '/api/system/update');
      this.unreachable = false;
      // Back from the restart: another system runs, or the daemon started afresh (it fell back).
      if (this.#restartingFrom && (status.booted !== this.#restartingFrom || !status.install)) this.#restartingFrom = null;
      this.status = status;
    } catch (err) {
      // While the box restarts the console does not answer; that is expected, not an error.
      if (this.#restartingFrom && err instanceof ApiFailure && (err.status === 0 || err.status >= 502)) this.unreachable = true;
      else this.banner = { ok: false, text: describeFailure(err).text };
    }
    const install = this.status?.install;
    if (install?.state === 'installing') this.#timer = setTimeout(() => void this.#load(), POLL_MS.installing);
    else if (install?.state === 'installed' && install.rebooting && this.status?.booted) this.#restartingFrom ??= this.status.booted;
    if (this.#restartingFrom) this.#timer = setTimeout(() => void this.#load(), POLL_MS.restarting);
    // A boot check under way (settings held meanwhile): shown until it has passed or failed.
    else if (this.status?.lastCheck?.result === 'checking') this.#timer = setTimeout(() => void this.#load(), POLL_MS.checking);
  }

  /** Sends the chosen file as the raw body, reporting the bytes sent. */
  #send(file: File): Promise<Bundle> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/system/update/bundle');
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.setRequestHeader('accept-language', lang());
      xhr.setRequestHeader('x-csrf-token', getCsrf() ?? '');
      xhr.responseType = 'json';
      xhr.upload.onprogress = (e) => { this.upload = { done: e.loaded, total: e.lengthComputable ? e.total : file.size, checking: false }; };
      xhr.upload.onload = () => { this.upload = { done: file.size, total: file.size, checking: true }; };
      xhr.onerror = () => reject(new ApiFailure(0, 'network', 'network error'));
      xhr.onload = () => {
        const data = (xhr.response ?? {}) as { bundle?: Bundle; error?: { code: string; message: string } };
        if (xhr.status === 200 && data.bundle) resolve(data.bundle);
        else reject(new ApiFailure(xhr.status, data.error?.code ?? 'internal', data.error?.message ?? xhr.statusText, [], typeof data.error?.message === 'string'));
      };
      xhr.send(file);
    });
  }

  async #uploadBundle(e: Event): Promise<void> {
    e.preventDefault();
    this.banner = null;
    const file = this.#file;
    if (!file) { this.banner = { ok: false, text: t('update.needFile') }; return; }
    this.upload = { done: 0, total: file.size, checking: false };
    try {
      await this.#send(file);
    } catch (err) {
      this.banner = { ok: false, text: describeFailure(err).text };
    } finally {
      this.upload = null;
    }
    await this.#load();
  }

  async #discard(): Promise<void> {
    this.banner = null;
    try {
      await api('DELETE', '/api/system/update/bundle');
      this.banner = { ok: true, text: t('update.discarded') };
    } catch (err) {
      this.banner = { ok: false, text: describeFailure(err).text };
    }
    await this.#load();
  }

  async #install(bundle: Bundle, current: Slot): Promise<void> {
    const slot: Slot = current === 'A' ? 'B' : 'A';
    if (!(await confirmDialog({
      heading: t('update.confirmTitle', { version: bundle.version }),
      message: t('update.confirmQuestion', { version: bundle.version, slot, current }),
      confirmLabel: t('update.installReboot'), danger: true,
    }))) return;
    this.banner = null;
    try {
      await api('POST', '/api/system/update/bundle/install', { reboot: true });
    } catch (err) {
      this.banner = { ok: false, text: describeFailure(err).text };
    }
    await this.#load();
  }

  async #reboot(slot: Slot): Promise<void> {
    if (!(await confirmDialog({ heading: t('update.rebootTitle', { slot }), message: t('update.rebootQuestion', { slot }), confirmLabel: t('update.rebootNow'), danger: true }))) return;
    this.banner = null;
    try {
      await api('POST', '/api/system/update/reboot', {});
      this.#restartingFrom = this.status?.booted ?? null;
    } catch (err) {
      this.banner = { ok: false, text: describeFailure(err).text };
    }
    await this.#load();
  }

  #when(at: string | null | undefined) {
    return at ? formatTime(lang(), at, zoneFor()) : '';
  }

  #systems(s: Status) {
    return html`<section class="card" aria-labelledby="systems"><h2 id="systems" class="flush-top">${t('update.systems')}</h2>
      <div class="table-wrap"><table class="cards">
        <thead><tr><th>${t('update.systems')}</th><th>${t('update.version')}</th><th>${t('update.installedAt')}</th></tr></thead>
        <tbody>${s.slots.map((slot) => html`<tr>
          <td data-label=${t('update.systems')}>${t('update.slotName', { slot: slot.name })}
            <span class="muted">(${slot.booted ? t('update.runs') : t('update.standby')})</span></td>
          <td data-label=${t('update.version')}>${slot.version ?? html`<span class="muted">${t('update.slotEmpty')}</span>`}</td>
          <td data-label=${t('update.installedAt')}>${slot.installedAt ? this.#when(slot.installedAt) : slot.version ? html`<span class="muted">${t('update.factory')}</span>` : ''}</td>
        </tr>`)}</tbody></table></div>
      <h2>${t('update.lastCheck')}</h2>
      ${this.#check(s)}
    </section>`;
  }

  #check(s: Status) {
    const c = s.lastCheck;
    if (!c) return html`<p class="muted">${t('update.check.none')}</p>`;
    const params = { slot: c.slot, version: c.version, at: this.#when(c.at) };
    if (c.result === 'bad') return html`<p>${t('update.check.bad', params)}</p><p class="mono">${c.reason ?? ''}</p>`;
    if (c.result === 'good') return html`<p>${t('update.check.good', params)}</p>`;
    // While the box may still fall back, settings are not saved (the API refuses them: update-on-trial).
    return html`<p>${t('update.check.checking', params)}</p>
      ${c.fallbackUntil ? html`<p id="settings-held">${t('update.check.held', { until: this.#when(c.fallbackUntil) })}</p>` : nothing}`;
  }

  #progress(s: Status) {
    const i = s.install;
    if (!i) return nothing;
    if (i.state === 'installing') {
      const slot = s.booted === 'A' ? 'B' : 'A';
      return html`<section class="card" aria-live="polite"><p class="flush-top" id="install-progress">${t('update.installing', { slot, percent: i.percent })}</p>
        <progress max="100" value=${i.percent} aria-labelledby="install-progress"></progress><p class="mono muted">${i.message}</p></section>`;
    }
    if (i.state === 'failed') return html`<div class="banner error" role="alert"><p class="flush">${t('update.failed')}</p><p class="mono flush">${i.error}</p></div>`;
    const params = { version: i.version ?? '', slot: i.slot ?? '' };
    if (i.rebooting) {
      return html`<p class="banner ok" role="status">${t('update.rebooting', params)}</p>
        ${this.unreachable ? html`<p class="muted" role="status">${t('update.unreachable')}</p>` : nothing}`;
    }
    return html`<p class="banner ok" role="status">${t('update.installed', params)}</p>
      ${i.slot ? html`<div class="actions"><button class="danger" @click=${() => this.#reboot(i.slot!)}>${t('update.rebootNow')}</button></div>` : nothing}`;
  }

  #uploadCard(s: Status, current: Slot) {
    const busy = s.install?.state === 'installing' || (s.install?.state === 'installed' && s.install.rebooting) || !!this.upload;
    const b = s.bundle;
    const u = this.upload;
    return html`
      ${b ? html`<section class="card" aria-labelledby="bundle"><h2 id="bundle" class="flush-top">${t('update.bundle')}</h2>
        <div class="table-wrap"><table><tbody>
          <tr><th scope="row">${t('update.version')}</th><td>${b.version}</td></tr>
          <tr><th scope="row">${t('update.notes')}</th><td class="mono">${b.description}</td></tr>
          <tr><th scope="row">${t('update.built')}</th><td>${b.build}</td></tr>
          <tr><th scope="row">${t('update.for')}</th><td class="mono">${b.compatible}</td></tr>
          <tr><th scope="row">${t('update.size')}</th><td>${formatSize(b.size)}</td></tr>
          <tr><th scope="row">${t('update.into')}</th><td>${t('update.slotName', { slot: current === 'A' ? 'B' : 'A' })}</td></tr>
        </tbody></table></div>
        <div class="actions"><button class="danger" ?disabled=${busy} @click=${() => this.#install(b, current)}>${t('update.installReboot')}</button>
          <button class="secondary" ?disabled=${busy} @click=${() => this.#discard()}>${t('update.discard')}</button></div>
      </section>` : nothing}
      <form @submit=${(e: Event) => this.#uploadBundle(e)}><section class="card" aria-labelledby="upload"><h2 id="upload" class="flush-top">${t('update.upload')}</h2>
        <p>${t('update.uploadIntro')}</p>
        <label><span>${t('update.file')}</span>
          <input type="file" name="bundle" accept=".raucb" ?disabled=${busy} @change=${(e: Event) => { this.#file = (e.target as HTMLInputElement).files?.[0] ?? null; }}></label>
        ${u ? html`<div aria-live="polite"><p id="upload-progress" class="flush">${u.checking ? t('update.checking')
          : t('update.uploading', { percent: Math.floor((u.done / Math.max(u.total, 1)) * 100), done: formatSize(u.done), total: formatSize(u.total) })}</p>
          <progress max=${u.total} value=${u.done} aria-labelledby="upload-progress"></progress></div>` : nothing}
        <div class="actions"><button type="submit" ?disabled=${busy}>${t('update.uploadButton')}</button></div>
      </section></form>`;
  }

  override render() {
    const s = this.status;
    return html`<h1>${t('update.title')}</h1>
      <p class="muted">${t('update.intro')}</p>
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      ${!s ? html`<p>${t('common.loading')}</p>` : html`
        <section class="card" aria-labelledby="running"><h2 id="running" class="flush-top">${t('update.running')}</h2>
          <p class="flush">${s.booted ? t('update.slotName', { slot: s.booted }) : ''} <strong>${s.version}</strong></p></section>
        ${s.fallback ? html`<div class="banner error" role="alert"><p class="flush">${t('update.fallback', { from: s.fallback.from, to: s.booted ?? '', at: this.#when(s.fallback.at) })}</p>
          <p class="mono flush">${s.fallback.reason}</p></div>` : nothing}
        ${this.#progress(s)}
        ${s.booted ? html`${this.#uploadCard(s, s.booted)}${this.#systems(s)}` : html`<p class="banner error" role="alert">${t('update.noSlots')}</p>`}`}`;
  }
}
customElements.define('mm-update', MmUpdate);
