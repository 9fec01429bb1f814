// The System page's network interfaces: the addresses each has now, and a form that changes one
// (DHCP, or a static address with gateway and DNS servers) as a trial — the appliance applies it
// and brings the previous settings back by itself unless "Keep" is pressed before the time shown,
// so a wrong address cannot cut the admin off for good (routes/network.ts). The box's own DNS
// servers (besides the interfaces') are changed below it in the same way. A trial still waiting
// is shown again after a reload; the server's problems appear at their field.
import { html, nothing } from 'lit';
import { api } from './api.ts';
import { formatTime } from './dates.ts';
import { describeFailure } from './failure.ts';
import { field } from './field.ts';
import { I18nElement, lang, t } from './i18n.ts';
import { shared } from './styles.ts';
import { settingsText, type SettingsTextKey } from '../../appliance/i18n/settings-texts.ts';

interface Trial { id: string; state: 'pending' | 'confirmed' | 'reverted'; reason?: 'expired' | 'asked'; revertAt: string; settings: { name: string }[]; resolvers?: string[] }
interface NetworkState { interfaces: { name: string; addresses: string[] }[]; resolvers: string[]; trial: Trial | null; confirmSeconds: number }

const say = (key: SettingsTextKey, params?: Record<string, string | number>) => settingsText(lang(), key, params);

export class MmNetwork extends I18nElement {
  static override properties = { data: { state: true }, errors: { state: true }, banner: { state: true } };
  declare data: NetworkState | null;
  declare errors: Record<string, string>;
  declare banner: { ok: boolean; text: string } | null;
  form = { name: '', mode: 'dhcp', address: '', gateway: '', dns: '' };
  /** The box's own DNS servers as typed (one per line); filled from what is kept. */
  resolvers: string | undefined;
  /** Which card the last message belongs to: the interfaces' or the box's DNS servers'. */
  #where: 'nics' | 'resolvers' = 'nics';
  #recheck: ReturnType<typeof setTimeout> | undefined;
  static override styles = [shared];

  constructor() {
    super();
    this.data = null;
    this.errors = {};
    this.banner = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  override disconnectedCallback(): void {
    clearTimeout(this.#recheck);
    super.disconnectedCallback();
  }

  async #load(): Promise<void> {
    const wasPending = this.data?.trial?.state === 'pending';
    this.data = await api<NetworkState>('GET', '/api/system/network');
    this.form.name ||= this.data.interfaces[0]?.name ?? '';
    this.resolvers ??= this.data.resolvers.join('\n');
    // A trial left waiting ends on the appliance at its time: look again just after it, and say so.
    clearTimeout(this.#recheck);
    const trial = this.data.trial;
    if (trial?.state === 'pending') this.#recheck = setTimeout(() => void this.#load(), Math.max(0, Date.parse(trial.revertAt) - Date.now()) + 1500);
    else if (wasPending && trial?.reason === 'expired') this.banner = { ok: false, text: say('net.reverted') };
  }

  async #try(e: Event): Promise<void> {
    e.preventDefault();
    const f = this.form;
    const [address, prefix] = f.address.split('/');
    this.#where = 'nics';
    const settings = f.mode === 'dhcp' ? { name: f.name, mode: 'dhcp' }
      : { name: f.name, mode: 'static', address: address ?? '', prefix: Number(prefix ?? 0), ...(f.gateway.trim() ? { gateway: f.gateway.trim() } : {}),
        dns: f.dns.split(/[\s,]+/).filter(Boolean) };
    try {
      await api('POST', '/api/system/network/trial', { settings: [settings] });
      this.errors = {};
      this.banner = null;
    } catch (err) {
      const d = describeFailure(err);
      // Address and prefix share one field.
      this.errors = Object.fromEntries(Object.entries(d.errors).map(([p, m]) => [p.replace(/^\/settings\/0/, '').replace(/^\/prefix$/, '/address'), m]));
      this.banner = { ok: false, text: this.errors['/'] ?? d.text };
    }
    await this.#load();
  }

  async #tryResolvers(e: Event): Promise<void> {
    e.preventDefault();
    const typed = (this.resolvers ?? '').split(/[\s,]+/).filter(Boolean);
    this.#where = 'resolvers';
    try {
      await api('POST', '/api/system/network/trial', { settings: [], resolvers: typed });
      this.errors = {};
      this.banner = null;
    } catch (err) {
      const d = describeFailure(err);
      // Every resolver's problem at the one field, saying which.
      const mine = Object.entries(d.errors).filter(([p]) => p.startsWith('/resolvers'));
      this.errors = mine.length ? { '/resolvers': mine.map(([, m]) => m).join('; ') } : {};
      this.banner = { ok: false, text: d.errors['/'] ?? d.text };
    }
    await this.#load();
  }

  async #settle(action: 'confirm' | 'revert'): Promise<void> {
    this.#where = this.data?.trial?.settings.length ? 'nics' : 'resolvers';
    try {
      await api('POST', `/api/system/network/trial/${encodeURIComponent(this.data!.trial!.id)}/${action}`);
      this.banner = { ok: action === 'confirm', text: say(action === 'confirm' ? 'net.confirmed' : 'net.reverted') };
    } catch (err) {
      this.banner = { ok: false, text: describeFailure(err).text };
    }
    await this.#load();
  }

  #pendingText(pending: Trial): string {
    const time = formatTime(lang(), pending.revertAt, Intl.DateTimeFormat().resolvedOptions().timeZone);
    const names = pending.settings.map((s) => s.name).join(', ');
    return [names ? say('net.pending', { name: names, time }) : '', pending.resolvers ? say('net.resolvers.pending', { time }) : ''].filter(Boolean).join(' ');
  }

  override render() {
    const title = say('net.title');
    const d = this.data;
    if (!d) return html`<section class="card"><h2>${title}</h2><p>${t('common.loading')}</p></section>`;
    const f = this.form;
    const pending = d.trial?.state === 'pending' ? d.trial : null;
    const set = (k: keyof typeof f) => (v: string) => { f[k] = v; this.requestUpdate(); };
    // A trial waits in the card it came from: the interfaces' when it changes one, else the DNS servers'.
    const pendingIn = pending ? (pending.settings.length ? 'nics' : 'resolvers') : undefined;
    const pendingBlock = (where: 'nics' | 'resolvers') => (pending && pendingIn === where ? html`<p class="banner error" role="alert">${this.#pendingText(pending)}</p>
        <div class="actions"><button type="button" @click=${() => this.#settle('confirm')}>${say('net.confirm')}</button>
          <button type="button" class="secondary" @click=${() => this.#settle('revert')}>${say('net.revert')}</button></div>` : nothing);
    const banner = (where: 'nics' | 'resolvers') => (this.banner && this.#where === where
      ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing);
    const resolversTitle = say('net.resolvers.title');
    return html`<section class="card" aria-label=${title}><h2>${title}</h2>
      <table class="cards"><thead><tr><th>${say('net.interface')}</th><th>${say('net.current')}</th></tr></thead>
        <tbody>${d.interfaces.map((i) => html`<tr><td class="mono"><strong>${i.name}</strong></td><td class="mono" data-label=${say('net.current')}>${i.addresses.join(', ')}</td></tr>`)}</tbody></table>
      ${pendingBlock('nics')}
      ${pending ? nothing : html`<form @submit=${(e: Event) => this.#try(e)}>
          ${field({ label: say('net.interface'), value: f.name, error: this.errors['/name'], options: d.interfaces.map((i) => ({ value: i.name, label: i.name })), literal: true, onInput: set('name') })}
          ${field({ label: say('net.mode'), value: f.mode, options: [{ value: 'dhcp', label: say('net.mode.dhcp') }, { value: 'static', label: say('net.mode.static') }], onInput: set('mode') })}
          ${f.mode === 'static' ? html`
            ${field({ label: say('net.address'), value: f.address, error: this.errors['/address'], onInput: set('address') })}
            ${field({ label: say('net.gateway'), value: f.gateway, error: this.errors['/gateway'], onInput: set('gateway') })}
            ${field({ label: say('net.dns'), value: f.dns, multiline: true, error: this.errors['/dns'], onInput: set('dns') })}` : nothing}
          <div class="actions"><button type="submit">${say('net.apply')}</button></div></form>`}
      ${banner('nics')}
    </section>
    <section class="card" aria-label=${resolversTitle}><h2>${resolversTitle}</h2>
      <p class="muted">${say('net.resolvers.help')}</p>
      <p>${say('net.resolvers.now', { list: d.resolvers.length ? d.resolvers.join(', ') : say('net.resolvers.none') })}</p>
      ${pendingBlock('resolvers')}
      ${pending ? nothing : html`<form @submit=${(e: Event) => this.#tryResolvers(e)}>
        ${field({ label: say('net.resolvers.field'), value: this.resolvers ?? '', multiline: true, error: this.errors['/resolvers'], onInput: (v) => { this.resolvers = v; this.requestUpdate(); } })}
        <div class="actions"><button type="submit">${say('net.apply')}</button></div></form>`}
      ${banner('resolvers')}
    </section>`;
  }
}
customElements.define('mm-network', MmNetwork);
