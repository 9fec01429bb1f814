// Reports: a domain admin (or the admin) edits a domain's report settings — digests, actions
// offered in them, the domain report — in a settings form like the appliance's
// (config/settings-groups.ts DOMAIN_SETTINGS_GROUPS, labels and help in ja/en), saved with the
// domain; sends the domain report now for a chosen day or week, and previews the
// domain report or a mailbox's next digest as the mail will show it (a sandboxed document from
// the server). A mailbox user turns their own digest on or off and previews it. Every account
// manages its saved searches mailed on a schedule here too (saved from the message log).
import { css, html, nothing } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { api, ApiFailure } from '../api.ts';
import { describeFailure } from '../failure.ts';
import { field } from '../field.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import type { SettingsSource } from '../settings-form.ts';
import { DOMAIN_SETTINGS_GROUPS, setValueAt, valueAt } from '../../../appliance/config/settings-groups.ts';
import { settingsText } from '../../../appliance/i18n/settings-texts.ts';
import '../saved-searches.ts';
import '../settings-form.ts';

type Domain = { name: string; timezone?: string; reports: Record<string, unknown> } & Record<string, unknown>;
interface Banner { ok: boolean; text: string }

const today = () => new Date().toISOString().slice(0, 10);

const POINTERS = DOMAIN_SETTINGS_GROUPS.reports;
/** A setting's place in the domain: `/domains/*` off its pointer. */
const inDomain = (pointer: string) => pointer.slice('/domains/*'.length);

/** The domain's report settings for the settings form: read from the domain, saved with it. */
function reportsSource(d: Domain): SettingsSource {
  const read = (doc: Domain) => Object.fromEntries(POINTERS.map((p) => [p, structuredClone(valueAt(doc, inDomain(p)))]));
  return {
    title: () => settingsText(lang(), 'group.reports'),
    pointers: POINTERS,
    load: async () => read(d),
    async save(values) {
      const next = structuredClone(d);
      for (const p of POINTERS) setValueAt(next, inDomain(p), values[p]);
      try {
        await api('PUT', `/api/domains/${encodeURIComponent(d.name)}`, next);
      } catch (err) {
        // The server's problems are relative to the domain; the form's pointers start at /domains/*.
        if (err instanceof ApiFailure) throw new ApiFailure(err.status, err.code, err.message, err.problems.map((x) => ({ ...x, path: `/domains/*${x.path}` })), err.fromServer);
        throw err;
      }
      d.reports = next.reports;
      return read(d);
    },
  };
}

export class MmReports extends I18nElement {
  static override properties = {
    user: {}, domains: { state: true }, selected: { state: true }, errors: { state: true }, banners: { state: true },
    send: { state: true }, preview: { state: true }, subscription: { state: true }, address: { state: true },
  };
  declare user: SessionUser;
  declare domains: Domain[] | null;
  declare selected: string;
  declare errors: Record<string, string>;
  declare banners: Record<string, Banner | undefined>;
  declare send: { date: string; period: 'day' | 'week'; recipients: string; withoutMessages: boolean };
  declare preview: string | null;
  declare subscription: { address: string; subscribed: boolean; digestEnabled: boolean } | null;
  declare address: string;
  defaultZone = '';
  // A report is longer than a quarantined message's preview.
  static override styles = [shared, css`iframe.preview { height: 36rem; }`];

  constructor() {
    super();
    this.domains = null;
    this.selected = '';
    this.errors = {};
    this.banners = {};
    this.send = { date: today(), period: 'day', recipients: '', withoutMessages: false };
    this.preview = null;
    this.subscription = null;
    this.address = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    try {
      if (this.user.role === 'user') {
        this.subscription = await api('GET', '/api/reports/subscription');
        return;
      }
      const list = await api<{ items: Domain[]; defaultTimezone: string }>('GET', '/api/domains');
      this.defaultZone = list.defaultTimezone;
      this.domains = list.items;
      this.selected ||= list.items[0]?.name ?? '';
    } catch (err) { this.#failed('load', err); }
  }

  #failed(key: string, err: unknown): void {
    const f = describeFailure(err);
    this.errors = f.errors;
    this.banners = { ...this.banners, [key]: { ok: false, text: f.text } };
  }

  #banner(key: string) {
    const b = this.banners[key];
    return b ? html`<p class="banner ${b.ok ? 'ok' : 'error'}" role=${b.ok ? 'status' : 'alert'}>${b.text}</p>` : nothing;
  }

  get #domain(): Domain | undefined {
    return this.domains?.find((d) => d.name === this.selected);
  }

  async #sendNow(ev: Event): Promise<void> {
    ev.preventDefault();
    const s = this.send;
    try {
      const res = await api<{ held: number }>('POST', '/api/reports/send', {
        domain: this.selected, date: s.date, period: s.period, withoutMessages: s.withoutMessages, language: lang(),
        recipients: s.recipients.split(/\s+/).filter(Boolean),
      });
      this.banners = { ...this.banners, send: { ok: true, text: t('reports.sent', { held: res.held }) } };
    } catch (err) { this.#failed('send', err); }
  }

  #domainPreview(): void {
    const s = this.send;
    const q = new URLSearchParams({ domain: this.selected, date: s.date, period: s.period, withoutMessages: String(s.withoutMessages), language: lang() });
    this.preview = `/api/reports/preview/domain?${q}`;
  }

  #digestPreview(address: string): void {
    this.preview = `/api/reports/preview/digest${address ? `?${new URLSearchParams({ address })}` : ''}`;
  }

  async #subscribe(on: boolean): Promise<void> {
    try {
      this.subscription = { ...this.subscription!, ...(await api<{ subscribed: boolean }>('PUT', '/api/reports/subscription', { subscribed: on })) };
      this.banners = { ...this.banners, subscription: { ok: true, text: t('common.saved') } };
    } catch (err) { this.#failed('subscription', err); }
  }

  #previewFrame() {
    return this.preview ? html`<iframe title=${t('reports.preview')} sandbox="" referrerpolicy="no-referrer" src=${this.preview} class="preview"></iframe>` : nothing;
  }

  #mailbox() {
    const s = this.subscription;
    if (!s) return html`<p>${t('common.loading')}</p>${this.#banner('load')}`;
    return html`<section class="card"><h2>${t('reports.subscription')}</h2>
      ${s.digestEnabled ? html`<label><input type="checkbox" role="switch" .checked=${s.subscribed}
        @change=${(e: Event) => void this.#subscribe((e.target as HTMLInputElement).checked)}> ${t('reports.subscribed')}</label>` : html`<p class="muted">${t('reports.notEnabled')}</p>`}
      ${this.#banner('subscription')}
      <div class="actions"><button type="button" class="secondary" @click=${() => this.#digestPreview('')}>${t('reports.preview')}</button></div>
      ${this.#previewFrame()}</section>`;
  }

  override render() {
    if (this.user.role === 'user') return html`<h1>${t('reports.title')}</h1>${this.#mailbox()}<mm-saved-searches></mm-saved-searches>`;
    const d = this.#domain;
    if (!this.domains) return html`<h1>${t('reports.title')}</h1><p>${t('common.loading')}</p>${this.#banner('load')}`;
    const s = this.send;
    return html`<h1>${t('reports.title')}</h1>
      ${field({ label: t('reports.domain'), value: this.selected, options: this.domains.map((x) => ({ value: x.name, label: x.name })),
        onInput: (v) => { this.selected = v; this.errors = {}; this.preview = null; } })}
      ${d ? html`
      <p class="muted">${t('reports.settingsHelp', { zone: d.timezone ?? this.defaultZone })}</p>
      ${keyed(d.name, html`<mm-settings-group .source=${reportsSource(d)}></mm-settings-group>`)}
      <form @submit=${(e: Event) => this.#sendNow(e)}><section class="card"><h2>${t('reports.sendNow')}</h2>
        ${field({ label: t('reports.date'), type: 'date', value: s.date, onInput: (v) => { this.send = { ...s, date: v }; } })}
        ${field({ label: t('reports.period'), value: s.period, options: [{ value: 'day', label: t('reports.period.day') }, { value: 'week', label: t('reports.period.week') }],
          onInput: (v) => { this.send = { ...s, period: v as 'day' | 'week' }; } })}
        ${field({ label: t('reports.recipients'), multiline: true, value: s.recipients, error: this.errors['/recipients'], onInput: (v) => { this.send = { ...s, recipients: v }; } })}
        <label><input type="checkbox" .checked=${s.withoutMessages} @change=${(e: Event) => { this.send = { ...s, withoutMessages: (e.target as HTMLInputElement).checked }; }}> ${t('reports.withoutMessages')}</label>
        ${this.#banner('send')}
        <div class="actions"><button type="submit">${t('reports.send')}</button>
          <button type="button" class="secondary" @click=${() => this.#domainPreview()}>${t('reports.previewDomain')}</button></div>
      </section></form>
      <section class="card"><h2>${t('reports.previewDigest')}</h2>
        ${field({ label: t('reports.address'), type: 'email', value: this.address, onInput: (v) => { this.address = v; } })}
        <div class="actions"><button type="button" class="secondary" @click=${() => this.#digestPreview(this.address)}>${t('reports.preview')}</button></div>
      </section>
      ${this.#previewFrame()}` : nothing}
      <mm-saved-searches></mm-saved-searches>`;
  }
}
customElements.define('mm-reports', MmReports);
