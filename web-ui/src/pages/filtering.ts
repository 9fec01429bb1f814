// Filtering: the admin edits the class → action rules in their own ordered editor (rules-editor.ts),
// the outbound rules in a second one behind a switch (on: outbound mail uses the inbound rules and
// the section has no `outboundRules`; off: a list of its own, starting as a copy of the inbound
// rules), and the other filtering settings in forms grouped as an admin thinks of them (spam,
// authentication, antivirus, lists, quarantine: settings-form.ts) — each checked in the browser by
// the configuration schema and then by the server, whose problems appear next to the same fields.
// The admin and domain admins also choose, per domain, which list level decides first.
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api } from '../api.ts';
import { field } from '../field.ts';
import '../rules-editor.ts';
import type { Rule } from '../rules-editor.ts';
import { I18nElement, t } from '../i18n.ts';
import '../settings-form.ts';
import { shared } from '../styles.ts';
import { loadConfigSchema, subSchema, validate, type Schema } from '../validate.ts';
import type { SessionUser } from '../app.ts';
import type { SettingsGroup } from '../../../appliance/config/settings-groups.ts';

type Section = 'filtering';
interface Banner { ok: boolean; text: string }
const GROUPS: SettingsGroup[] = ['spam', 'authentication', 'antivirus', 'lists', 'quarantine'];

export class MmFiltering extends I18nElement {
  static override properties = { user: {}, config: { state: true }, errors: { state: true }, banners: { state: true }, domains: { state: true } };
  declare user: SessionUser;
  declare config: Record<Section, Record<string, unknown>> | null;
  declare errors: Record<string, Record<string, string>>;
  declare banners: Record<string, Banner | undefined>;
  declare domains: { default: string; items: { name: string; listPriority: string | null }[] } | null;
  schema: Schema | null = null;
  static override styles = [shared];

  constructor() {
    super();
    this.config = null;
    this.errors = {};
    this.banners = {};
    this.domains = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(): Promise<void> {
    const admin = this.user.role === 'admin';
    const [schema, domains, cfg] = await Promise.all([loadConfigSchema(), api<MmFiltering['domains']>('GET', '/api/filtering/domains'),
      admin ? api<{ config: Record<Section, Record<string, unknown>> }>('GET', '/api/system/config') : Promise.resolve(null)]);
    this.schema = schema;
    this.domains = domains;
    if (cfg) this.config = { filtering: cfg.config.filtering };
  }

  #failed(key: string, err: unknown): void {
    const f = describeFailure(err);
    this.errors = { ...this.errors, [key]: f.errors };
    this.banners = { ...this.banners, [key]: { ok: false, text: f.text } };
  }

  async #save(ev: Event, section: Section): Promise<void> {
    ev.preventDefault();
    const value = this.config![section];
    const problems = validate(subSchema(this.schema!, section), value);
    if (Object.keys(problems).length) {
      this.errors = { ...this.errors, [section]: problems };
      this.banners = { ...this.banners, [section]: { ok: false, text: t('error.invalid') } };
      return;
    }
    // Only the rules are sent: the other settings of the section are saved by their own forms.
    try {
      const res = await api<{ values: Record<string, unknown> }>('PUT', '/api/system/settings/rules',
        { values: { '/filtering/rules': value.rules, '/filtering/outboundRules': value.outboundRules ?? null } });
      const next: Record<string, unknown> = { ...value, rules: res.values['/filtering/rules'] };
      if (res.values['/filtering/outboundRules'] === null) delete next.outboundRules;
      else next.outboundRules = res.values['/filtering/outboundRules'];
      this.config = { ...this.config!, [section]: next };
      this.errors = { ...this.errors, [section]: {} };
      this.banners = { ...this.banners, [section]: { ok: true, text: t('common.saved') } };
    } catch (err) {
      // The server names settings by their full pointer; the rules editors by their place in the section.
      const f = describeFailure(err);
      const errors = Object.fromEntries(Object.entries(f.errors).map(([p, m]) => [p.replace(/^\/filtering(?=\/)/, ''), m]));
      this.errors = { ...this.errors, [section]: errors };
      this.banners = { ...this.banners, [section]: { ok: false, text: f.text } };
    }
  }

  async #priority(name: string, value: string): Promise<void> {
    try {
      await api('PUT', `/api/filtering/domains/${encodeURIComponent(name)}`, { listPriority: value || null });
      this.banners = { ...this.banners, domains: { ok: true, text: t('common.saved') } };
      await this.#load();
    } catch (err) { this.#failed('domains', err); }
  }

  #banner(key: string) {
    const b = this.banners[key];
    return b ? html`<p class="banner ${b.ok ? 'ok' : 'error'}" role=${b.ok ? 'status' : 'alert'}>${b.text}</p>` : nothing;
  }

  #rules() {
    const section = 'filtering';
    const schema = subSchema(this.schema!, section);
    const errors = this.errors[section] ?? {};
    const value = this.config![section];
    const outbound = value.outboundRules as Rule[] | undefined;
    return html`<form @submit=${(e: Event) => this.#save(e, section)}><section class="card"><h2>${t('filtering.settings')}</h2>
      <fieldset><legend>${t('filtering.rules.title')}</legend>
        <mm-rules-editor .rules=${value.rules as Rule[]} .errors=${errors} .schema=${subSchema(schema, 'rules', 'items')} @mm-change=${() => this.requestUpdate()}></mm-rules-editor>
      </fieldset>
      <fieldset><legend>${t('filtering.outboundRules.title')}</legend>
        <p class="muted">${t('filtering.outboundRules.help')}</p>
        <label><input type="checkbox" role="switch" .checked=${!outbound} @change=${(e: Event) => {
          if ((e.target as HTMLInputElement).checked) delete value.outboundRules;
          else value.outboundRules = structuredClone(value.rules);
          this.requestUpdate();
        }}> ${t('filtering.outboundRules.useInbound')}</label>
        ${outbound ? html`<mm-rules-editor .rules=${outbound} .base=${'/outboundRules'} .errors=${errors} .schema=${subSchema(schema, 'outboundRules', 'items')}
          @mm-change=${() => this.requestUpdate()}></mm-rules-editor>` : nothing}
      </fieldset>
      ${this.#banner(section)}
      <div class="actions"><button type="submit">${t('common.save')}</button></div></section></form>`;
  }

  override render() {
    if (!this.schema || !this.domains) return html`<h1>${t('filtering.title')}</h1><p>${t('common.loading')}</p>`;
    const d = this.domains;
    return html`<h1>${t('filtering.title')}</h1>
      ${this.config ? this.#rules() : nothing}
      ${this.config ? GROUPS.map((g) => html`<mm-settings-group .group=${g}></mm-settings-group>`) : nothing}
      <section class="card"><h2>${t('filtering.domainPriority')}</h2>
        ${d.items.map((x) => field({ label: x.name, value: x.listPriority ?? '', error: this.errors.domains?.['/'],
          options: [{ value: '', label: t('filtering.priority.inherit', { value: d.default }) }, { value: 'address-first', label: 'address-first' }, { value: 'domain-first', label: 'domain-first' }],
          onInput: (v) => void this.#priority(x.name, v) }))}
        ${this.#banner('domains')}
      </section>`;
  }
}
customElements.define('mm-filtering', MmFiltering);
