// Quarantine: search by sender, recipient, subject, class and date; a message's score with the
// reasons behind it, why it was held, its headers and attachments, and a preview rendered by the
// server as a sandboxed document (no scripts, no remote images) in an iframe; the actions on one
// message or on the selected ones (kept across "Load more" pages), or on every message matching
// the search (counted and done by the server, in the caller's scope). An action on several
// messages, and a delete, block, training or report even on one, first asks, saying how many and
// what. Each user sees only what the API lets them see; times are in each message's recipient
// domain's zone. Released messages go straight to the delivery queue, which delivers at once; a
// release (one message or several) can be undone while its copies still wait there (the
// downstream deferred them) and none is being delivered: the server takes back what it still can
// and says why for the rest. On a phone the list is a column of cards.
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { dayEnd, dayStart, formatTime, ownZone, query, zoneFor } from '../dates.ts';
import { fetchPage } from '../paging.ts';
import { confirmDialog } from '../dialog.ts';
import { field } from '../field.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { classExplanation, formatScore, formatSize } from '../format.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import type { MessageKey } from '../../../appliance/i18n/catalog.ts';

interface Item { id: string; receivedAt: string; sender: string; recipients: string[]; subject: string; class: string; score?: number; size: number; virus?: string }
interface Detail extends Item {
  fromHeader: string; reasons: { name: string; score: number; description?: string }[]; why: string[];
  headers: { name: string; value: string }[]; attachments: { filename: string; contentType: string; size: number }[];
}
type Action = 'release' | 'release-train' | 'allow-release' | 'allow-domain-release' | 'report-spam' | 'block-delete' | 'delete' | 'forward';
const ACTIONS: Action[] = ['release', 'release-train', 'allow-release', 'allow-domain-release', 'report-spam', 'block-delete', 'delete'];
/** The actions that ask even for one message: they cannot be undone, or they teach the filter. */
const ASKS: Action[] = ['delete', 'block-delete', 'release-train', 'report-spam'];
type Result = { ok: boolean; error?: string; undo?: string[] };
interface Matching { count: number; more: boolean; max: number; asOf: string }
const CLASSES = ['Spam', 'Phish', 'Virus', 'Unsure', 'Blacklisted', 'Error', 'Not Spam', 'Whitelisted', 'Unknown', 'Locked'];

export class MmQuarantine extends I18nElement {
  static override properties = { user: {}, items: { state: true }, next: { state: true }, selected: { state: true }, detail: { state: true }, banner: { state: true }, forwardTo: { state: true }, usage: { state: true }, matching: { state: true }, undo: { state: true } };
  declare user: SessionUser;
  declare items: Item[];
  declare next: string | undefined;
  declare selected: Set<string>;
  declare detail: Detail | null;
  declare banner: { ok: boolean; text: string } | null;
  declare forwardTo: string;
  /** The caller's own mailbox's use of its quarantine quota (mailbox users). */
  declare usage: { messages: number; percent: number; maxMessages: number; maxBytes: number } | null;
  /** Every message matching the search shown is selected (counted by the server). */
  declare matching: Matching | null;
  /** The queued copies the last release made: what "undo" would take back. */
  declare undo: string[];
  filters = { sender: '', recipient: '', subject: '', class: '', from: '', to: '' };
  /** The filters of the list shown: what "every message matching" means. */
  applied = { ...this.filters };
  static override styles = [shared];

  constructor() {
    super();
    this.items = [];
    this.next = undefined;
    this.selected = new Set();
    this.detail = null;
    this.banner = null;
    this.forwardTo = '';
    this.usage = null;
    this.matching = null;
    this.undo = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#search();
    void this.#loadUsage();
  }

  async #loadUsage(): Promise<void> {
    if (this.user?.role !== 'user') return;
    const res = await api<{ mailboxes: NonNullable<MmQuarantine['usage']>[] }>('GET', '/api/quarantine-usage').catch(() => undefined);
    this.usage = res?.mailboxes[0] ?? null;
  }

  /** The first page of the search; with `more`, the next page appended to what is shown. */
  async #search(ev?: Event, more = false): Promise<void> {
    ev?.preventDefault();
    if (!more) { this.applied = { ...this.filters }; this.matching = null; }
    const f = this.applied;
    try {
      const res = await fetchPage<Item>('/api/quarantine', f, more ? this.next : undefined);
      const items = more ? [...this.items, ...res.items.filter((i) => !this.items.some((x) => x.id === i.id))] : res.items;
      this.items = items;
      this.next = res.next;
      this.selected = new Set([...this.selected].filter((id) => items.some((i) => i.id === id)));
    } catch (err) { this.#fail(err); }
  }

  async #open(id: string): Promise<void> {
    try {
      this.detail = (await api<{ message: Detail }>('GET', `/api/quarantine/${encodeURIComponent(id)}`)).message;
    } catch (err) { this.#fail(err); }
  }

  #fail(err: unknown): void {
    this.banner = { ok: false, text: describeFailure(err).text };
  }

  /** The search shown, as the API takes it: the day fields as instants in the caller's zone. */
  #matchQuery(): Record<string, string> {
    const f = this.applied;
    const q: Record<string, string | undefined> = { sender: f.sender, recipient: f.recipient, subject: f.subject, class: f.class, from: dayStart(f.from), to: dayEnd(f.to) };
    return Object.fromEntries(Object.entries(q).filter((e): e is [string, string] => Boolean(e[1])));
  }

  async #selectMatching(): Promise<void> {
    try {
      this.matching = await api<Matching>('GET', `/api/quarantine-matching${query(this.#matchQuery())}`);
    } catch (err) { this.#fail(err); }
  }

  /** Asks first when the action touches several messages, or cannot be undone, or teaches the filter. */
  #confirm(action: Action, count: number): Promise<boolean> {
    if (count <= 1 && !ASKS.includes(action)) return Promise.resolve(true);
    const label = t(`quarantine.action.${action}`);
    const message = action === 'delete' ? t('quarantine.confirmDeleteCount', { count })
      : action === 'block-delete' ? t('quarantine.confirmBlockDelete', { count })
      : [t('quarantine.confirmCount', { action: label, count }),
        action === 'release-train' ? t('quarantine.confirmTrain') : action === 'report-spam' ? t('quarantine.confirmReport')
          : action === 'forward' ? t('quarantine.confirmForward', { address: this.forwardTo }) : ''].filter(Boolean).join(' ');
    const deletes = action === 'delete' || action === 'block-delete';
    return confirmDialog({ heading: deletes ? t('quarantine.deleteTitle') : t('quarantine.confirmTitle', { action: label }), message, confirmLabel: label,
      danger: deletes || action === 'report-spam' });
  }

  /** The action on these messages, or with `all` on every message matching the search. */
  async #act(action: Action, ids: string[], all?: Matching): Promise<void> {
    if (!(await this.#confirm(action, all ? all.count : ids.length))) return;
    const label = t(`quarantine.action.${action}` as MessageKey);
    const body = action === 'forward' ? { forwardTo: this.forwardTo } : {};
    this.undo = [];
    try {
      if (ids.length === 1 && !all) {
        const res = await api<{ affected: string[]; undo?: string[] }>('POST', `/api/quarantine/${encodeURIComponent(ids[0])}/${action}`, body);
        this.banner = { ok: true, text: t('quarantine.done', { action: label, affected: res.affected.join(', ') }) };
        this.undo = res.undo ?? [];
      } else {
        const res = all
          ? await api<{ results: Result[] }>('POST', '/api/quarantine-matching', { query: this.#matchQuery(), action, asOf: all.asOf, expected: all.count, ...body })
          : await api<{ results: Result[] }>('POST', '/api/quarantine-bulk', { ids, action, ...body });
        this.#summarize(res.results, 'quarantine.bulkDone');
        this.undo = res.results.flatMap((r) => r.undo ?? []);
      }
      if (action !== 'forward') { this.detail = null; this.selected = new Set(); }
      await this.#search();
    } catch (err) { this.#fail(err); }
  }

  /** How many succeeded and failed, with the failures' reasons. */
  #summarize(results: Result[], key: 'quarantine.bulkDone' | 'quarantine.undone'): void {
    const failed = results.filter((r) => !r.ok);
    this.banner = { ok: failed.length === 0, text: t(key, { ok: results.length - failed.length, failed: failed.length }) + (failed.length ? ` ${failed.map((f) => f.error).join('; ')}` : '') };
  }

  /** Takes the last release's copies back into the quarantine, as far as they still wait in the queue. */
  async #undo(): Promise<void> {
    const copies = this.undo;
    this.undo = [];
    try {
      const res = await api<{ results: Result[] }>('POST', '/api/quarantine-undo', { copies });
      this.#summarize(res.results, 'quarantine.undone');
      await this.#search();
    } catch (err) { this.#fail(err); }
  }

  #toggle(id: string, on: boolean): void {
    this.matching = null;
    const next = new Set(this.selected);
    if (on) next.add(id); else next.delete(id);
    this.selected = next;
  }

  #actions(ids: string[], all?: Matching) {
    const admin = this.user?.role === 'admin';
    const none = all ? all.more || all.count === 0 : ids.length === 0;
    return html`<div class="actions">
      ${ACTIONS.map((a) => html`<button class=${a.includes('delete') ? 'danger' : ''} ?disabled=${none} @click=${() => this.#act(a, ids, all)}>${t(`quarantine.action.${a}` as MessageKey)}</button>`)}
      ${admin ? html`<span class="row grow">${field({ label: t('quarantine.forwardTo'), type: 'email', value: this.forwardTo, onInput: (v) => { this.forwardTo = v; this.requestUpdate(); } })}
        <button class="secondary" ?disabled=${none || !this.forwardTo} @click=${() => this.#act('forward', ids, all)}>${t('quarantine.action.forward')}</button></span>` : nothing}
    </div>`;
  }

  #detail(d: Detail) {
    return html`<section class="card" aria-label=${d.subject}>
      <div class="actions spread flush-top"><h2 class="flush">${d.subject}</h2>
        <button class="secondary" @click=${() => { this.detail = null; }}>${t('common.close')}</button></div>
      <p class="mono">${d.fromHeader || d.sender} → ${d.recipients.join(', ')} · ${formatTime(lang(), d.receivedAt, zoneFor(...d.recipients))}</p>
      <p><strong>${t('common.class')}:</strong> ${d.class}${d.virus ? html` (<span class="mono">${d.virus}</span>)` : ''} · <strong>${t('quarantine.score')}:</strong> ${formatScore(d.score)}</p>
      ${classExplanation(d.class) ? html`<p class="muted">${classExplanation(d.class)}</p>` : nothing}
      ${d.why.length ? html`<p><strong>${t('quarantine.why')}:</strong> ${d.why.join('; ')}</p>` : nothing}
      ${d.reasons.length ? html`<h2>${t('quarantine.reasons')}</h2><div class="table-wrap"><table><tbody>
        ${d.reasons.map((r) => html`<tr><td title=${r.name}>${r.description ?? r.name}</td><td>${formatScore(r.score, true)}</td></tr>`)}</tbody></table></div>` : nothing}
      ${this.#actions([d.id])}
      <h2>${t('quarantine.preview')}</h2>
      <iframe title=${t('quarantine.preview')} sandbox="" referrerpolicy="no-referrer" src=${`/api/quarantine/${encodeURIComponent(d.id)}/preview`}
        class="preview"></iframe>
      ${d.attachments.length ? html`<h2>${t('quarantine.attachments')}</h2><ul>${d.attachments.map((a) => html`<li class="mono">${a.filename || t('quarantine.noName')} — ${a.contentType}, ${formatSize(a.size)}</li>`)}</ul>` : nothing}
      <details><summary>${t('quarantine.headers')}</summary><div class="table-wrap"><table><tbody>
        ${d.headers.map((h) => html`<tr><th class="mono">${h.name}</th><td class="mono">${h.value}</td></tr>`)}</tbody></table></div></details>
    </section>`;
  }

  override render() {
    const f = this.filters;
    const ids = [...this.selected];
    const allOn = this.items.length > 0 && this.items.every((i) => this.selected.has(i.id));
    const m = this.matching;
    const u = this.usage;
    return html`<h1>${t('quarantine.title')}</h1>
      ${u && (u.maxMessages || u.maxBytes) ? html`<p class="muted">${t('quarantine.usage', { messages: u.messages, percent: u.percent })}</p>` : nothing}
      <form @submit=${(e: Event) => this.#search(e)}><section class="card">
        <div class="row">
          ${field({ label: t('common.sender'), value: f.sender, onInput: (v) => { f.sender = v; } })}
          ${this.user?.role === 'user' ? nothing : field({ label: t('common.recipient'), value: f.recipient, onInput: (v) => { f.recipient = v; } })}
          ${field({ label: t('common.subject'), value: f.subject, onInput: (v) => { f.subject = v; } })}
        </div><div class="row">
          ${field({ label: t('common.class'), value: f.class, options: [{ value: '', label: t('common.any') }, ...CLASSES.map((c) => ({ value: c, label: c }))], onInput: (v) => { f.class = v; } })}
          ${field({ label: t('common.dateFrom'), type: 'date', value: f.from, onInput: (v) => { f.from = v; } })}
          ${field({ label: t('common.dateTo'), type: 'date', value: f.to, onInput: (v) => { f.to = v; } })}
        </div>
        <p class="muted">${t('common.datesIn', { zone: ownZone() })}</p>
        <div class="actions"><button type="submit">${t('common.search')}</button></div></section></form>
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      ${this.undo.length ? html`<div class="actions"><button class="secondary" @click=${() => this.#undo()}>${t('quarantine.undo', { count: this.undo.length })}</button>
        <span class="muted">${t('quarantine.undoHint')}</span></div>` : nothing}
      ${this.detail ? this.#detail(this.detail) : nothing}
      <section class="card">
        <p>${t('common.shown', { count: this.items.length })} · ${m ? t('quarantine.matchingSelected', { count: m.count }) : t('quarantine.selected', { count: ids.length })}</p>
        ${allOn && this.next && !m ? html`<p><button class="secondary" @click=${() => this.#selectMatching()}>${t('quarantine.selectMatching')}</button></p>` : nothing}
        ${m ? html`<p role="status">${m.more ? t('quarantine.selectMatchingMore', { max: m.max }) : nothing}
          <button class="secondary" @click=${() => { this.matching = null; this.selected = new Set(); }}>${t('quarantine.clearSelection')}</button></p>` : nothing}
        ${this.#actions(ids, m ?? undefined)}
        ${this.items.length === 0 ? html`<p class="muted">${t('common.noResults')}</p>` : html`<div class="table-wrap"><table class="cards">
          <thead><tr><th><input type="checkbox" aria-label=${t('quarantine.selectAll')} .checked=${allOn}
            @change=${(e: Event) => { this.matching = null; this.selected = (e.target as HTMLInputElement).checked ? new Set(this.items.map((i) => i.id)) : new Set(); }}></th>
            <th>${t('common.date')}</th><th>${t('common.sender')}</th><th>${t('common.recipient')}</th><th>${t('common.subject')}</th><th>${t('common.class')}</th><th>${t('quarantine.score')}</th></tr></thead>
          <tbody>${this.items.map((i) => html`<tr>
            <td><input type="checkbox" aria-label=${i.subject || t('quarantine.noSubject')} .checked=${this.selected.has(i.id)} @change=${(e: Event) => this.#toggle(i.id, (e.target as HTMLInputElement).checked)}></td>
            <td data-label=${t('common.date')}>${formatTime(lang(), i.receivedAt, zoneFor(...i.recipients))}</td>
            <td class="mono address" data-label=${t('common.sender')}>${i.sender || '<>'}</td><td class="mono address" data-label=${t('common.recipient')}>${i.recipients.join(', ')}</td>
            <td data-label=${t('common.subject')}><a href="#/quarantine" @click=${(e: Event) => { e.preventDefault(); void this.#open(i.id); }}>${i.subject || t('quarantine.noSubject')}</a></td>
            <td data-label=${t('common.class')} title=${classExplanation(i.class) ?? ''}>${i.class}</td><td data-label=${t('quarantine.score')}>${formatScore(i.score)}</td></tr>`)}</tbody></table></div>`}
        ${this.next ? html`<div class="actions"><button class="secondary" @click=${() => this.#search(undefined, true)}>${t('common.loadMore')}</button></div>` : nothing}
      </section>`;
  }
}
customElements.define('mm-quarantine', MmQuarantine);
