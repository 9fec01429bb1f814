// Users: create mailbox users and domain admins (and, for the admin, other admins), disable or
// enable, unlock, reset passwords, delete. The server decides who may touch whom.
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { field } from '../field.ts';
import { I18nElement, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import type { MessageKey } from '../../../appliance/i18n/catalog.ts';

interface User { id: string; username: string; role: SessionUser['role']; domains: string[]; disabled: boolean; locked: boolean }

export class MmUsers extends I18nElement {
  static override properties = { user: {}, users: { state: true }, domains: { state: true }, draft: { state: true }, errors: { state: true }, banner: { state: true } };
  declare user: SessionUser;
  declare users: User[];
  declare domains: string[];
  declare draft: { username: string; role: string; domains: string[]; password: string };
  declare errors: Record<string, string>;
  declare banner: { ok: boolean; text: string } | null;
  static override styles = [shared];

  constructor() {
    super();
    this.users = [];
    this.domains = [];
    this.draft = { username: '', role: 'user', domains: [], password: '' };
    this.errors = {};
    this.banner = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    const [u, d] = await Promise.all([api<{ items: User[] }>('GET', '/api/users'), api<{ items: { name: string }[] }>('GET', '/api/domains')]);
    this.users = u.items;
    this.domains = d.items.map((x) => x.name);
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

  #create(ev: Event): void {
    ev.preventDefault();
    const d = this.draft;
    void this.#run(async () => {
      await api('POST', '/api/users', { username: d.username.trim(), role: d.role, password: d.password, ...(d.role === 'domain-admin' ? { domains: d.domains } : {}) });
      this.draft = { username: '', role: 'user', domains: [], password: '' };
    });
  }

  #reset(u: User): void {
    const password = prompt(`${t('users.newPassword')} — ${u.username}`);
    if (password) void this.#run(() => api('PATCH', `/api/users/${u.id}`, { password }));
  }

  override render() {
    const roles = this.user?.role === 'admin' ? ['user', 'domain-admin', 'admin'] : ['user', 'domain-admin'];
    const d = this.draft;
    const set = () => this.requestUpdate();
    return html`<h1>${t('users.title')}</h1>
      <section class="card table-wrap"><table>
        <thead><tr><th>${t('users.username')}</th><th>${t('users.role')}</th><th>${t('users.domains')}</th><th></th></tr></thead>
        <tbody>${this.users.map((u) => html`<tr>
          <td>${u.username} ${u.disabled ? html`<span class="muted">(${t('users.disabled')})</span>` : nothing} ${u.locked ? html`<span class="muted">(${t('users.locked')})</span>` : nothing}</td>
          <td>${t(`role.${u.role}` as MessageKey)}</td><td>${u.domains.join(', ')}</td>
          <td><div class="actions" style="margin:0">
            <button class="secondary" @click=${() => this.#reset(u)}>${t('users.resetPassword')}</button>
            ${u.id === this.user.id ? nothing : html`
              <button class="secondary" @click=${() => this.#run(() => api('PATCH', `/api/users/${u.id}`, { disabled: !u.disabled }))}>${u.disabled ? t('users.enable') : t('users.disable')}</button>
              ${u.locked ? html`<button class="secondary" @click=${() => this.#run(() => api('PATCH', `/api/users/${u.id}`, { unlock: true }))}>${t('users.unlock')}</button>` : nothing}
              <button class="danger" @click=${() => this.#run(() => api('DELETE', `/api/users/${u.id}`))}>${t('common.delete')}</button>`}
          </div></td></tr>`)}</tbody></table></section>
      <form @submit=${(e: Event) => this.#create(e)}><section class="card"><h2>${t('users.add')}</h2>
        ${field({ label: t('users.username'), value: d.username, name: 'new-username', error: this.errors['/username'], onInput: (v) => { d.username = v; } })}
        ${field({ label: t('users.role'), value: d.role, options: roles.map((r) => ({ value: r, label: t(`role.${r}` as MessageKey) })), onInput: (v) => { d.role = v; set(); } })}
        ${d.role === 'domain-admin' ? html`<fieldset><legend>${t('users.domains')}</legend>${this.domains.map((name) => html`<label><input type="checkbox" ?checked=${d.domains.includes(name)}
          @change=${(e: Event) => { d.domains = (e.target as HTMLInputElement).checked ? [...d.domains, name] : d.domains.filter((x) => x !== name); }}> ${name}</label>`)}
          ${this.errors['/domains'] ? html`<div class="error">${this.errors['/domains']}</div>` : nothing}</fieldset>` : nothing}
        ${field({ label: t('users.password'), type: 'password', value: d.password, name: 'new-password', autocomplete: 'new-password', error: this.errors['/password'], onInput: (v) => { d.password = v; } })}
        ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
        <div class="actions"><button type="submit">${t('common.add')}</button></div>
      </section></form>`;
  }
}
customElements.define('mm-users', MmUsers);
