// Audit log: who changed what, when and from where, newest first; filters by user, by what was
// done (the action or its details) and by days in the caller's own zone. Each time is shown in the
// zone of the domain the entry concerns, else the appliance's. Admins see every entry, domain
// admins the entries about their own domains and users (the API decides). What was done is said
// in words from the catalog (`auditAction.<the recorded action as a slug>`), its details labelled.
import { css, html, nothing } from 'lit';
import { formatTime, ownZone, zoneFor } from '../dates.ts';
import { fetchPage } from '../paging.ts';
import { describeFailure } from '../failure.ts';
import { field } from '../field.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import { isMessageKey, type MessageKey } from '../../../appliance/i18n/catalog.ts';

interface Entry { at: string; actor: string; role?: string; ip: string; action: string; domains?: string[]; detail?: Record<string, unknown> }

const slug = (value: string) => value.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const known = (key: string): key is MessageKey => isMessageKey(key);

/** The quarantine's or the mail queue's action a record names, in words. */
function actionWord(v: unknown, area = 'quarantine'): string {
  const key = `${area}.action.${String(v)}`;
  return known(key) ? t(key) : String(v);
}
const areaOf = (e: Entry) => (e.action.includes('/api/queue/') ? 'queue' : 'quarantine');

/** What was done, in words: the catalog's sentence for the recorded action, else the action as recorded. */
export function actionText(e: Entry): string {
  const key = `auditAction.${slug(e.action)}`;
  return known(key) ? t(key, { action: actionWord(e.detail?.action, areaOf(e)) }) : e.action;
}

/** A detail's value as a person reads it: lists counted or joined, yes/no, nested facts as pairs. */
function value(k: string, v: unknown, area?: string): string {
  if (k === 'action') return actionWord(v, area);
  if (typeof v === 'boolean') return t(v ? 'common.yes' : 'common.no');
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string' || typeof x === 'number') ? v.join(', ') : String(v.length);
  if (v && typeof v === 'object') return Object.entries(v).map(([pk, pv]) => `${label(pk)}: ${value(pk, pv)}`).join(', ');
  return String(v);
}
const label = (k: string) => { const key = `auditDetail.${k}`; return known(key) ? t(key) : k; };

/**
 * The details as `label: value` pairs; a record's `params` are its own facts. An action the
 * catalog words itself keeps its English `words` (the record as the API and CSV give it) out of sight.
 */
function details(e: Entry): string {
  const parts: string[] = [];
  const worded = known(`auditAction.${slug(e.action)}`);
  for (const [k, v] of Object.entries(e.detail ?? {})) {
    if (k === 'params' && v && typeof v === 'object') {
      for (const [pk, pv] of Object.entries(v)) parts.push(`${label(pk)}: ${value(pk, pv, areaOf(e))}`);
    } else if (!((k === 'action' || k === 'words') && worded)) {
      parts.push(`${label(k)}: ${value(k, v)}`);
    }
  }
  return parts.join(' · ');
}

export class MmAudit extends I18nElement {
  static override properties = { items: { state: true }, next: { state: true }, banner: { state: true } };
  declare items: Entry[];
  declare next: string | undefined;
  declare banner: string | null;
  filters = { actor: '', action: '', from: '', to: '' };
  // On a phone each entry is a card of labelled lines (shared styles: table.cards).
  static override styles = [shared, css`
    td .mono, td.mono { overflow-wrap: anywhere; }
  `];

  constructor() {
    super();
    this.items = [];
    this.next = undefined;
    this.banner = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#search();
  }

  /** The first page of the search; with `more`, the next page appended to what is shown. */
  async #search(ev?: Event, more = false): Promise<void> {
    ev?.preventDefault();
    const f = this.filters;
    try {
      const res = await fetchPage<Entry>('/api/audit', f, more ? this.next : undefined);
      this.items = more ? [...this.items, ...res.items] : res.items;
      this.next = res.next;
      this.banner = null;
    } catch (err) { this.banner = describeFailure(err).text; }
  }

  override render() {
    const f = this.filters;
    return html`<h1>${t('audit.title')}</h1>
      <form @submit=${(e: Event) => this.#search(e)}><section class="card"><div class="row">
        ${field({ label: t('audit.user'), value: f.actor, name: 'actor', onInput: (v) => { f.actor = v; } })}
        ${field({ label: t('audit.action'), value: f.action, name: 'action', onInput: (v) => { f.action = v; } })}
      </div><div class="row">
        ${field({ label: t('common.dateFrom'), type: 'date', value: f.from, name: 'from', onInput: (v) => { f.from = v; } })}
        ${field({ label: t('common.dateTo'), type: 'date', value: f.to, name: 'to', onInput: (v) => { f.to = v; } })}
      </div><p class="muted">${t('common.datesIn', { zone: ownZone() })}</p><div class="actions"><button type="submit">${t('common.search')}</button></div></section></form>
      ${this.banner ? html`<p class="banner error" role="alert">${this.banner}</p>` : nothing}
      <section class="card">${this.items.length === 0 ? html`<p class="muted">${t('common.noResults')}</p>` : html`<div class="table-wrap"><table class="cards">
        <thead><tr><th>${t('common.date')}</th><th>${t('audit.user')}</th><th>${t('audit.action')}</th><th>${t('audit.domains')}</th><th>${t('audit.ip')}</th></tr></thead>
        <tbody>${this.items.map((e) => html`<tr>
          <td>${formatTime(lang(), e.at, zoneFor(...(e.domains ?? [])))}</td>
          <td>${e.actor}${e.role ? html`<div class="muted">${t(`role.${e.role as 'admin' | 'domain-admin' | 'user'}`)}</div>` : nothing}</td>
          <td title=${e.action}><span>${actionText(e)}</span>${details(e) ? html`<div class="muted">${details(e)}</div>` : nothing}</td>
          <td class="mono" data-label=${t('audit.domains')}>${(e.domains ?? []).join(', ') || html`<span class="muted">${t('audit.appliance')}</span>`}</td>
          <td class="mono" data-label=${t('audit.ip')}>${e.ip}</td></tr>`)}</tbody></table></div>`}
        ${this.items.length ? html`<p class="muted">${t('common.shown', { count: this.items.length })}</p>` : nothing}
        ${this.next ? html`<div class="actions"><button class="secondary" @click=${() => this.#search(undefined, true)}>${t('common.loadMore')}</button></div>` : nothing}
      </section>`;
  }
}
customElements.define('mm-audit', MmAudit);
