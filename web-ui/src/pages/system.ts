// System (admin only): state of disks, services (each the console may restart with its button),
// certificate and time; the network interfaces, changed as a trial that reverts by itself unless
// kept (network-form.ts); the network, time and monitoring settings in forms grouped as an admin
// thinks of them (settings-form.ts: host name, resolvers, NTP, SNMP, remote syslog, …); the TLS
// certificate; backup and restore of everything as one archive encrypted with a passphrase (the
// browser saves the download; a restore is checked whole by the appliance, which then restarts
// onto it); the last backup sent to the SFTP server (and sending one now); the support bundle's
// download; and, folded away for those who want it, any configuration section as JSON
// (configuration as code), checked by the same rules.
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api, ApiFailure, getCsrf } from '../api.ts';
import { formatTime } from '../dates.ts';
import { field } from '../field.ts';
import { formatDate, stateText } from '../format.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import '../settings-form.ts';
import '../network-form.ts';
import { settingsText } from '../../../appliance/i18n/settings-texts.ts';
import { isRestartable } from '../../../appliance/system/restartable.ts';
import { shared } from '../styles.ts';
import { loadConfigSchema, subSchema, validate, type Schema } from '../validate.ts';

interface Status {
  disks: { mount: string; sizeBytes: number; usedBytes: number; state: string }[];
  services: { name: string; state: string }[] | null;
  time: { now: string; timezone: string };
  certificate: { subject: string; issuer: string; validTo: string; fingerprint256: string; selfSigned: boolean };
}

export class MmSystem extends I18nElement {
  static override properties = { status: { state: true }, config: { state: true }, section: { state: true }, errors: { state: true }, banner: { state: true }, remote: { state: true } };
  declare remote: { lastRun?: { at: string; ok: boolean; file?: string; bytes?: number; error?: string } } | null;
  declare status: Status | null;
  declare config: Record<string, Record<string, unknown>> | null;
  declare section: string;
  declare errors: Record<string, string>;
  declare banner: { ok: boolean; text: string } | null;
  schema: Schema | null = null;
  sections: string[] = [];
  tls = { cert: '', key: '' };
  static override styles = [shared];

  constructor() {
    super();
    this.status = null;
    this.config = null;
    this.section = 'listeners';
    this.errors = {};
    this.banner = null;
    this.remote = null;
  }
  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }
  async #load(): Promise<void> {
    const [status, cfg, schema] = await Promise.all([api<Status>('GET', '/api/system/status'),
      api<{ config: Record<string, Record<string, unknown>>; sections: string[] }>('GET', '/api/system/config'), loadConfigSchema()]);
    this.status = status;
    this.config = cfg.config;
    this.sections = cfg.sections.filter((s) => (subSchema(schema, s) as Schema).type === 'object');
    this.schema = schema;
    this.remote = await api<NonNullable<MmSystem['remote']>>('GET', '/api/system/remote-backup').catch(() => null);
  }
  async #run(action: () => Promise<unknown>, ok = t('common.saved')): Promise<void> {
    try {
      await action();
      this.errors = {};
      this.banner = { ok: true, text: ok };
      await this.#load();
    } catch (err) {
      const f = describeFailure(err);
      this.errors = f.errors;
      this.banner = { ok: false, text: f.text };
    }
  }
  #sectionText = '';
  #saveSection(e: Event): void {
    e.preventDefault();
    let value: unknown;
    try { value = JSON.parse(this.#sectionText || JSON.stringify(this.config![this.section])); } catch {
      this.errors = { '/': settingsText(lang(), 'ui.notJson') };
      this.banner = { ok: false, text: t('error.invalid') };
      return;
    }
    this.errors = validate(subSchema(this.schema!, this.section), value);
    if (Object.keys(this.errors).length) { this.banner = { ok: false, text: t('error.invalid') }; return; }
    void this.#run(() => api('PUT', `/api/system/config/${this.section}`, { value }));
  }
  #passphrase = '';
  #archive: File | undefined;

  /** A raw request of the backup routes: the body and answer are not JSON. */
  async #raw(url: string, body: BodyInit, headers: Record<string, string>): Promise<Response> {
    const res = await fetch(url, { method: 'POST', body, credentials: 'same-origin',
      headers: { 'accept-language': lang(), 'x-csrf-token': getCsrf() ?? '', ...headers } });
    if (!res.ok) {
      const data = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      throw new ApiFailure(res.status, data.error?.code ?? 'internal', data.error?.message ?? res.statusText, [], typeof data.error?.message === 'string');
    }
    return res;
  }

  async #download(): Promise<void> {
    await this.#run(async () => {
      const res = await this.#raw('/api/system/backup', JSON.stringify({ passphrase: this.#passphrase }), { 'content-type': 'application/json' });
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'mailmoat.mmbackup';
      const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(await res.blob()), download: name });
      link.click();
      URL.revokeObjectURL(link.href);
    }, t('system.backupSaved'));
  }

  async #supportBundle(): Promise<void> {
    await this.#run(async () => {
      const res = await this.#raw('/api/system/support-bundle', '', {});
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'mailmoat-support.tar.gz';
      const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(await res.blob()), download: name });
      link.click();
      URL.revokeObjectURL(link.href);
    }, t('system.supportBundleSaved'));
  }

  #remoteCard() {
    const last = this.remote?.lastRun;
    const when = (at: string) => formatTime(lang(), at, this.status!.time.timezone);
    return html`<section class="card" id="remote-backup"><h2>${t('system.remoteBackup')}</h2>
      <p class=${last && !last.ok ? 'banner error' : ''}>${!last ? t('system.remoteBackupNever') : last.ok
        ? t('system.remoteBackupOk', { at: when(last.at), file: last.file ?? '', bytes: last.bytes ?? 0 })
        : t('system.remoteBackupFailed', { at: when(last.at), error: last.error ?? '' })}</p>
      <div class="actions"><button type="button" @click=${() => this.#run(() => api('POST', '/api/system/remote-backup/run'))}>${t('system.remoteBackupRun')}</button></div></section>
      <section class="card" id="support-bundle"><h2>${t('system.supportBundle')}</h2><p>${t('system.supportBundleIntro')}</p>
        <div class="actions"><button type="button" @click=${() => this.#supportBundle()}>${t('system.supportBundleDownload')}</button></div></section>`;
  }

  async #restore(): Promise<void> {
    const file = this.#archive;
    if (!file) return;
    // Not through #run: the appliance may already be restarting, so the page is not reloaded.
    try {
      const res = await this.#raw('/api/system/restore', file, {
        'content-type': 'application/vnd.mailmoat.backup', 'x-mailmoat-passphrase': encodeURIComponent(this.#passphrase),
      });
      const { restarting } = (await res.json()) as { restarting: boolean };
      this.banner = { ok: true, text: t(restarting ? 'system.restored' : 'system.restoredAtNextStart') };
    } catch (err) {
      this.banner = { ok: false, text: describeFailure(err).text };
    }
  }
  override render() {
    const s = this.status;
    if (!s || !this.config || !this.schema) return html`<h1>${t('system.title')}</h1><p>${t('common.loading')}</p>`;
    const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;
    return html`<h1>${t('system.title')}</h1>
      <section class="card"><h2>${t('dashboard.disks')}</h2>${s.disks.map((d) => html`<p>${t('dashboard.diskUse', { mount: d.mount, used: gb(d.usedBytes), size: gb(d.sizeBytes) })} — ${stateText(d.state)}</p>`)}
        ${s.services ? html`<h2>${t('dashboard.services')}</h2>${s.services.map((x) => html`<p><span class="mono">${x.name}</span>: ${stateText(x.state)}
          ${isRestartable(x.name) ? html`<button type="button" class="secondary small" aria-label=${`${settingsText(lang(), 'ui.restart')}: ${x.name}`}
            @click=${() => this.#run(() => api('POST', `/api/system/services/${x.name}/restart`), settingsText(lang(), 'ui.restartAsked', { name: x.name }))}>${settingsText(lang(), 'ui.restart')}</button>` : nothing}</p>`)}` : nothing}
        <h2>${t('system.section.time')}</h2><p>${formatTime(lang(), s.time.now, s.time.timezone)} (${s.time.timezone})</p></section>
      <section class="card"><h2>${t('wizard.tls.title')}</h2>
        <p><span class="mono">${s.certificate.subject}</span> · ${t('system.certificateExpires', { date: formatDate(s.certificate.validTo) })} · ${s.certificate.selfSigned ? t('system.selfSigned') : html`<span class="mono">${s.certificate.issuer}</span>`}</p>
        <form @submit=${(e: Event) => { e.preventDefault(); void this.#run(() => api('POST', '/api/system/tls', this.tls)); }}>
          ${field({ label: t('wizard.tls.cert'), multiline: true, value: this.tls.cert, error: this.errors['/cert'], onInput: (v) => { this.tls.cert = v; } })}
          ${field({ label: t('wizard.tls.key'), multiline: true, value: this.tls.key, error: this.errors['/key'], onInput: (v) => { this.tls.key = v; } })}
          <div class="actions"><button type="submit">${t('common.save')}</button></div></form></section>
      <mm-network></mm-network>
      <mm-settings-group .group=${'network'}></mm-settings-group>
      <mm-settings-group .group=${'time'}></mm-settings-group>
      <mm-settings-group .group=${'monitoring'}></mm-settings-group>
      <section class="card"><h2>${t('system.backup')}</h2>
        ${field({ label: t('system.backupPassphrase'), type: 'password', value: this.#passphrase, onInput: (v) => { this.#passphrase = v; } })}
        <div class="actions"><button type="button" @click=${() => this.#download()}>${t('system.backupDownload')}</button></div>
        <label><span>${t('system.restore')}</span><input type="file" accept=".mmbackup" @change=${(e: Event) => { this.#archive = (e.target as HTMLInputElement).files?.[0]; }}></label>
        <div class="actions"><button type="button" @click=${() => this.#restore()}>${t('system.restoreStart')}</button></div></section>
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      ${this.#remoteCard()}
      <section class="card"><details><summary>${settingsText(lang(), 'ui.advanced')}</summary>
        <form @submit=${(e: Event) => this.#saveSection(e)}><p class="muted">${settingsText(lang(), 'ui.advancedHelp')}</p>
        ${field({ label: settingsText(lang(), 'ui.section'), value: this.section, options: this.sections.map((x) => ({ value: x, label: x })), literal: true, onInput: (v) => { this.section = v; this.#sectionText = ''; this.errors = {}; this.banner = null; } })}
        ${field({ label: this.section, multiline: true, value: this.#sectionText || JSON.stringify(this.config[this.section], null, 2),
          error: Object.entries(this.errors).map(([p, m]) => (p === '/' ? m : `${p}: ${m}`)).join('; ') || undefined, onInput: (v) => { this.#sectionText = v; } })}
        <div class="actions"><button type="submit">${t('common.save')}</button></div></form></details></section>`;
  }
}
customElements.define('mm-system', MmSystem);
