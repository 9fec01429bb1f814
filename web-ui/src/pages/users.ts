// Users: create mailbox users and domain admins (and, for the admin, other admins), disable or
// enable, unlock, reset passwords, delete. The server decides who may touch whom; its problems
// appear next to the fields of the form (or the password dialog) they belong to. Disabling and
// deleting ask first, in the console's dialog.
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { formatTime, zoneFor } from '../dates.ts';
import { confirmDialog } from '../dialog.ts';
import { field } from '../field.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import type { MessageKey } from '../../../appliance/i18n/catalog.ts';

interface User { id: string; username: string; role: SessionUser['role']; domains: string[]; disabled: boolean; locked: boolean; createdAt: string }
interface Draft { username: string; role: string; domains: string[]; password: string; again: string }
interface Reset { user: User; password: string; again: string; errors: Record<string, string> }

const emptyDraft = (): Draft => ({ username: '', role: 'user', domains: [], password: '', again: '' });

export class MmUsers extends I18nElement {
  static override properties = { user: {}, users: { state: true }, domains: { state: true }, draft: { state: true }, errors: { state: true }, banner: { state: true }, reset: { state: true } };
  declare user: SessionUser;
  declare users: User[];
  declare domains: string[];
  declare draft: Draft;
  declare errors: Record<string, string>;
  declare banner: { ok: boolean; text: string } | null;
  declare reset: Reset | null;
  static override styles = [shared];

  constructor() {
    super();
    this.users = [];
    this.domains = [];
    this.draft = emptyDraft();
    this.errors = {};
    this.banner = null;
    this.reset = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    try {
      const [u, d] = await Promise.all([api<{ items: User[] }>('GET', '/api/users'), api<{ items: { name: string }[] }>('GET', '/api/domains')]);
      this.users = u.items;
      this.domains = d.items.map((x) => x.name);
    } catch (err) { this.banner = { ok: false, text: describeFailure(err).text }; }
  }

  /** Runs a change; true when it worked. Problems go next to the create form's fields. */
  async #run(action: () => Promise<unknown>, done: string): Promise<boolean> {
    try {
      await action();
      this.errors = {};
      this.banner = { ok: true, text: done };
      await this.#load();
      return true;
    } catch (err) {
      const f = describeFailure(err);
      this.errors = f.errors;
      this.banner = { ok: false, text: f.text };
      return false;
    }
  }

  async #create(ev: Event): Promise<void> {
    ev.preventDefault();
    const d = this.draft;
    if (d.password !== d.again) {
      this.errors = { '/again': t('users.passwordsDiffer') };
      this.banner = { ok: false, text: t('error.invalid') };
      return;
    }
    const username = d.username.trim();
    const ok = await this.#run(() => api('POST', '/api/users', { username, role: d.role, password: d.password, ...(d.role === 'domain-admin' ? { domains: d.domains } : {}) }),
      t('users.created', { name: username }));
    if (ok) this.draft = emptyDraft();
  }

  async #saveReset(ev: Event): Promise<void> {
    ev.preventDefault();
    const r = this.reset!;
    if (r.password !== r.again) {
      this.reset = { ...r, errors: { '/again': t('users.passwordsDiffer') } };
      return;
    }
    try {
      await api('PATCH', `/api/users/${r.user.id}`, { password: r.password });
      this.reset = null;
      this.errors = {};
      this.banner = { ok: true, text: t('users.resetDone', { name: r.user.username }) };
    } catch (err) {
      const f = describeFailure(err);
      this.reset = { ...r, errors: { ...f.errors, ...(Object.keys(f.errors).length ? {} : { '/': f.text }) } };
    }
  }

  async #toggle(u: User): Promise<void> {
    if (!u.disabled && !(await confirmDialog({ heading: t('users.disableTitle'), message: t('users.confirmDisable', { name: u.username }), confirmLabel: t('users.disable'), danger: true }))) return;
    await this.#run(() => api('PATCH', `/api/users/${u.id}`, { disabled: !u.disabled }), t('common.saved'));
  }

  async #delete(u: User): Promise<void> {
    if (!(await confirmDialog({ heading: t('users.deleteTitle'), message: t('users.confirmDelete', { name: u.username }), confirmLabel: t('common.delete'), danger: true }))) return;
    await this.#run(() => api('DELETE', `/api/users/${u.id}`), t('common.saved'));
  }

  #resetDialog() {
    const r = this.reset;
    return html`<mm-dialog .open=${Boolean(r)} heading=${r ? t('users.resetTitle', { name: r.user.username }) : ''} @mm-close=${() => { this.reset = null; }}>
      ${r ? html`<form @submit=${(e: Event) => this.#saveReset(e)}>
        ${field({ label: t('users.newPassword'), type: 'password', name: 'reset-password', autocomplete: 'new-password', value: r.password, error: r.errors['/password'], onInput: (v) => { r.password = v; } })}
        ${field({ label: t('users.passwordAgain'), type: 'password', name: 'reset-again', autocomplete: 'new-password', value: r.again, error: r.errors['/again'], onInput: (v) => { r.again = v; } })}
        ${r.errors['/'] ? html`<p class="banner error" role="alert">${r.errors['/']}</p>` : nothing}
        <div class="actions end">
          <button type="button" class="secondary" @click=${() => { this.reset = null; }}>${t('common.cancel')}</button>
          <button type="submit">${t('users.resetPassword')}</button>
        </div></form>` : nothing}
    </mm-dialog>`;
  }

  override render() {
    const roles = this.user?.role === 'admin' ? ['user', 'domain-admin', 'admin'] : ['user', 'domain-admin'];
    const d = this.draft;
    const set = () => this.requestUpdate();
    const status = (u: User) => [u.disabled ? t('users.disabled') : t('users.active'), ...(u.locked ? [t('users.locked')] : [])].join(', ');
    return html`<h1>${t('users.title')}</h1>
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      <section class="card table-wrap"><table class="cards">
        <thead><tr><th>${t('users.username')}</th><th>${t('users.role')}</th><th>${t('users.domains')}</th><th>${t('users.status')}</th><th>${t('users.created.at')}</th><th></th></tr></thead>
        <tbody>${this.users.map((u) => html`<tr>
          <td class="mono"><strong>${u.username}</strong></td>
          <td data-label=${t('users.role')}>${t(`role.${u.role}` as MessageKey)}</td><td data-label=${t('users.domains')}>${u.domains.join(', ')}</td><td data-label=${t('users.status')}>${status(u)}</td>
          <td class="muted" data-label=${t('users.created.at')}>${formatTime(lang(), u.createdAt, zoneFor(u.username, ...u.domains))}</td>
          <td><div class="actions flush" role="group" aria-label=${t('users.actions', { name: u.username })}>
            <button class="secondary" @click=${() => { this.reset = { user: u, password: '', again: '', errors: {} }; }}>${t('users.resetPassword')}</button>
            ${u.id === this.user.id ? nothing : html`
              <button class="secondary" @click=${() => this.#toggle(u)}>${u.disabled ? t('users.enable') : t('users.disable')}</button>
              ${u.locked ? html`<button class="secondary" @click=${() => this.#run(() => api('PATCH', `/api/users/${u.id}`, { unlock: true }), t('common.saved'))}>${t('users.unlock')}</button>` : nothing}
              <button class="danger" @click=${() => this.#delete(u)}>${t('common.delete')}</button>`}
          </div></td></tr>`)}</tbody></table></section>
      <form @submit=${(e: Event) => this.#create(e)}><section class="card"><h2>${t('users.add')}</h2>
        ${field({ label: t('users.username'), value: d.username, name: 'new-username', error: this.errors['/username'], onInput: (v) => { d.username = v; } })}
        ${field({ label: t('users.role'), value: d.role, options: roles.map((r) => ({ value: r, label: t(`role.${r}` as MessageKey) })), error: this.errors['/role'], onInput: (v) => { d.role = v; set(); } })}
        ${d.role === 'domain-admin' ? html`<fieldset><legend>${t('users.domains')}</legend>${this.domains.map((name) => html`<label><input type="checkbox" ?checked=${d.domains.includes(name)}
          @change=${(e: Event) => { d.domains = (e.target as HTMLInputElement).checked ? [...d.domains, name] : d.domains.filter((x) => x !== name); }}> ${name}</label>`)}
          ${Object.entries(this.errors).filter(([k]) => k.startsWith('/domains')).map(([, m]) => html`<div class="error" role="alert">${m}</div>`)}</fieldset>` : nothing}
        ${field({ label: t('users.password'), type: 'password', value: d.password, name: 'new-password', autocomplete: 'new-password', error: this.errors['/password'], onInput: (v) => { d.password = v; } })}
        ${field({ label: t('users.passwordAgain'), type: 'password', value: d.again, name: 'new-password-again', autocomplete: 'new-password', error: this.errors['/again'], onInput: (v) => { d.again = v; } })}
        <div class="actions"><button type="submit">${t('common.add')}</button></div>
      </section></form>
      ${this.#resetDialog()}`;
  }
}
customElements.define('mm-users', MmUsers);
