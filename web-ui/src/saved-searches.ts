// Saved message-log searches mailed on a schedule (API /api/saved-searches): the list of the
// account's own searches (the admin's: everyone's) with "send now" and delete, and — when given
// the message log's current criteria — a form to save that search with its format, schedule and
// recipients. Used by the message log page and the Reports page.
import { html, nothing } from 'lit';
import { api } from './api.ts';
import { describeFailure } from './failure.ts';
import { field } from './field.ts';
import { I18nElement, t } from './i18n.ts';
import { shared } from './styles.ts';

export interface SearchCriteria { fields: Record<string, string>; match: 'all' | 'any'; mode: 'exact' | 'contains' }
interface Saved {
  id: string; name: string; fields: Record<string, string>; match: string; mode: string; format: 'csv' | 'html';
  frequency: 'daily' | 'weekly'; time: string; weekday: number; recipients: string[];
}

export class MmSavedSearches extends I18nElement {
  static override properties = { criteria: { attribute: false }, items: { state: true }, banner: { state: true }, errors: { state: true }, form: { state: true } };
  /** The message log's current search, read when saving; absent on the Reports page (list only). */
  declare criteria: (() => SearchCriteria) | undefined;
  declare items: Saved[] | null;
  declare banner: { ok: boolean; text: string } | null;
  declare errors: Record<string, string>;
  declare form: { name: string; format: 'csv' | 'html'; frequency: 'daily' | 'weekly'; time: string; weekday: string; recipients: string };
  static override styles = [shared];

  constructor() {
    super();
    this.items = null;
    this.banner = null;
    this.errors = {};
    this.form = { name: '', format: 'csv', frequency: 'daily', time: '08:00', weekday: '1', recipients: '' };
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    try { this.items = (await api<{ items: Saved[] }>('GET', '/api/saved-searches')).items; }
    catch (err) { this.banner = { ok: false, text: describeFailure(err).text }; }
  }

  async #save(ev: Event): Promise<void> {
    ev.preventDefault();
    const f = this.form;
    const c = this.criteria!();
    const recipients = f.recipients.split(/\s+/).filter(Boolean);
    try {
      await api('POST', '/api/saved-searches', {
        name: f.name, fields: Object.fromEntries(Object.entries(c.fields).filter(([, v]) => v.trim() !== '')), match: c.match, mode: c.mode,
        format: f.format, frequency: f.frequency, time: f.time, weekday: Number(f.weekday), ...(recipients.length ? { recipients } : {}),
      });
      this.errors = {};
      this.banner = { ok: true, text: t('saved.saved', { name: f.name }) };
      await this.#load();
    } catch (err) {
      const d = describeFailure(err);
      this.errors = d.errors;
      this.banner = { ok: false, text: d.text };
    }
  }

  async #sendNow(s: Saved): Promise<void> {
    try {
      const res = await api<{ sent: boolean }>('POST', `/api/saved-searches/${encodeURIComponent(s.id)}/send`);
      this.banner = { ok: res.sent, text: t(res.sent ? 'saved.sentNow' : 'saved.nothingSent') };
    } catch (err) { this.banner = { ok: false, text: describeFailure(err).text }; }
  }

  async #delete(s: Saved): Promise<void> {
    try {
      await api('DELETE', `/api/saved-searches/${encodeURIComponent(s.id)}`);
      await this.#load();
    } catch (err) { this.banner = { ok: false, text: describeFailure(err).text }; }
  }

  #form() {
    const f = this.form;
    const set = (patch: Partial<typeof f>) => { this.form = { ...f, ...patch }; };
    return html`<details><summary>${t('saved.saveThis')}</summary><form @submit=${(e: Event) => this.#save(e)}><div class="row">
      ${field({ label: t('saved.name'), value: f.name, error: this.errors['/name'], onInput: (v) => set({ name: v }) })}
      ${field({ label: t('saved.format'), value: f.format, options: [{ value: 'csv', label: t('saved.format.csv') }, { value: 'html', label: t('saved.format.html') }], onInput: (v) => set({ format: v as 'csv' | 'html' }) })}
      ${field({ label: t('saved.frequency'), value: f.frequency, options: [{ value: 'daily', label: t('saved.frequency.daily') }, { value: 'weekly', label: t('saved.frequency.weekly') }], onInput: (v) => set({ frequency: v as 'daily' | 'weekly' }) })}
      ${field({ label: t('saved.time'), type: 'time', value: f.time, error: this.errors['/time'], onInput: (v) => set({ time: v }) })}
      ${f.frequency === 'weekly' ? field({ label: t('saved.weekday'), type: 'number', value: f.weekday, error: this.errors['/weekday'], onInput: (v) => set({ weekday: v }) }) : nothing}
      </div>
      ${field({ label: t('saved.recipients'), multiline: true, value: f.recipients, error: this.errors['/recipients'], onInput: (v) => set({ recipients: v }) })}
      <div class="actions"><button type="submit">${t('saved.save')}</button></div></form></details>`;
  }

  override render() {
    return html`<section class="card"><h2>${t('saved.title')}</h2><p class="muted">${t('saved.help')}</p>
      ${this.criteria ? this.#form() : nothing}
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      ${this.items === null ? html`<p>${t('common.loading')}</p>` : this.items.length === 0 ? html`<p class="muted">${t('saved.none')}</p>` : html`<div class="table-wrap"><table>
        <thead><tr><th>${t('saved.name')}</th><th>${t('saved.criteria')}</th><th>${t('saved.schedule')}</th><th>${t('saved.to')}</th><th></th></tr></thead>
        <tbody>${this.items.map((s) => html`<tr><td>${s.name}</td>
          <td class="mono">${Object.entries(s.fields).map(([k, v]) => `${k}=${v}`).join(' ') || '*'} (${s.match}, ${s.mode})</td>
          <td>${t(`saved.frequency.${s.frequency}`)} ${s.frequency === 'weekly' ? `(${s.weekday}) ` : ''}${s.time} · ${t(`saved.format.${s.format}`)}</td>
          <td class="mono">${s.recipients.join(', ')}</td>
          <td><button type="button" class="secondary small" @click=${() => this.#sendNow(s)}>${t('saved.sendNow')}</button>
            <button type="button" class="secondary small" @click=${() => this.#delete(s)}>${t('saved.delete')}</button></td></tr>`)}</tbody></table></div>`}
    </section>`;
  }
}
customElements.define('mm-saved-searches', MmSavedSearches);
