// Mail queue (admin and domain admins): the messages accepted and still waiting for delivery,
// oldest first, a page at a time, by recipient domain and state, each with its last problem (the
// remote's reply, shown as it came) and its next try; per message retry now, bounce and delete.
// Bounce and delete end its delivery, so both ask first and name the sender and recipients. A
// domain admin sees only their domains' recipients (the API decides). On a phone each message is a
// card of labelled lines (shared styles: table.cards).
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { formatTime, query, zoneFor } from '../dates.ts';
import { confirmDialog } from '../dialog.ts';
import { describeFailure } from '../failure.ts';
import { field } from '../field.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { directionText, formatSize } from '../format.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';

type State = 'new' | 'deferred' | 'sending';
type Action = 'retry' | 'bounce' | 'delete';
interface Item {
  id: string; receivedAt: string; direction: string; sender: string; subject?: string; size: number; state: State;
  recipients: { address: string; attempts: number; lastError?: string; nextAttemptAt: string }[];
  lastError?: string; nextAttemptAt: string; expiresAt: string;
}
const STATES: State[] = ['new', 'deferred', 'sending'];
const ACTIONS: Action[] = ['retry', 'bounce', 'delete'];
const PAGE = 50;

export class MmQueue extends I18nElement {
  static override properties = { user: {}, items: { state: true }, total: { state: true }, offset: { state: true }, banner: { state: true }, domains: { state: true } };
  declare user: SessionUser;
  declare items: Item[];
  declare total: number;
  declare offset: number;
  declare banner: { ok: boolean; text: string } | null;
  /** Suggestions for the domain filter: the caller's domains (the admin's: every served domain). */
  declare domains: string[];
  filters = { domain: '', state: '' };
  static override styles = [shared];

  constructor() {
    super();
    this.items = [];
    this.total = 0;
    this.offset = 0;
    this.banner = null;
    this.domains = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.user?.role === 'domain-admin') this.domains = [...this.user.domains];
    else void api<{ items: { name: string }[] }>('GET', '/api/domains').then((r) => { this.domains = r.items.map((d) => d.name); }, () => undefined);
    void this.#load();
  }

  async #load(offset = this.offset): Promise<void> {
    try {
      const res = await api<{ items: Item[]; total: number }>('GET', `/api/queue${query({ domain: this.filters.domain || undefined, state: this.filters.state || undefined, limit: PAGE, offset })}`);
      this.items = res.items;
      this.total = res.total;
      this.offset = offset;
    } catch (err) {
      this.banner = { ok: false, text: describeFailure(err).text };
    }
  }

  async #act(item: Item, action: Action): Promise<void> {
    const who = { sender: item.sender || t('queue.nullSender'), recipients: item.recipients.map((r) => r.address).join(', ') };
    if (action !== 'retry' && !(await confirmDialog({
      heading: t(action === 'bounce' ? 'queue.bounceTitle' : 'queue.deleteTitle'),
      message: t(action === 'bounce' ? 'queue.bounceQuestion' : 'queue.deleteQuestion', who),
      confirmLabel: t(`queue.action.${action}`), danger: action === 'delete',
    }))) return;
    try {
      const res = await api<{ affected: string[] }>('POST', `/api/queue/${encodeURIComponent(item.id)}/${action}`, action === 'retry' ? {} : { confirm: true });
      this.banner = { ok: true, text: t(`queue.done.${action}`, { recipients: res.affected.join(', ') }) };
    } catch (err) {
      this.banner = { ok: false, text: describeFailure(err).text };
    }
    await this.#load();
  }

  #row(i: Item) {
    const zone = zoneFor(...i.recipients.map((r) => r.address));
    return html`<tr>
      <td data-label=${t('queue.received')}>${formatTime(lang(), i.receivedAt, zone)}<div class="muted">${directionText(i.direction)} · ${formatSize(i.size)}</div></td>
      <td data-label=${t('common.sender')}>${i.sender ? html`<span class="mono address">${i.sender}</span>` : html`<span class="muted">${t('queue.nullSender')}</span>`}</td>
      <td class="mono address" data-label=${t('queue.recipients')}>${i.recipients.map((r) => r.address).join(', ')}</td>
      <td data-label=${t('common.subject')}>${i.subject ?? ''}</td>
      <td data-label=${t('queue.state')}>${t(`queue.state.${i.state}`)}<div class="muted">${t('queue.attempts', { count: Math.max(...i.recipients.map((r) => r.attempts)) })}</div></td>
      <td data-label=${t('queue.lastError')}>${i.lastError ? html`<span class="mono">${i.lastError}</span>` : html`<span class="muted">${t('queue.noError')}</span>`}</td>
      <td data-label=${t('queue.nextAttempt')}>${formatTime(lang(), i.nextAttemptAt, zone)}<div class="muted">${t('queue.expires')}: ${formatTime(lang(), i.expiresAt, zone)}</div></td>
      <td><div class="actions flush-top">${ACTIONS.map((a) => html`<button class=${a === 'retry' ? 'secondary small' : a === 'delete' ? 'danger small' : 'small'}
        aria-label=${`${t(`queue.action.${a}`)}: ${i.subject || i.id}`} @click=${() => this.#act(i, a)}>${t(`queue.action.${a}`)}</button>`)}</div></td>
    </tr>`;
  }

  override render() {
    const f = this.filters;
    const last = Math.min(this.offset + this.items.length, this.total);
    return html`<h1>${t('queue.title')}</h1>
      <p class="muted">${t('queue.intro')}</p>
      <form @submit=${(e: Event) => { e.preventDefault(); this.banner = null; void this.#load(0); }}><section class="card"><div class="row">
        ${field({ label: t('queue.domain'), value: f.domain, name: 'domain', suggestions: this.domains, onInput: (v) => { f.domain = v.trim(); } })}
        ${field({ label: t('queue.state'), value: f.state, name: 'state', options: [{ value: '', label: t('common.any') }, ...STATES.map((s) => ({ value: s, label: t(`queue.state.${s}`) }))], onInput: (v) => { f.state = v; } })}
      </div><div class="actions"><button type="submit">${t('common.search')}</button></div></section></form>
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      <section class="card">
        <div class="actions spread flush-top"><span>${this.total ? t('queue.total', { count: this.total }) : t('queue.empty')}</span>
          <button class="secondary" @click=${() => { this.banner = null; void this.#load(); }}>${t('queue.reload')}</button></div>
        ${this.items.length ? html`<div class="table-wrap"><table class="cards">
          <thead><tr><th>${t('queue.received')}</th><th>${t('common.sender')}</th><th>${t('queue.recipients')}</th><th>${t('common.subject')}</th><th>${t('queue.state')}</th>
            <th>${t('queue.lastError')}</th><th>${t('queue.nextAttempt')}</th><th><span class="sr-only">${t('common.more')}</span></th></tr></thead>
          <tbody>${this.items.map((i) => this.#row(i))}</tbody></table></div>
          <p class="muted">${t('queue.page', { from: this.offset + 1, to: last, total: this.total })}</p>
          <div class="actions">
            ${this.offset > 0 ? html`<button class="secondary" @click=${() => this.#load(Math.max(0, this.offset - PAGE))}>${t('queue.previous')}</button>` : nothing}
            ${last < this.total ? html`<button class="secondary" @click=${() => this.#load(this.offset + PAGE)}>${t('common.next')}</button>` : nothing}
          </div>` : nothing}
      </section>`;
  }
}
customElements.define('mm-queue', MmQueue);
