// Message log: search by every field the API offers (sender, recipient, subject, status; under
// "more criteria" the servers, ids, addresses, delivery reply, class and delivery times), received
// times to the minute in the caller's zone, all or any of the criteria, partial or exact, or only
// the latest record; newest first; export of the same search as CSV; one message with its
// recipients' outcomes and every delivery attempt with the remote server's reply. Times are shown
// in the zone of the message's domain (its recipient's, or for outbound mail its sender's).
// The result table shows the columns the user chose, in their order (remembered per user in this
// browser); the CSV export takes the same columns. The search's criteria can be saved and mailed
// on a schedule (saved-searches.ts).
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { formatTime, minuteInstant, ownZone, query, zoneFor } from '../dates.ts';
import { PAGE, type Page } from '../paging.ts';
import { field } from '../field.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { directionText, formatSize, statusText } from '../format.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import '../saved-searches.ts';
import type { SearchCriteria } from '../saved-searches.ts';

interface Item {
  id: string; receivedAt: string; direction: string; sender: string; from?: string; server?: string; messageId?: string; clientIp?: string; clientHost?: string;
  recipients: { address: string; original?: string; status: string; class?: string; tagged?: boolean }[]; subject: string; status: string; size: number;
  delivery?: { at: string; host: string; port: number; code: number; reply: string };
}
interface Detail extends Item {
  client?: { ip: string; hostname: string; helo: string; tls: boolean }; messageId?: string; reply?: string;
  attempts: { at: string; recipients: string[]; host: string; port: number; code: number; reply: string }[];
}
const STATUSES = ['queued', 'deferred', 'delivered', 'partially delivered', 'bounced', 'quarantined', 'deleted', 'rejected', 'rejected at RCPT', 'tempfailed'];
/** The criteria under "more criteria", each a text field searched like the main ones. */
const MORE = ['server', 'queueId', 'messageId', 'clientIp', 'clientHost', 'deliveryStatus', 'destIp', 'destHost', 'destPort'] as const;
const TIMES = ['from', 'to', 'deliveredAfter', 'deliveredBefore'] as const;
const TIME_LABELS = { from: 'messages.receivedFrom', to: 'messages.receivedTo', deliveredAfter: 'messages.deliveredAfter', deliveredBefore: 'messages.deliveredBefore' } as const;
const emptyFilters = () => ({
  sender: '', recipient: '', subject: '', status: '', class: '', server: '', queueId: '', messageId: '', clientIp: '', clientHost: '',
  deliveryStatus: '', destIp: '', destHost: '', destPort: '', from: '', to: '', deliveredAfter: '', deliveredBefore: '',
  match: 'all', partial: true, latest: false,
});
/** The columns the table can show (named as the CSV export names them), and the default choice. */
const COLUMNS = ['receivedAt', 'sender', 'from', 'recipients', 'originalRecipients', 'subject', 'status', 'class', 'size', 'id', 'messageId',
  'server', 'direction', 'clientIp', 'clientHost', 'destination', 'deliveryStatus'] as const;
type Column = (typeof COLUMNS)[number];
const DEFAULT_COLUMNS: Column[] = ['receivedAt', 'sender', 'recipients', 'subject', 'status'];
const columnsKey = (user: SessionUser | undefined) => `mailmoat.messages.columns.${user?.id ?? ''}`;

/** The user's remembered columns; the default when none (or nothing usable) is stored. */
function storedColumns(user: SessionUser | undefined): Column[] {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(columnsKey(user)) ?? 'null');
    const known = Array.isArray(saved) ? saved.filter((c): c is Column => (COLUMNS as readonly unknown[]).includes(c)) : [];
    return known.length ? [...new Set(known)] : [...DEFAULT_COLUMNS];
  } catch {
    return [...DEFAULT_COLUMNS];
  }
}

function cell(i: Item, c: Column): string {
  switch (c) {
    case 'receivedAt': return formatTime(lang(), i.receivedAt, zoneOf(i));
    case 'sender': return i.sender || '<>';
    case 'recipients': return i.recipients.map((r) => r.address).join(', ');
    case 'originalRecipients': return i.recipients.map((r) => r.original ?? r.address).join(', ');
    case 'subject': return i.subject || t('quarantine.noSubject');
    case 'status': return statusText(i.status);
    case 'direction': return directionText(i.direction);
    case 'class': return [...new Set(i.recipients.flatMap((r) => (r.class ? [r.class] : [])))].join(', ');
    case 'size': return formatSize(i.size);
    case 'destination': return i.delivery ? `${i.delivery.host}:${i.delivery.port}` : '';
    case 'deliveryStatus': return i.delivery?.reply ?? '';
    default: return i[c] ?? '';
  }
}
const MONO: ReadonlySet<Column> = new Set(['sender', 'recipients', 'originalRecipients', 'id', 'messageId', 'clientIp', 'clientHost', 'destination', 'deliveryStatus']);

/** The zone a message's times are shown in. */
const zoneOf = (i: Item) => zoneFor(...(i.direction === 'outbound' ? [i.sender] : []), ...i.recipients.map((r) => r.address));

export class MmMessages extends I18nElement {
  static override properties = { items: { state: true }, next: { state: true }, detail: { state: true }, banner: { state: true }, columns: { state: true }, choosing: { state: true }, reported: { state: true }, user: { attribute: false } };
  declare columns: Column[];
  declare user: SessionUser | undefined;
  /** The column chooser's controls exist only while it is open (they would repeat every field's name). */
  declare choosing: boolean;
  declare items: Item[];
  declare next: string | undefined;
  declare detail: Detail | null;
  declare banner: string | null;
  /** Set after a spam / not-spam report succeeded. */
  declare reported: string | null;
  filters = emptyFilters();
  static override styles = [shared];

  constructor() {
    super();
    this.items = [];
    this.next = undefined;
    this.detail = null;
    this.banner = null;
    this.choosing = false;
    this.reported = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.columns = storedColumns(this.user);
    void this.#search();
  }

  #setColumns(next: Column[]): void {
    this.columns = next;
    try { localStorage.setItem(columnsKey(this.user), JSON.stringify(next)); } catch { /* storage off: the choice lasts this visit */ }
  }

  #toggle(c: Column, on: boolean): void {
    // At least one column stays, so a message can always be opened.
    const next = on ? [...this.columns, c] : this.columns.filter((x) => x !== c);
    if (next.length) this.#setColumns(next);
  }

  #move(c: Column, by: -1 | 1): void {
    const next = [...this.columns];
    const i = next.indexOf(c);
    const j = i + by;
    if (i < 0 || j < 0 || j >= next.length) return;
    [next[i], next[j]] = [next[j], next[i]];
    this.#setColumns(next);
  }

  #columnChooser() {
    const order = [...this.columns, ...COLUMNS.filter((c) => !this.columns.includes(c))];
    return html`<details ?open=${this.choosing} @toggle=${(e: Event) => { this.choosing = (e.target as HTMLDetailsElement).open; }}>
      <summary>${t('messages.columns')}</summary>${this.choosing ? html`<p class="muted">${t('messages.columnsHint')}</p>
      <ul class="bare">${order.map((c) => {
        const name = t(`messages.col.${c}`);
        const at = this.columns.indexOf(c);
        return html`<li><label class="inline spaced"><input type="checkbox" .checked=${at >= 0} ?disabled=${at >= 0 && this.columns.length === 1}
            @change=${(e: Event) => this.#toggle(c, (e.target as HTMLInputElement).checked)}> ${name}</label>
          ${at >= 0 ? html`<button type="button" class="secondary small" aria-label=${t('messages.columnUp', { column: name })} ?disabled=${at === 0} @click=${() => this.#move(c, -1)}>↑</button>
            <button type="button" class="secondary small" aria-label=${t('messages.columnDown', { column: name })} ?disabled=${at === this.columns.length - 1} @click=${() => this.#move(c, 1)}>↓</button>` : nothing}</li>`;
      })}</ul>` : nothing}</details>`;
  }

  /** The first page of the search; with `more`, the next page appended to what is shown. */
  async #search(ev?: Event, more = false): Promise<void> {
    ev?.preventDefault();
    try {
      const res = await api<Page<Item>>('GET', `/api/messages${query({ ...this.#params(), limit: PAGE, cursor: more ? this.next : undefined })}`);
      this.items = more ? [...this.items, ...res.items] : res.items;
      this.next = res.next;
      this.banner = null;
    } catch (err) { this.banner = describeFailure(err).text; }
  }

  /** The search as the API's parameters: empty criteria left out, times as instants of the caller's zone. */
  #params(): Record<string, string | undefined> {
    const { match, partial, latest, ...fields } = this.filters;
    const params: Record<string, string | undefined> = { ...fields, match, mode: partial ? 'contains' : 'exact', latest: latest ? 'true' : undefined };
    for (const k of TIMES) params[k] = minuteInstant(fields[k]);
    return params;
  }

  /** The criteria a saved search keeps: the fields, all/any and exact/partial (its period is its schedule's). */
  #criteria(): SearchCriteria {
    const { match, partial, latest: _latest, from: _f, to: _t, deliveredAfter: _a, deliveredBefore: _b, ...fields } = this.filters;
    return { fields, match: match === 'any' ? 'any' : 'all', mode: partial ? 'contains' : 'exact' };
  }

  #reset(): void {
    this.filters = emptyFilters();
    this.requestUpdate();
    void this.#search();
  }

  async #open(id: string): Promise<void> {
    try { this.detail = (await api<{ message: Detail }>('GET', `/api/messages/${encodeURIComponent(id)}`)).message; }
    catch (err) { this.banner = describeFailure(err).text; }
  }

  /** "This is spam" / "not spam": the filter learns from the quarantined copy (the only one kept). */
  async #report(id: string, as: 'spam' | 'ham'): Promise<void> {
    try {
      await api('POST', `/api/feedback/messages/${encodeURIComponent(id)}`, { as });
      this.banner = null;
      this.reported = t('messages.reported');
    } catch (err) { this.reported = null; this.banner = describeFailure(err).text; }
  }

  #detail(d: Detail) {
    return html`<section class="card"><div class="actions spread flush-top"><h2 class="flush">${d.subject || t('quarantine.noSubject')}</h2>
      <span><button class="secondary" @click=${() => this.#report(d.id, 'spam')}>${t('messages.reportSpam')}</button>
      <button class="secondary" @click=${() => this.#report(d.id, 'ham')}>${t('messages.reportHam')}</button>
      <button class="secondary" @click=${() => { this.detail = null; }}>${t('common.close')}</button></span></div>
      <p><span class="mono">${d.id}</span> · ${directionText(d.direction)} · <span class="mono">${d.messageId ?? ''}</span></p>
      ${d.client ? html`<p><strong>${t('messages.client')}:</strong> <span class="mono">${d.client.hostname} [${d.client.ip}] HELO ${d.client.helo}${d.client.tls ? ' TLS' : ''}</span></p>` : nothing}
      ${d.reply ? html`<p><strong>${t('messages.reply')}:</strong> <span class="mono">${d.reply}</span></p>` : nothing}
      <table class="cards"><tbody>${d.recipients.map((r) => html`<tr><td class="mono address">${r.address}</td><td data-label=${t('common.status')}>${statusText(r.status)}</td>
        <td data-label=${t('common.class')}>${r.class ?? ''}${r.tagged ? ` (${t('messages.tagged')})` : ''}</td></tr>`)}</tbody></table>
      <h2>${t('messages.attempts')}</h2>
      ${d.attempts.length === 0 ? html`<p class="muted">${t('messages.noAttempts')}</p>` : html`<div class="table-wrap"><table><tbody>
        ${d.attempts.map((a) => html`<tr><td>${formatTime(lang(), a.at, zoneOf(d))}</td><td class="mono">${a.host}:${a.port}</td><td class="mono">${a.recipients.join(', ')}</td><td class="mono">${a.reply || a.code}</td></tr>`)}</tbody></table></div>`}
    </section>`;
  }

  override render() {
    const f = this.filters;
    return html`<h1>${t('messages.title')}</h1>
      <form @submit=${(e: Event) => this.#search(e)}><section class="card"><div class="row">
        ${field({ label: t('common.sender'), value: f.sender, onInput: (v) => { f.sender = v; } })}
        ${field({ label: t('common.recipient'), value: f.recipient, onInput: (v) => { f.recipient = v; } })}
        ${field({ label: t('common.subject'), value: f.subject, onInput: (v) => { f.subject = v; } })}
      </div><div class="row">
        ${field({ label: t('common.status'), value: f.status, options: [{ value: '', label: t('common.any') }, ...STATUSES.map((s) => ({ value: s, label: statusText(s) }))], onInput: (v) => { f.status = v; } })}
        ${TIMES.slice(0, 2).map((k) => field({ label: t(TIME_LABELS[k]), type: 'datetime-local', value: f[k], onInput: (v) => { f[k] = v; } }))}
      </div><details><summary>${t('messages.moreCriteria')}</summary><div class="row">
        ${MORE.map((k) => field({ label: t(`messages.${k}`), value: f[k], onInput: (v) => { f[k] = v; } }))}
        ${field({ label: t('common.class'), value: f.class, onInput: (v) => { f.class = v; } })}
        ${TIMES.slice(2).map((k) => field({ label: t(TIME_LABELS[k]), type: 'datetime-local', value: f[k], onInput: (v) => { f[k] = v; } }))}
      </div></details><div class="row">
        ${field({ label: t('messages.match'), value: f.match, options: [{ value: 'all', label: t('messages.matchAll') }, { value: 'any', label: t('messages.matchAny') }], onInput: (v) => { f.match = v; } })}
      </div>
      <label><input type="checkbox" .checked=${f.partial} @change=${(e: Event) => { f.partial = (e.target as HTMLInputElement).checked; }}> ${t('messages.partial')}</label>
      <label><input type="checkbox" .checked=${f.latest} @change=${(e: Event) => { f.latest = (e.target as HTMLInputElement).checked; }}> ${t('messages.latest')}</label>
      <p class="muted">${t('messages.timesIn', { zone: ownZone() })}</p><div class="actions"><button type="submit">${t('common.search')}</button>
        <button type="button" class="secondary" @click=${() => this.#reset()}>${t('messages.reset')}</button>
        <a class="button secondary" href=${`/api/messages/export${query({ ...this.#params(), columns: this.columns.join(',') })}`} download>${t('messages.export')}</a></div></section></form>
      <mm-saved-searches .criteria=${() => this.#criteria()}></mm-saved-searches>
      ${this.banner ? html`<p class="banner error" role="alert">${this.banner}</p>` : nothing}
      ${this.reported ? html`<p class="banner ok" role="status">${this.reported}</p>` : nothing}
      ${this.detail ? this.#detail(this.detail) : nothing}
      <section class="card">${this.#columnChooser()}${this.items.length === 0 ? html`<p class="muted">${t('common.noResults')}</p>` : html`<div class="table-wrap"><table class="cards">
        <thead><tr>${this.columns.map((c) => html`<th>${t(`messages.col.${c}`)}</th>`)}</tr></thead>
        <tbody>${this.items.map((i) => html`<tr>${this.columns.map((c, n) => {
          // The subject opens the message; without a subject column, the first column does.
          const opens = c === 'subject' || (n === 0 && !this.columns.includes('subject'));
          return html`<td class=${MONO.has(c) ? 'mono' : ''} data-label=${t(`messages.col.${c}`)}>${opens
            ? html`<a href="#/messages" @click=${(e: Event) => { e.preventDefault(); void this.#open(i.id); }}>${cell(i, c)}</a>` : cell(i, c)}</td>`;
        })}</tr>`)}</tbody></table></div>`}
        ${this.next ? html`<div class="actions"><button class="secondary" @click=${() => this.#search(undefined, true)}>${t('common.loadMore')}</button></div>` : nothing}
      </section>`;
  }
}
customElements.define('mm-messages', MmMessages);
