// My account: change password, and the API tokens of this account (create, revoke).
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { formatTime, ownZone } from '../dates.ts';
import { field } from '../field.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';

interface Token { id: string; name: string; access: 'read' | 'write'; domains?: string[]; createdAt: string; lastUsedAt?: string }

export class MmAccount extends I18nElement {
  static override properties = { user: {}, tokens: { state: true }, errors: { state: true }, banner: { state: true }, secret: { state: true } };
  declare user: SessionUser;
  declare tokens: Token[];
  declare errors: Record<string, string>;
  declare banner: { ok: boolean; text: string } | null;
  declare secret: string;
  pw = { currentPassword: '', newPassword: '' };
  draft = { name: '', access: 'read' };
  static override styles = [shared];

  constructor() {
    super();
    this.tokens = [];
    this.errors = {};
    this.banner = null;
    this.secret = '';
  }
  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }
  async #load(): Promise<void> {
    this.tokens = (await api<{ items: Token[] }>('GET', '/api/tokens')).items;
  }
  async #run(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      this.errors = {};
      this.banner = { ok: true, text: t('common.saved') };
      await this.#load();
    } catch (err) {
      const f = describeFailure(err);
      this.errors = f.errors;
      this.banner = { ok: false, text: f.text };
    }
  }
  override render() {
    return html`<h1>${t('account.title')}</h1>
      <form @submit=${(e: Event) => { e.preventDefault(); void this.#run(() => api('PATCH', '/api/me', this.pw)); }}><section class="card">
        <h2>${t('account.changePassword')}</h2>
        ${field({ label: t('account.currentPassword'), type: 'password', value: this.pw.currentPassword, autocomplete: 'current-password', error: this.errors['/currentPassword'], onInput: (v) => { this.pw.currentPassword = v; } })}
        ${field({ label: t('account.newPassword'), type: 'password', value: this.pw.newPassword, autocomplete: 'new-password', error: this.errors['/newPassword'], onInput: (v) => { this.pw.newPassword = v; } })}
        <div class="actions"><button type="submit">${t('account.changePassword')}</button></div>
      </section></form>
      <section class="card"><h2>${t('account.tokens')}</h2>
        <div class="table-wrap"><table class="cards"><tbody>${this.tokens.map((tk) => html`<tr><td><strong>${tk.name}</strong></td><td>${tk.access === 'read' ? t('account.tokenRead') : t('account.tokenWrite')}</td>
          <td>${tk.domains?.join(', ') ?? ''}</td><td class="muted">${formatTime(lang(), tk.createdAt, ownZone())}</td>
          <td class="muted">${tk.lastUsedAt ? t('account.lastUsed', { date: formatTime(lang(), tk.lastUsedAt, ownZone()) }) : t('account.neverUsed')}</td>
          <td><button class="secondary" @click=${() => this.#run(() => api('DELETE', `/api/tokens/${tk.id}`))}>${t('account.revoke')}</button></td></tr>`)}</tbody></table></div>
        <form @submit=${(e: Event) => { e.preventDefault(); void this.#run(async () => { this.secret = (await api<{ secret: string }>('POST', '/api/tokens', this.draft)).secret; }); }}>
          <div class="row">
            ${field({ label: t('account.tokenName'), value: this.draft.name, error: this.errors['/name'], onInput: (v) => { this.draft.name = v; } })}
            ${field({ label: t('account.tokenAccess'), value: this.draft.access, options: [{ value: 'read', label: t('account.tokenRead') }, { value: 'write', label: t('account.tokenWrite') }], onInput: (v) => { this.draft.access = v; } })}
            <div class="actions"><button type="submit">${t('common.add')}</button></div>
          </div></form>
        ${this.secret ? html`<p class="banner ok">${t('account.tokenCreated')} <code class="mono">${this.secret}</code></p>` : nothing}
        ${this.banner && !this.banner.ok ? html`<p class="banner error" role="alert">${this.banner.text}</p>` : nothing}
      </section>`;
  }
}
customElements.define('mm-account', MmAccount);
