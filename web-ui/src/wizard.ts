// The first-boot setup wizard: claim with the setup code, then language, admin account, host name
// and network, time, first domain and its route (with a live test), TLS, admin contact, and a
// summary with the DNS records to publish. Each step is checked in the browser with the server's
// schema; the server checks everything again and its problems send the user back to the step.
// Instead of the steps, a claimed wizard may restore a backup archive (with its passphrase): the
// appliance checks it whole, stages it and restarts onto it, so the restored accounts log in.
import { html, css, nothing } from 'lit';
import { api, ApiFailure, getCsrf, setCsrf, type RouteTest } from './api.ts';
import { describeFailure } from './failure.ts';
import { field } from './field.ts';
import { I18nElement, lang, setLanguage, t } from './i18n.ts';
import { shared } from './styles.ts';
import { loadConfigSchema, problemText, serverText, subSchema, validate, type Schema } from './validate.ts';
import type { MessageKey } from '../../appliance/i18n/catalog.ts';

interface DnsRecord { name: string; type: string; value: string; note: string }
interface Defaults {
  hostname: string; timezone: string; ntpServers: string[]; timezones: string[];
  network: { name: string; addresses: string[]; mac?: string }[];
  certificate: { subject: string; validTo: string };
}
const STEPS = ['language', 'admin', 'host', 'time', 'domain', 'tls', 'contact', 'summary'] as const;
type Step = (typeof STEPS)[number];
const STEP_OF_PATH: [RegExp, Step][] = [[/^\/admin/, 'admin'], [/^\/hostname/, 'host'], [/^\/(timezone|ntpServers)/, 'time'],
  [/^\/domain/, 'domain'], [/^\/tls/, 'tls'], [/^\/contact/, 'contact']];

export class MmWizard extends I18nElement {
  static override properties = { step: { state: true }, errors: { state: true }, banner: { state: true }, busy: { state: true },
    test: { state: true }, dns: { state: true }, done: { state: true }, defaults: { state: true }, restoring: { state: true }, restored: { state: true } };
  /** The restore form is shown instead of the steps. */
  declare restoring: boolean;
  declare restored: { entries: number; files: number; restarting: boolean } | null;
  #archive: File | undefined;
  #passphrase = '';
  declare step: number;
  declare errors: Record<string, string>;
  declare banner: string;
  declare busy: boolean;
  declare test: { ok: boolean; text: string } | null;
  declare dns: DnsRecord[];
  declare done: boolean;
  declare defaults: Defaults | null;
  code = '';
  form = {
    admin: { username: 'admin', password: '', confirm: '' },
    hostname: '', timezone: 'Asia/Tokyo', ntp: '',
    domain: { name: '', host: '', port: 25 },
    tls: { mode: 'generated' as 'generated' | 'uploaded', cert: '', key: '' },
    contact: '',
  };
  schema: Schema | null = null;

  static override styles = [shared, css`
    section.card { max-width: 44rem; margin: 2rem auto; }
    .progress { color: #5b6775; font-size: .9rem; }
    @media (max-width: 760px) { section.card { margin: .5rem; } }
  `];

  constructor() {
    super();
    this.step = -1;
    this.errors = {};
    this.banner = '';
    this.busy = false;
    this.test = null;
    this.dns = [];
    this.done = false;
    this.defaults = null;
    this.restoring = false;
    this.restored = null;
  }

  /** Sends the archive as the raw body (never buffered whole by the page), the passphrase percent-encoded in a header. */
  async #restore(e: Event): Promise<void> {
    e.preventDefault();
    if (!this.#archive) { this.banner = t('wizard.restore.noFile'); return; }
    this.busy = true;
    this.banner = '';
    try {
      const res = await fetch('/api/setup/restore', { method: 'POST', body: this.#archive, credentials: 'same-origin', headers: {
        'content-type': 'application/vnd.mailmoat.backup', 'x-mailmoat-passphrase': encodeURIComponent(this.#passphrase),
        'x-csrf-token': getCsrf() ?? '', 'accept-language': lang(),
      } });
      const data = (await res.json().catch(() => ({}))) as { entries?: number; files?: number; restarting?: boolean; error?: { code: string; message: string } };
      if (!res.ok) throw new ApiFailure(res.status, data.error?.code ?? 'internal', data.error?.message ?? res.statusText, [], typeof data.error?.message === 'string');
      this.restored = { entries: data.entries ?? 0, files: data.files ?? 0, restarting: data.restarting ?? false };
    } catch (err) {
      this.banner = describeFailure(err).text;
    } finally {
      this.busy = false;
    }
  }

  #restoreForm() {
    if (this.restored) {
      return html`<section class="card"><h1>${t('wizard.restore.title')}</h1>
        <p class="banner ok" role="status">${t(this.restored.restarting ? 'wizard.restore.done' : 'wizard.restore.doneLater', { entries: this.restored.entries, files: this.restored.files })}</p></section>`;
    }
    return html`<section class="card"><h1>${t('wizard.restore.title')}</h1><p>${t('wizard.restore.intro')}</p>
      <form @submit=${(e: Event) => this.#restore(e)}>
        <label><span>${t('wizard.restore.file')}</span><input type="file" accept=".mmbackup" @change=${(e: Event) => { this.#archive = (e.target as HTMLInputElement).files?.[0]; }}></label>
        ${field({ label: t('wizard.restore.passphrase'), type: 'password', value: this.#passphrase, autocomplete: 'off', onInput: (v) => { this.#passphrase = v; } })}
        ${this.busy ? html`<p class="muted" role="status">${t('wizard.restore.busy')}</p>` : nothing}
        ${this.banner ? html`<p class="banner error" role="alert">${this.banner}</p>` : nothing}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => { this.restoring = false; this.banner = ''; }}>${t('common.back')}</button>
          <button type="submit" ?disabled=${this.busy}>${t('wizard.restore.submit')}</button>
        </div>
      </form></section>`;
  }

  #fail(err: unknown): void {
    const f = describeFailure(err);
    this.errors = f.errors;
    this.banner = f.text;
    if (err instanceof ApiFailure) {
      const first = err.problems.map((p) => STEP_OF_PATH.find(([re]) => re.test(p.path))?.[1]).find(Boolean);
      if (first) this.step = STEPS.indexOf(first);
    }
  }

  async #claim(e: Event): Promise<void> {
    e.preventDefault();
    this.busy = true;
    this.banner = '';
    try {
      const r = await api<{ csrfToken: string }>('POST', '/api/setup/claim', { code: this.code });
      setCsrf(r.csrfToken);
      [this.defaults, this.schema] = await Promise.all([api<Defaults>('GET', '/api/setup/defaults'), loadConfigSchema()]);
      this.form.hostname = this.defaults.hostname;
      this.form.timezone = this.defaults.timezone;
      this.form.ntp = this.defaults.ntpServers.join('\n');
      this.step = 0;
    } catch (err) {
      this.#fail(err);
    } finally {
      this.busy = false;
    }
  }

  #body() {
    const f = this.form;
    return {
      language: lang(),
      admin: { username: f.admin.username, password: f.admin.password },
      hostname: f.hostname.trim(),
      timezone: f.timezone,
      ntpServers: f.ntp.split('\n').map((s) => s.trim()).filter(Boolean),
      domain: { name: f.domain.name.trim(), host: f.domain.host.trim(), port: Number(f.domain.port) },
      tls: f.tls.mode === 'uploaded' ? { mode: 'uploaded' as const, cert: f.tls.cert, key: f.tls.key } : { mode: 'generated' as const },
      contact: f.contact.trim(),
    };
  }

  /** Problems of the current step found in the browser, with the same schema as the server. */
  #check(step: Step): Record<string, string> {
    const s = this.schema!;
    const b = this.#body();
    const errs: Record<string, string> = {};
    const put = (path: string, found: Record<string, string>) => { const m = found['/'] ?? Object.values(found)[0]; if (m) errs[path] = m; };
    if (step === 'admin') {
      if (!b.admin.username) errs['/admin/username'] = problemText('problem.required');
      if (b.admin.password.length < 10) errs['/admin/password'] = problemText('problem.password-too-short', { min: 10 });
      else if (b.admin.password !== this.form.admin.confirm) errs['/admin/confirm'] = t('wizard.admin.mismatch');
    }
    if (step === 'host') put('/hostname', validate(subSchema(s, 'hostname'), b.hostname));
    if (step === 'time' && this.defaults && !this.defaults.timezones.includes(b.timezone)) errs['/timezone'] = problemText('problem.unknown-time-zone', { zone: b.timezone });
    if (step === 'time') put('/ntpServers', validate(subSchema(s, 'time', 'ntpServers'), b.ntpServers));
    if (step === 'domain') {
      put('/domain/name', validate(subSchema(s, 'domains', 'items', 'name'), b.domain.name));
      const route = subSchema(s, 'domains', 'items', 'routes', 'items');
      put('/domain/host', validate(subSchema(route, 'host'), b.domain.host));
      put('/domain/port', validate(subSchema(route, 'port'), b.domain.port));
    }
    if (step === 'tls' && b.tls.mode === 'uploaded') {
      if (!b.tls.cert.includes('BEGIN CERTIFICATE')) errs['/tls/cert'] = problemText('problem.not-pem-certificate');
      if (!b.tls.key.includes('PRIVATE KEY')) errs['/tls/key'] = problemText('problem.not-pem-key');
    }
    if (step === 'contact' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(b.contact)) errs['/contact'] = problemText('problem.not-an-address');
    return errs;
  }

  async #next(): Promise<void> {
    const step = STEPS[this.step];
    this.errors = this.#check(step);
    this.banner = '';
    if (Object.keys(this.errors).length) return;
    if (step === 'tls' && this.form.tls.mode === 'uploaded') {
      try {
        await api('POST', '/api/setup/check-tls', { cert: this.form.tls.cert, key: this.form.tls.key });
      } catch (err) {
        if (err instanceof ApiFailure) err.problems.forEach((p) => { p.path = '/tls' + p.path; });
        return this.#fail(err);
      }
    }
    if (STEPS[this.step + 1] === 'summary') {
      this.busy = true;
      try {
        this.dns = (await api<{ dns: DnsRecord[] }>('POST', '/api/setup/preview', this.#body())).dns;
      } catch (err) {
        return this.#fail(err);
      } finally {
        this.busy = false;
      }
    }
    this.step += 1;
  }

  async #testRoute(): Promise<void> {
    this.test = { ok: true, text: t('common.testing') };
    try {
      const r = await api<RouteTest>('POST', '/api/setup/test-route', { host: this.form.domain.host.trim(), port: Number(this.form.domain.port) });
      this.test = r.ok ? { ok: true, text: t('wizard.domain.testOk', { greeting: r.greeting ?? '' }) } : { ok: false, text: t('wizard.domain.testFailed', { error: r.problem ? serverText(r.problem) : '' }) };
    } catch (err) {
      this.test = { ok: false, text: describeFailure(err).text };
    }
  }

  async #finish(): Promise<void> {
    this.busy = true;
    try {
      const r = await api<{ user: unknown; csrfToken: string; dns: DnsRecord[] }>('POST', '/api/setup/finish', this.#body());
      setCsrf(r.csrfToken);
      this.dns = r.dns;
      this.done = true;
    } catch (err) {
      this.#fail(err);
    } finally {
      this.busy = false;
    }
  }

  #dnsTable() {
    return html`<div class="table-wrap"><table><thead><tr><th>${t('dns.name')}</th><th>${t('dns.type')}</th><th>${t('dns.value')}</th><th></th></tr></thead>
      <tbody>${this.dns.map((r) => html`<tr><td class="mono">${r.name}</td><td>${r.type}</td><td class="mono">${r.value}</td>
        <td class="muted">${t(`dns.note.${r.note}` as MessageKey)}</td></tr>`)}</tbody></table></div>`;
  }

  #stepBody(step: Step) {
    const f = this.form;
    const e = this.errors;
    const set = () => this.requestUpdate();
    switch (step) {
      case 'language':
        return html`<fieldset class="bare"><legend class="muted">${t('wizard.language.title')}</legend>
          ${(['ja', 'en'] as const).map((l) => html`<label><input type="radio" name="language" value=${l} ?checked=${lang() === l}
            @change=${() => setLanguage(l)}> ${l === 'ja' ? '日本語' : 'English'}</label>`)}</fieldset>
          <p><button type="button" class="secondary" @click=${() => { this.restoring = true; this.banner = ''; }}>${t('wizard.restore.offer')}</button></p>`;
      case 'admin':
        return html`
          ${field({ label: t('wizard.admin.username'), value: f.admin.username, error: e['/admin/username'], autocomplete: 'username', onInput: (v) => { f.admin.username = v; set(); } })}
          ${field({ label: t('wizard.admin.password'), type: 'password', value: f.admin.password, error: e['/admin/password'], autocomplete: 'new-password', onInput: (v) => { f.admin.password = v; set(); } })}
          ${field({ label: t('wizard.admin.confirm'), type: 'password', value: f.admin.confirm, error: e['/admin/confirm'], autocomplete: 'new-password', onInput: (v) => { f.admin.confirm = v; set(); } })}`;
      case 'host':
        return html`
          ${field({ label: t('wizard.host.hostname'), value: f.hostname, error: e['/hostname'], onInput: (v) => { f.hostname = v; set(); } })}
          <h2>${t('wizard.host.network')}</h2>
          <div class="table-wrap"><table><tbody>${(this.defaults?.network ?? []).map((n) => html`<tr><td>${n.name}</td><td class="mono">${n.addresses.join(', ')}</td><td class="mono muted">${n.mac ?? ''}</td></tr>`)}</tbody></table></div>`;
      case 'time':
        return html`
          ${field({ label: t('wizard.time.timezone'), value: f.timezone, error: e['/timezone'], name: 'timezone', suggestions: this.defaults?.timezones ?? [], onInput: (v) => { f.timezone = v.trim(); set(); } })}
          ${field({ label: t('wizard.time.ntp'), value: f.ntp, multiline: true, error: e['/ntpServers'], onInput: (v) => { f.ntp = v; set(); } })}`;
      case 'domain':
        return html`
          ${field({ label: t('wizard.domain.name'), value: f.domain.name, error: e['/domain/name'], onInput: (v) => { f.domain.name = v; set(); } })}
          <div class="row">
            ${field({ label: t('wizard.domain.host'), value: f.domain.host, error: e['/domain/host'], onInput: (v) => { f.domain.host = v; set(); } })}
            ${field({ label: t('wizard.domain.port'), type: 'number', value: f.domain.port, error: e['/domain/port'], onInput: (v) => { f.domain.port = Number(v); set(); } })}
          </div>
          <div class="actions"><button type="button" class="secondary" @click=${() => this.#testRoute()} ?disabled=${!f.domain.host}>${t('common.test')}</button></div>
          ${this.test ? html`<p class="banner ${this.test.ok ? 'ok' : 'error'}" role="status">${this.test.text}</p>` : nothing}`;
      case 'tls':
        return html`
          ${(['generated', 'uploaded'] as const).map((m) => html`<label><input type="radio" name="tls" value=${m} ?checked=${f.tls.mode === m}
            @change=${() => { f.tls.mode = m; set(); }}> ${t(m === 'generated' ? 'wizard.tls.generated' : 'wizard.tls.uploaded')}</label>`)}
          ${f.tls.mode === 'generated' && this.defaults ? html`<p class="muted">${t('wizard.tls.current', { subject: this.defaults.certificate.subject, validTo: this.defaults.certificate.validTo })}</p>` : nothing}
          ${f.tls.mode === 'uploaded' ? html`
            ${field({ label: t('wizard.tls.cert'), value: f.tls.cert, multiline: true, error: e['/tls/cert'], onInput: (v) => { f.tls.cert = v; set(); } })}
            ${field({ label: t('wizard.tls.key'), value: f.tls.key, multiline: true, error: e['/tls/key'], onInput: (v) => { f.tls.key = v; set(); } })}` : nothing}`;
      case 'contact':
        return field({ label: t('wizard.contact.address'), type: 'email', value: f.contact, error: e['/contact'], onInput: (v) => { f.contact = v; set(); } });
      case 'summary':
        return html`<p>${t('wizard.summary.intro')}</p>${this.#dnsTable()}`;
    }
  }

  override render() {
    if (this.done) {
      return html`<section class="card"><h1>${t('wizard.done.title')}</h1><p>${t('wizard.done.intro')}</p>${this.#dnsTable()}
        <div class="actions"><button @click=${() => { location.hash = '#/dashboard'; location.reload(); }}>${t('wizard.done.open')}</button></div></section>`;
    }
    if (this.step < 0) {
      return html`<section class="card"><h1>${t('wizard.title')}</h1><p>${t('wizard.claim.intro')}</p>
        <form @submit=${(e: Event) => this.#claim(e)}>
          ${field({ label: t('wizard.claim.code'), value: this.code, autocomplete: 'one-time-code', onInput: (v) => { this.code = v; } })}
          ${this.banner ? html`<p class="banner error" role="alert">${this.banner}</p>` : nothing}
          <div class="actions"><button type="submit" ?disabled=${this.busy}>${t('wizard.claim.submit')}</button></div>
          <p class="muted">${(['ja', 'en'] as const).map((l) => html`<button type="button" class="secondary" @click=${() => setLanguage(l)}>${l === 'ja' ? '日本語' : 'English'}</button> `)}</p>
        </form></section>`;
    }
    if (this.restoring || this.restored) return this.#restoreForm();
    const step = STEPS[this.step];
    const last = step === 'summary';
    return html`<section class="card">
      <p class="progress">${t('wizard.title')} — ${t('wizard.step', { n: this.step + 1, total: STEPS.length })}</p>
      <h1>${t(`wizard.${step}.title` as MessageKey)}</h1>
      <form @submit=${(e: Event) => { e.preventDefault(); void (last ? this.#finish() : this.#next()); }}>
        ${this.#stepBody(step)}
        ${this.banner ? html`<p class="banner error" role="alert">${this.banner}</p>` : nothing}
        <div class="actions">
          ${this.step > 0 ? html`<button type="button" class="secondary" @click=${() => { this.step -= 1; this.banner = ''; }}>${t('common.back')}</button>` : nothing}
          <button type="submit" ?disabled=${this.busy}>${last ? t('wizard.summary.finish') : t('common.next')}</button>
        </div>
      </form></section>`;
  }
}
customElements.define('mm-wizard', MmWizard);
