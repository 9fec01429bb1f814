// Domains: routes (with a live test per route), recipient verification, domain aliases, mailbox
// aliases and time zone. Validated in the browser with the configuration schema's Domain, then by
// the server, whose problems appear next to the same fields (paths relative to the domain).
import { describeFailure } from '../failure.ts';
import { html, nothing } from 'lit';
import { api, type RouteTest } from '../api.ts';
import { confirmDialog } from '../dialog.ts';
import { field } from '../field.ts';
import { recipientModeText, routeTlsText } from '../format.ts';
import { I18nElement, t } from '../i18n.ts';
import { shared } from '../styles.ts';
import { loadConfigSchema, problemText, serverText, subSchema, validate, type Schema } from '../validate.ts';
import type { SessionUser } from '../app.ts';

interface Route { host: string; port: number; priority: number; tls: string }
interface Domain {
  name: string; routes: Route[];
  recipients: { mode: string; addresses: string[]; calloutCacheSeconds: number };
  aliases: string[]; mailboxAliases: { from: string; to: string }[]; timezone?: string;
}
const lines = (s: string) => s.split('\n').map((x) => x.trim()).filter(Boolean);

export class MmDomains extends I18nElement {
  static override properties = { user: {}, domains: { state: true }, edit: { state: true }, errors: { state: true }, banner: { state: true }, tests: { state: true } };
  declare user: SessionUser;
  declare domains: Domain[];
  declare edit: { original: string | null; d: Domain; aliases: string; mailboxAliases: string; addresses: string } | null;
  declare errors: Record<string, string>;
  declare banner: { ok: boolean; text: string } | null;
  declare tests: Record<number, { ok: boolean; text: string }>;
  schema: Schema | null = null;
  /** The zone names the appliance accepts, offered as the time zone field is typed. */
  timezones: string[] = [];
  static override styles = [shared];

  constructor() {
    super();
    this.domains = [];
    this.edit = null;
    this.errors = {};
    this.banner = null;
    this.tests = {};
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  async #load(select?: string): Promise<void> {
    const [list, schema] = await Promise.all([api<{ items: Domain[]; timezones: string[] }>('GET', '/api/domains'), loadConfigSchema()]);
    this.schema = schema;
    this.timezones = list.timezones;
    this.domains = list.items;
    const pick = this.domains.find((d) => d.name === (select ?? this.edit?.original)) ?? this.domains[0];
    if (pick) this.#open(pick);
  }

  #open(d: Domain | null): void {
    const copy: Domain = d ? structuredClone(d) : { name: '', routes: [{ host: '', port: 25, priority: 10, tls: 'opportunistic' }], recipients: { mode: 'accept-all', addresses: [], calloutCacheSeconds: 3600 }, aliases: [], mailboxAliases: [] };
    this.edit = { original: d?.name ?? null, d: copy, aliases: copy.aliases.join('\n'), addresses: copy.recipients.addresses.join('\n'),
      mailboxAliases: copy.mailboxAliases.map((a) => `${a.from} -> ${a.to}`).join('\n') };
    this.errors = {};
    this.banner = null;
    this.tests = {};
  }

  #value(): Domain {
    const e = this.edit!;
    const d: Domain = { ...e.d, aliases: lines(e.aliases), recipients: { ...e.d.recipients, addresses: lines(e.addresses) },
      mailboxAliases: lines(e.mailboxAliases).map((l) => { const [from, to] = l.split(/\s*(?:->|→|\s)\s*/); return { from: from ?? '', to: to ?? '' }; }) };
    if (!d.timezone) delete d.timezone;
    return d;
  }

  async #save(ev: Event): Promise<void> {
    ev.preventDefault();
    const value = this.#value();
    this.errors = validate(subSchema(this.schema!, 'domains', 'items'), value);
    if (value.timezone && !this.timezones.includes(value.timezone)) this.errors['/timezone'] = problemText('problem.unknown-time-zone', { zone: value.timezone });
    if (Object.keys(this.errors).length) { this.banner = { ok: false, text: t('error.invalid') }; return; }
    try {
      const original = this.edit!.original;
      if (original) await api('PUT', `/api/domains/${encodeURIComponent(original)}`, value);
      else await api('POST', '/api/domains', value);
      await this.#load(value.name);
      this.banner = { ok: true, text: t('common.saved') };
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(err: unknown): void {
    const f = describeFailure(err);
    this.errors = f.errors;
    this.banner = { ok: false, text: f.text };
  }

  async #delete(): Promise<void> {
    const name = this.edit?.original;
    if (!name || !(await confirmDialog({ heading: t('domains.deleteTitle'), message: t('domains.confirmDelete', { name }), confirmLabel: t('common.delete'), danger: true }))) return;
    try {
      await api('DELETE', `/api/domains/${encodeURIComponent(name)}`);
      this.edit = null;
      await this.#load();
    } catch (err) { this.#fail(err); }
  }

  async #test(i: number): Promise<void> {
    const r = this.edit!.d.routes[i];
    const name = this.edit!.original ?? this.domains[0]?.name;
    this.tests = { ...this.tests, [i]: { ok: true, text: t('common.testing') } };
    try {
      const res = await api<RouteTest>('POST', `/api/domains/${encodeURIComponent(name ?? '')}/test-route`, { host: r.host, port: Number(r.port) });
      this.tests = { ...this.tests, [i]: res.ok ? { ok: true, text: t('wizard.domain.testOk', { greeting: res.greeting ?? '' }) } : { ok: false, text: t('wizard.domain.testFailed', { error: res.problem ? serverText(res.problem) : '' }) } };
    } catch (err) {
      this.tests = { ...this.tests, [i]: { ok: false, text: describeFailure(err).text } };
    }
  }

  override render() {
    const admin = this.user?.role === 'admin';
    return html`<h1>${t('domains.title')}</h1>
      <section class="card"><div class="actions">
        ${this.domains.map((d) => html`<button class=${this.edit?.original === d.name ? '' : 'secondary'} @click=${() => this.#open(d)}>${d.name}</button>`)}
        ${admin ? html`<button class="secondary" @click=${() => this.#open(null)}>+ ${t('domains.add')}</button>` : nothing}
      </div></section>
      ${this.edit ? this.#form(admin) : nothing}`;
  }

  #form(admin: boolean) {
    const e = this.edit!;
    const d = e.d;
    const err = this.errors;
    const set = () => this.requestUpdate();
    return html`<form @submit=${(ev: Event) => this.#save(ev)}><section class="card">
      ${field({ label: t('wizard.domain.name'), value: d.name, error: err['/name'], onInput: (v) => { d.name = v.trim(); set(); } })}
      <h2>${t('domains.routes')}</h2>
      ${d.routes.map((r, i) => html`<div class="row">
        ${field({ label: t('domains.route.host'), value: r.host, error: err[`/routes/${i}/host`], onInput: (v) => { r.host = v.trim(); set(); } })}
        ${field({ label: t('domains.route.port'), type: 'number', value: r.port, error: err[`/routes/${i}/port`], onInput: (v) => { r.port = Number(v); set(); } })}
        ${field({ label: t('domains.route.priority'), type: 'number', value: r.priority, error: err[`/routes/${i}/priority`], onInput: (v) => { r.priority = Number(v); set(); } })}
        ${field({ label: t('domains.route.tls'), value: r.tls, options: ['opportunistic', 'required', 'none'].map((x) => ({ value: x, label: routeTlsText(x) })), onInput: (v) => { r.tls = v; set(); } })}
        <div class="actions"><button type="button" class="secondary" ?disabled=${!e.original} @click=${() => this.#test(i)}>${t('common.test')}</button>
          ${d.routes.length > 1 ? html`<button type="button" class="secondary" @click=${() => { d.routes.splice(i, 1); set(); }}>${t('common.delete')}</button>` : nothing}</div>
      </div>${this.tests[i] ? html`<p class="banner ${this.tests[i].ok ? 'ok' : 'error'}" role="status">${this.tests[i].text}</p>` : nothing}`)}
      ${err['/routes'] ? html`<div class="error">${err['/routes']}</div>` : nothing}
      <div class="actions"><button type="button" class="secondary" @click=${() => { d.routes.push({ host: '', port: 25, priority: 20, tls: 'opportunistic' }); set(); }}>${t('domains.addRoute')}</button></div>
      <h2>${t('domains.recipients')}</h2>
      ${field({ label: t('domains.recipients.mode'), value: d.recipients.mode, options: ['accept-all', 'listed', 'callout'].map((x) => ({ value: x, label: recipientModeText(x) })), onInput: (v) => { d.recipients.mode = v; set(); } })}
      ${d.recipients.mode === 'listed' ? field({ label: t('domains.recipients.addresses'), multiline: true, value: e.addresses, error: err['/recipients/addresses'], onInput: (v) => { e.addresses = v; } }) : nothing}
      ${field({ label: t('domains.aliases'), multiline: true, value: e.aliases, error: Object.entries(err).find(([k]) => k.startsWith('/aliases'))?.[1], onInput: (v) => { e.aliases = v; } })}
      ${field({ label: t('domains.mailboxAliases'), multiline: true, value: e.mailboxAliases, error: Object.entries(err).find(([k]) => k.startsWith('/mailboxAliases'))?.[1], onInput: (v) => { e.mailboxAliases = v; } })}
      ${field({ label: t('domains.timezone'), value: d.timezone ?? '', error: err['/timezone'], name: 'timezone', suggestions: this.timezones, onInput: (v) => { d.timezone = v.trim(); } })}
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      <div class="actions"><button type="submit">${t('common.save')}</button>
        ${admin && e.original ? html`<button type="button" class="danger" @click=${() => this.#delete()}>${t('common.delete')}</button>` : nothing}</div>
    </section></form>`;
  }
}
customElements.define('mm-domains', MmDomains);
