// DNS records (admin and domain admins): for every domain the caller administers, the records to
// publish — MX to the appliance, its host name's A/AAAA and SPF, the SPF include to merge into the
// domain's own SPF — each with whether the configured resolver finds it published as expected,
// and a button that copies its value. A warning names any address of the box the internet cannot
// reach (a private address behind NAT), whose A record would lead nowhere.
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { describeFailure } from '../failure.ts';
import { I18nElement, lang, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import { settingsText, type SettingsTextKey } from '../../../appliance/i18n/settings-texts.ts';

interface Checked {
  name: string; type: string; value: string; note: string;
  state: 'ok' | 'missing' | 'different' | 'unknown'; found?: string[]; detail?: string;
}
interface Answer { hostname: string; resolver: string[]; privateAddresses: string[]; addresses: string[]; domains: { name: string; records: Checked[] }[] }

const say = (key: SettingsTextKey, params?: Record<string, string | number>) => settingsText(lang(), key, params);

export class MmDnsRecords extends I18nElement {
  static override properties = { data: { state: true }, announce: { state: true }, failure: { state: true } };
  declare data: Answer | null;
  declare announce: string;
  declare failure: string;
  static override styles = [shared];

  constructor() {
    super();
    this.data = null;
    this.announce = '';
    this.failure = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    try {
      this.data = await api<Answer>('GET', '/api/dns-records');
      this.failure = '';
    } catch (err) {
      this.failure = describeFailure(err).text;
    }
  }

  async #copy(value: string, button: HTMLElement): Promise<void> {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Where the clipboard API is refused (a browser's permission policy): the older way, through a selection.
      const area = Object.assign(document.createElement('textarea'), { value, readOnly: true });
      button.after(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    this.announce = say('dns.copied', { value });
  }

  #state(r: Checked) {
    if (r.state === 'ok') return html`<span class="ok">✓ ${say('dns.state.ok')}</span>`;
    if (r.state === 'missing') return html`<span class="error">${say('dns.state.missing')}</span>`;
    if (r.state === 'different') return html`<span class="error">${say('dns.state.different', { found: (r.found ?? []).join(' | ') })}</span>`;
    return html`<span class="muted">${say('dns.state.unknown', { detail: r.detail ?? '' })}</span>`;
  }

  override render() {
    const title = say('dns.title');
    if (this.failure) return html`<h1>${title}</h1><p class="banner error" role="alert">${this.failure}</p>`;
    const d = this.data;
    if (!d) return html`<h1>${title}</h1><p>${t('common.loading')}</p>`;
    return html`<h1>${title}</h1>
      <p>${say('dns.intro')} ${say('dns.resolver', { resolver: d.resolver.length ? d.resolver.join(', ') : say('dns.systemResolver') })}</p>
      ${d.privateAddresses.map((a) => html`<p class="banner error" role="alert">${say('dns.private', { address: a })}</p>`)}
      ${d.addresses.length ? nothing : html`<p class="banner error" role="alert">${say('dns.noAddress')}</p>`}
      <p class="announce" role="status">${this.announce}</p>
      ${d.domains.map((dom) => html`<section class="card" aria-label=${dom.name}><h2>${dom.name}</h2>
        <div class="table-wrap"><table>
          <thead><tr><th>${say('dns.name')}</th><th>${say('dns.type')}</th><th>${say('dns.value')}</th><th>${say('dns.state')}</th><th><span class="sr-only">${say('dns.copy')}</span></th></tr></thead>
          <tbody>${dom.records.map((r) => html`<tr>
            <td class="mono">${r.name}</td><td>${r.type}</td>
            <td class="mono">${r.value}<br><small class="muted">${say(`dns.note.${r.note}` as SettingsTextKey)}</small></td>
            <td>${this.#state(r)}</td>
            <td><button type="button" class="secondary small" aria-label=${`${say('dns.copy')}: ${r.type} ${r.value}`} @click=${(e: Event) => this.#copy(r.value, e.currentTarget as HTMLElement)}>${say('dns.copy')}</button></td>
          </tr>`)}</tbody>
        </table></div></section>`)}
      <div class="actions"><button type="button" @click=${() => { this.data = null; void this.#load(); }}>${say('dns.recheck')}</button></div>`;
  }
}
customElements.define('mm-dns-records', MmDnsRecords);
