// Lists: every allow/block/condition list, inbound and outbound, at mailbox or domain level, and
// (the appliance admin's) appliance-wide lists that apply to every domain.
// Search, add (condition lists also take the field, header name and match mode), delete, import
// a CSV file into the list chosen above and export it in the same format (with an empty template
// to fill in); an import reports each line it did not take, with why. The domain is picked from
// the caller's own domains (the admin's: every domain, and "every domain" to search them all). A
// mailbox user works on their own address-level lists only, so the level and owner are fixed.
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { query } from '../dates.ts';
import { field } from '../field.ts';
import { I18nElement, t } from '../i18n.ts';
import { directionText } from '../format.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import type { MessageKey } from '../../../appliance/i18n/catalog.ts';

type Level = 'domain' | 'address' | 'appliance';
interface Entry { id: string; direction: string; kind: string; scope: Level; owner: string; value: string; field?: string; header?: string; mode?: string; note?: string }
const KINDS = ['sender-allow', 'sender-block', 'recipient-allow', 'recipient-block', 'condition-block', 'condition-allow', 'condition-quarantine', 'sender-lock', 'recipient-lock'];
const FIELDS = ['subject', 'header', 'envelope-from', 'from-header'];

export class MmLists extends I18nElement {
  static override properties = { user: {}, items: { state: true }, total: { state: true }, errors: { state: true }, banner: { state: true }, ref: { state: true }, domains: { state: true }, skipped: { state: true } };
  declare user: SessionUser;
  declare items: Entry[];
  declare total: number;
  declare errors: Record<string, string>;
  declare banner: { ok: boolean; text: string } | null;
  declare ref: { direction: string; kind: string; scope: Level; owner: string };
  /** The domains the caller may pick: the admin's are every domain of the appliance. */
  declare domains: string[];
  /** The lines the last import did not take. */
  declare skipped: { line: number; text: string; error: string }[];
  text = '';
  entry = { value: '', field: 'subject', header: '', mode: 'partial', note: '' };
  static override styles = [shared];

  constructor() {
    super();
    this.items = [];
    this.total = 0;
    this.errors = {};
    this.banner = null;
    this.ref = { direction: 'inbound', kind: 'sender-block', scope: 'domain', owner: '' };
    this.domains = [];
    this.skipped = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.user.role === 'user') this.ref = { ...this.ref, scope: 'address', owner: this.user.username.toLowerCase() };
    else {
      this.domains = [...this.user.domains];
      if (this.user.role === 'domain-admin') this.ref = { ...this.ref, owner: this.user.domains[0] ?? '' };
      else void api<{ items: { name: string }[] }>('GET', '/api/domains').then((r) => { this.domains = r.items.map((d) => d.name); }, (err) => this.#fail(err));
    }
    void this.#search();
  }

  async #search(ev?: Event): Promise<void> {
    ev?.preventDefault();
    const r = this.ref;
    try {
      const res = await api<{ items: Entry[]; total: number }>('GET', `/api/lists${query({ direction: r.direction, kind: r.kind, level: r.scope, owner: r.owner, text: this.text, limit: 500 })}`);
      this.items = res.items;
      this.total = res.total;
    } catch (err) { this.#fail(err); }
  }

  #fail(err: unknown): void {
    const f = describeFailure(err);
    this.errors = f.errors;
    this.banner = { ok: false, text: f.text };
  }

  async #add(ev: Event): Promise<void> {
    ev.preventDefault();
    const e = this.entry;
    const condition = this.ref.kind.startsWith('condition-');
    const addressField = e.field === 'envelope-from' || e.field === 'from-header';
    const body = { ...this.ref, value: e.value, ...(e.note ? { note: e.note } : {}),
      ...(condition ? { field: e.field, ...(addressField ? {} : { mode: e.mode }), ...(e.field === 'header' ? { header: e.header } : {}) } : {}) };
    try {
      await api('POST', '/api/lists', body);
      this.entry = { ...e, value: '', note: '' };
      this.errors = {};
      this.banner = { ok: true, text: t('common.saved') };
      await this.#search();
    } catch (err) { this.#fail(err); }
  }

  async #remove(id: string): Promise<void> {
    try {
      await api('DELETE', `/api/lists/${encodeURIComponent(id)}`);
      await this.#search();
    } catch (err) { this.#fail(err); }
  }

  async #import(ev: Event): Promise<void> {
    const input = ev.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    try {
      const res = await api<{ added: number; skipped: MmLists['skipped'] }>('POST', '/api/lists/import', { ...this.ref, text: await file.text() });
      this.banner = { ok: res.skipped.length === 0, text: t('lists.imported', { added: res.added, skipped: res.skipped.length }) };
      this.skipped = res.skipped;
      await this.#search();
    } catch (err) { this.#fail(err); }
    input.value = '';
  }

  override render() {
    const r = this.ref;
    const user = this.user.role === 'user';
    const condition = r.kind.startsWith('condition-');
    const set = (patch: Partial<MmLists['ref']>) => { this.ref = { ...this.ref, ...patch }; void this.#search(); };
    const e = this.entry;
    return html`<h1>${t('lists.title')}</h1>
      <form @submit=${(ev: Event) => this.#search(ev)}><section class="card"><div class="row">
        ${field({ label: t('lists.direction'), value: r.direction, options: [{ value: 'inbound', label: t('lists.inbound') }, { value: 'outbound', label: t('lists.outbound') }], onInput: (v) => set({ direction: v }) })}
        ${field({ label: t('lists.kind'), value: r.kind, options: KINDS.map((k) => ({ value: k, label: t(`lists.kind.${k}` as MessageKey) })), onInput: (v) => set({ kind: v }) })}
        ${user ? nothing : field({ label: t('lists.level'), value: r.scope, options: [{ value: 'domain', label: t('lists.level.domain') }, { value: 'address', label: t('lists.level.address') },
          ...(this.user.role === 'admin' ? [{ value: 'appliance', label: t('lists.level.appliance') }] : [])],
          // The appliance-wide lists have one owner; the others start from "pick one" again.
          onInput: (v) => set(v === 'appliance' ? { scope: 'appliance', owner: '*' } : { scope: v as Level, owner: this.ref.scope === 'appliance' ? '' : this.ref.owner }) })}
        ${user || r.scope === 'appliance' ? nothing : r.scope === 'domain'
          ? field({ label: t('lists.owner'), value: r.owner, onInput: (v) => set({ owner: v }),
            options: [...(this.user.role === 'admin' ? [{ value: '', label: t('lists.allOwners') }] : []), ...this.domains.map((d) => ({ value: d, label: d }))] })
          : field({ label: t('lists.owner'), type: 'email', value: r.owner, onInput: (v) => { this.ref = { ...this.ref, owner: v }; } })}
        ${field({ label: t('lists.text'), value: this.text, onInput: (v) => { this.text = v; } })}
      </div><div class="actions"><button type="submit">${t('common.search')}</button>
        ${r.owner ? html`<a href=${`/api/lists/export${query({ direction: r.direction, kind: r.kind, scope: r.scope, owner: r.owner })}`} download>${t('lists.export')}</a>` : nothing}
        <a href=${`/api/lists/template${query({ kind: r.kind })}`} download>${t('lists.template')}</a></div>
      </section></form>
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      ${this.skipped.length ? html`<section class="card"><h2>${t('lists.skippedTitle')}</h2><div class="table-wrap"><table class="cards">
        <thead><tr><th>${t('lists.line')}</th><th>${t('lists.lineText')}</th><th>${t('lists.problem')}</th></tr></thead>
        <tbody>${this.skipped.map((x) => html`<tr><td data-label=${t('lists.line')}>${x.line}</td><td class="mono" data-label=${t('lists.lineText')}>${x.text}</td><td data-label=${t('lists.problem')}>${x.error}</td></tr>`)}</tbody></table></div></section>` : nothing}
      ${r.owner ? nothing : html`<p class="muted">${t('lists.pickOwner')}</p>`}
      ${r.owner ? html`<form @submit=${(ev: Event) => this.#add(ev)}><section class="card"><h2>${t('common.add')}: ${t(`lists.kind.${r.kind}` as MessageKey)} — ${r.scope === 'appliance' ? t('lists.level.appliance') : r.owner}</h2><div class="row">
        ${condition ? field({ label: t('lists.field'), value: e.field, options: FIELDS.map((f) => ({ value: f, label: t(`lists.field.${f}` as MessageKey) })), onInput: (v) => { e.field = v; this.requestUpdate(); } }) : nothing}
        ${condition && e.field === 'header' ? field({ label: t('lists.header'), value: e.header, error: this.errors['/header'], onInput: (v) => { e.header = v; } }) : nothing}
        ${field({ label: t('lists.value'), value: e.value, error: this.errors['/value'], onInput: (v) => { e.value = v; } })}
        ${condition && (e.field === 'subject' || e.field === 'header') ? field({ label: t('lists.mode'), value: e.mode, options: [{ value: 'partial', label: t('lists.mode.partial') }, { value: 'exact', label: t('lists.mode.exact') }], onInput: (v) => { e.mode = v; } }) : nothing}
        ${field({ label: t('lists.note'), value: e.note, error: this.errors['/note'], onInput: (v) => { e.note = v; } })}
      </div><div class="actions"><button type="submit">${t('common.add')}</button></div>
      <label><span>${t('lists.importCsv')}</span><input type="file" accept=".csv,text/csv" @change=${(ev: Event) => this.#import(ev)}></label>
      </section></form>` : nothing}
      <section class="card"><p>${t('common.total', { count: this.total })}</p>
        ${this.items.length === 0 ? html`<p class="muted">${t('common.noResults')}</p>` : html`<div class="table-wrap"><table class="cards">
          <thead><tr><th>${t('lists.kind')}</th><th>${t('lists.owner')}</th><th>${t('lists.value')}</th><th>${t('lists.note')}</th><th></th></tr></thead>
          <tbody>${this.items.map((x) => html`<tr><td data-label=${t('lists.kind')}>${directionText(x.direction)} · ${t(`lists.kind.${x.kind}` as MessageKey)}</td><td class="mono address" data-label=${t('lists.owner')}>${x.scope === 'appliance' ? t('lists.level.appliance') : x.owner}</td>
            <td data-label=${t('lists.value')}>${x.field ? html`${t(`lists.field.${x.field}` as MessageKey)}${x.header ? html` (<span class="mono">${x.header}</span>)` : ''}${x.mode ? ` ${t(`lists.mode.${x.mode}` as MessageKey)}` : ''}: ` : ''}<span class="mono">${x.value}</span></td><td class="muted" data-label=${t('lists.note')}>${x.note ?? ''}</td>
            <td><button class="danger" aria-label=${`${t('common.delete')} ${x.value}`} @click=${() => this.#remove(x.id)}>${t('common.delete')}</button></td></tr>`)}</tbody></table></div>`}
      </section>`;
  }
}
customElements.define('mm-lists', MmLists);
