// Domain policy: a domain's own filtering settings beside the value in effect and where it comes
// from (appliance, domain). An empty field inherits. A domain admin can change only the settings
// the appliance admin lets domains override (the others are shown, disabled, with why); the
// server checks the same and its refusal is shown as it comes. Also the domain's feedback switch,
// its quota-warning contact and its quarantine use against the quota.
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { describeFailure } from '../failure.ts';
import { field } from '../field.ts';
import { I18nElement, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import type { SessionUser } from '../app.ts';
import type { MessageKey } from '../../../appliance/i18n/catalog.ts';

type Source = 'appliance' | 'domain' | 'mailbox';
interface Rule { class: string; action: string; tag?: string; source?: Source }
interface View {
  domain: string;
  own: Record<string, unknown> & { actions?: Rule[]; feedback?: boolean; contact?: string };
  effective: { settings: Record<string, { value: unknown; source: Source }>; actions: Rule[]; overridable: Record<string, boolean> };
  feedback: boolean;
}
interface Usage { name: string; messages: number; bytes: number; maxMessages: number; maxBytes: number; percent: number }

/** How each setting is edited: numbers, a choice, a yes/no, or text. */
const KINDS: Record<string, { kind: 'number' | 'text' | 'bool' | 'list'; options?: string[] }> = {
  spamThreshold: { kind: 'number' }, unsureThreshold: { kind: 'number' },
  spfNgResults: { kind: 'list', options: ['fail', 'fail,softfail'] },
  spfAction: { kind: 'list', options: ['none', 'tag', 'quarantine'] }, spfTag: { kind: 'text' },
  dmarcHonourReject: { kind: 'bool' }, dmarcHonourQuarantine: { kind: 'bool' },
  oversizeMaxBytes: { kind: 'number' }, oversizeAction: { kind: 'list', options: ['quarantine', 'reject'] },
  quarantineResponse: { kind: 'list', options: ['reject', 'accept'] }, retentionDays: { kind: 'number' }, stampHeaders: { kind: 'bool' },
  greylisting: { kind: 'bool' },
};
const CLASS_ACTIONS = ['accept', 'tag', 'quarantine', 'reject', 'delete'];

const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : typeof v === 'boolean' ? (v ? t('common.yes') : t('common.no')) : String(v));

export class MmPolicy extends I18nElement {
  static override properties = { user: {}, domains: { state: true }, domain: { state: true }, view: { state: true }, draft: { state: true }, banner: { state: true }, usage: { state: true } };
  declare user: SessionUser;
  declare domains: string[];
  declare domain: string;
  declare view: View | null;
  declare draft: View['own'];
  declare banner: { ok: boolean; text: string } | null;
  declare usage: Usage | null;
  static override styles = [shared];

  constructor() {
    super();
    this.domains = [];
    this.domain = '';
    this.view = null;
    this.draft = {};
    this.banner = null;
    this.usage = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#start();
  }

  async #start(): Promise<void> {
    try {
      const res = await api<{ items: { name: string }[] }>('GET', '/api/domains');
      this.domains = res.items.map((d) => d.name);
      if (this.domains.length) await this.#open(this.domains[0]);
    } catch (err) { this.banner = { ok: false, text: describeFailure(err).text }; }
  }

  async #open(name: string): Promise<void> {
    this.domain = name;
    this.view = await api<View>('GET', `/api/policy/domains/${encodeURIComponent(name)}`);
    this.draft = structuredClone(this.view.own);
    const usage = await api<{ domains: Usage[] }>('GET', '/api/quarantine-usage').catch(() => ({ domains: [] as Usage[] }));
    this.usage = usage.domains.find((d) => d.name === name.toLowerCase()) ?? null;
  }

  async #save(ev: Event): Promise<void> {
    ev.preventDefault();
    try {
      this.view = await api<View>('PUT', `/api/policy/domains/${encodeURIComponent(this.domain)}`, this.draft);
      this.draft = structuredClone(this.view.own);
      this.banner = { ok: true, text: t('common.saved') };
    } catch (err) { this.banner = { ok: false, text: describeFailure(err).text }; }
  }

  #set(key: string, raw: string): void {
    const k = KINDS[key];
    const next = { ...this.draft };
    if (raw === '') delete next[key];
    else next[key] = k.kind === 'number' ? Number(raw) : k.kind === 'bool' ? raw === 'true' : key === 'spfNgResults' ? raw.split(',') : raw;
    this.draft = next;
  }

  #setRule(cls: string, action: string, tag: string | undefined): void {
    const rest = (this.draft.actions ?? []).filter((r) => r.class !== cls);
    const rule: Rule = { class: cls, action, ...(action === 'tag' && tag ? { tag } : {}) };
    const actions = action === '' ? rest : [...rest, rule];
    const next = { ...this.draft };
    if (actions.length) next.actions = actions; else delete next.actions;
    this.draft = next;
  }

  #locked(key: string): boolean {
    return this.user.role !== 'admin' && !this.view!.effective.overridable[key];
  }

  #row(key: string) {
    const eff = this.view!.effective.settings[key];
    const k = KINDS[key];
    const own = this.draft[key];
    const inherit = t('policy.inherit', { value: show(eff.value) });
    const options = k.kind === 'bool' ? [{ value: '', label: inherit }, { value: 'true', label: t('common.yes') }, { value: 'false', label: t('common.no') }]
      : k.kind === 'list' ? [{ value: '', label: inherit }, ...(k.options ?? []).map((o) => ({ value: o, label: o }))] : undefined;
    const value = own === undefined ? '' : Array.isArray(own) ? own.join(',') : String(own);
    return html`<tr>
      <td>${t(`policy.setting.${key}` as MessageKey)}</td>
      <td>${show(eff.value)}</td>
      <td>${t(`policy.source.${eff.source}` as MessageKey)}</td>
      <td>${this.#locked(key) ? html`<span class="muted">${own === undefined ? '' : show(own)} ${t('policy.locked')}</span>`
        : field({ label: t(`policy.setting.${key}` as MessageKey), value, options, type: k.kind === 'number' ? 'number' : 'text', onInput: (v) => this.#set(key, v) })}</td>
    </tr>`;
  }

  #actions() {
    const locked = this.#locked('actions');
    return this.view!.effective.actions.map((r) => {
      const own = this.draft.actions?.find((x) => x.class === r.class);
      return html`<tr>
        <td>${t('policy.setting.actions')}: ${r.class}</td>
        <td>${r.action}${r.tag ? ` (${r.tag})` : ''}</td>
        <td>${t(`policy.source.${r.source ?? 'appliance'}` as MessageKey)}</td>
        <td>${locked ? html`<span class="muted">${t('policy.locked')}</span>` : html`<div class="row">
          ${field({ label: r.class, value: own?.action ?? '', options: [{ value: '', label: t('policy.inherit', { value: r.action }) }, ...CLASS_ACTIONS.map((a) => ({ value: a, label: a }))],
            onInput: (v) => this.#setRule(r.class, v, own?.tag) })}
          ${own?.action === 'tag' ? field({ label: 'tag', value: own.tag ?? '', onInput: (v) => this.#setRule(r.class, 'tag', v) }) : nothing}</div>`}</td>
      </tr>`;
    });
  }

  override render() {
    if (!this.view) return html`<h1>${t('policy.title')}</h1>${this.banner ? html`<p class="banner error" role="alert">${this.banner.text}</p>` : html`<p>${t('common.loading')}</p>`}`;
    const u = this.usage;
    return html`<h1>${t('policy.title')}</h1>
      <form @submit=${(e: Event) => this.#save(e)}><section class="card">
        ${field({ label: t('policy.domain'), value: this.domain, options: this.domains.map((d) => ({ value: d, label: d })), onInput: (v) => void this.#open(v) })}
        ${u ? html`<p>${t('policy.usage', { messages: u.messages, bytes: u.bytes, percent: u.maxBytes || u.maxMessages ? u.percent : t('policy.noQuota') })}</p>` : nothing}
        <p class="muted">${t('policy.help')}</p>
        <div class="table-wrap"><table>
          <thead><tr><th>${t('policy.setting')}</th><th>${t('policy.effective')}</th><th>${t('policy.source')}</th><th>${t('policy.own')}</th></tr></thead>
          <tbody>${Object.keys(KINDS).map((k) => this.#row(k))}${this.#actions()}</tbody>
        </table></div>
        <label><input type="checkbox" role="switch" .checked=${this.draft.feedback !== false}
          @change=${(e: Event) => { const next = { ...this.draft }; if ((e.target as HTMLInputElement).checked) delete next.feedback; else next.feedback = false; this.draft = next; }}> ${t('policy.feedback')}</label>
        ${field({ label: t('policy.contact'), type: 'email', value: this.draft.contact ?? '', onInput: (v) => { const next = { ...this.draft }; if (v) next.contact = v; else delete next.contact; this.draft = next; } })}
        ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
        <div class="actions"><button type="submit">${t('common.save')}</button></div>
      </section></form>`;
  }
}
customElements.define('mm-policy', MmPolicy);
