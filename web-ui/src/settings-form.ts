// One group of settings as a form (<mm-settings-group group="spam">): the group's settings come
// from config/settings-groups.ts by JSON pointer, each drawn by the kind its configuration schema
// gives it — a choice as a select, a list of choices as checkboxes, a switch, a number, a text, a
// list of texts one per line, a list of numbers comma-separated, a list of records (SNMP users,
// syslog servers, DNS lists) as rows with a field per column — with its label and help from the
// settings catalog in the console's language. Saving checks every setting with the server's own
// schema first, then sends the group's values; the server's problems come back by pointer and
// are shown at their field (a row's cell, too). A save changes only this group's settings.
// A form whose settings are not the appliance's own (a domain's report settings) is given a
// `source` that loads and saves them, by the same pointers (`/domains/*/…`) and texts.
import { css, html, nothing, type TemplateResult } from 'lit';
import { api } from './api.ts';
import { describeFailure } from './failure.ts';
import { I18nElement, lang, t } from './i18n.ts';
import { shared } from './styles.ts';
import { loadConfigSchema, validate, type Schema } from './validate.ts';
import { SETTINGS_GROUPS, steps, valueAt, type SettingsGroup } from '../../appliance/config/settings-groups.ts';
import { optionalSettingsText, settingsText } from '../../appliance/i18n/settings-texts.ts';

type Obj = Record<string, unknown>;
let counter = 0;

/** Where a form's settings live when they are not the appliance's configuration. */
export interface SettingsSource {
  /** The form's heading, in the console's language at the time. */
  title(): string;
  pointers: readonly string[];
  /** The values by pointer. */
  load(): Promise<Obj>;
  /** Stores the values (unset: undefined) and gives back those stored; fails as api() does, problems by pointer. */
  save(values: Obj): Promise<Obj>;
}

/** The sub-schema at a pointer; array indexes and `*` step into the items. */
export function schemaAt(schema: Schema, pointer: string): Schema {
  let s = schema;
  for (const step of steps(pointer)) {
    if (s.type === 'array') s = s.items as Schema;
    else s = ((s.properties ?? {}) as Record<string, Schema>)[step] ?? (Object.values((s.patternProperties ?? {}) as Record<string, Schema>)[0]);
    if (!s) return {};
  }
  return s;
}

/** The constants of a union of constants (a choice), else null. */
function choiceValues(s: Schema): string[] | null {
  const any = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  return any?.every((x) => 'const' in x) ? any.map((x) => String(x.const)) : null;
}

/** Label, help and the words of a choice: by pointer, a row's column as `<list>/*\/<column>`. */
const label = (key: string) => optionalSettingsText(lang(), `label:${key}`) ?? key.split('/').pop()!;
const help = (key: string) => optionalSettingsText(lang(), `help:${key}`);
const choiceLabel = (key: string, value: string) => optionalSettingsText(lang(), `choice:${key}=${value}`) ?? value;
const SECRET_COLUMNS = ['authPassword', 'privPassword'];

export class MmSettingsGroup extends I18nElement {
  static override properties = { group: {}, source: { attribute: false }, values: { state: true }, errors: { state: true }, banner: { state: true } };
  declare group: SettingsGroup;
  declare source: SettingsSource | undefined;
  /** The group's settings by pointer, edited in place. */
  declare values: Obj | null;
  declare errors: Record<string, string>;
  declare banner: { ok: boolean; text: string } | null;
  schema: Schema | null = null;
  static override styles = [shared, css`
    .help { display: block; font-weight: 400; font-size: .88rem; color: #5b6775; margin-top: .2rem; }
    label.check { display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; }
    label.check > .help { flex-basis: 100%; }
    fieldset { border: 1px solid #d8dee6; border-radius: 6px; margin: .8rem 0; }
    .rows td label { margin: 0; }
    .rows td { min-width: 7rem; }
  `];

  constructor() {
    super();
    this.values = null;
    this.errors = {};
    this.banner = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#load();
  }

  get #pointers(): readonly string[] {
    return this.source?.pointers ?? SETTINGS_GROUPS[this.group];
  }

  async #load(): Promise<void> {
    const source = this.source;
    if (source) {
      [this.schema, this.values] = await Promise.all([loadConfigSchema(), source.load()]);
      return;
    }
    const [schema, cfg] = await Promise.all([loadConfigSchema(), api<{ config: Obj }>('GET', '/api/system/config')]);
    this.schema = schema;
    const values: Obj = {};
    for (const p of SETTINGS_GROUPS[this.group]) values[p] = structuredClone(valueAt(cfg.config, p));
    this.values = values;
  }

  #error(pointer: string): string | undefined {
    return this.errors[pointer] ?? Object.entries(this.errors).find(([p]) => p.startsWith(pointer + '/'))?.[1];
  }

  /** Problems the browser finds, by full pointer, with the server's schema and texts. */
  #check(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [pointer, value] of Object.entries(this.values!)) {
      if (value === undefined) continue;
      for (const [rel, text] of Object.entries(validate(schemaAt(this.schema!, pointer), value))) out[rel === '/' ? pointer : pointer + rel] ??= text;
    }
    return out;
  }

  async #save(e: Event): Promise<void> {
    e.preventDefault();
    this.errors = this.#check();
    if (Object.keys(this.errors).length) { this.banner = { ok: false, text: t('error.invalid') }; return; }
    try {
      if (this.source) this.values = await this.source.save(structuredClone(this.values!));
      else {
        const values = Object.fromEntries(Object.entries(this.values!).map(([p, v]) => [p, v === undefined ? null : v]));
        const res = await api<{ values: Obj }>('PUT', `/api/system/settings/${this.group}`, { values });
        this.values = Object.fromEntries(Object.entries(res.values).map(([p, v]) => [p, v === null ? undefined : v]));
      }
      this.errors = {};
      this.banner = { ok: true, text: t('common.saved') };
      this.dispatchEvent(new CustomEvent('mm-saved', { bubbles: true, composed: true }));
    } catch (err) {
      const f = describeFailure(err);
      this.errors = f.errors;
      // A problem no field of this form shows (another setting the change made invalid) is named in the banner.
      const shown = this.#pointers;
      const elsewhere = Object.entries(f.errors).filter(([p]) => !shown.some((s) => p === s || p.startsWith(s + '/')));
      this.banner = { ok: false, text: elsewhere.length ? settingsText(lang(), 'ui.otherProblems', { problems: elsewhere.map(([p, m]) => `${p}: ${m}`).join('; ') }) : f.text };
    }
  }

  #set(pointer: string, value: unknown): void {
    this.values![pointer] = value;
    this.requestUpdate();
  }

  /** One input for a value of a scalar schema; `key` names its texts, `pointer` its problems. */
  #input(s: Schema, key: string, pointer: string, value: unknown, set: (v: unknown) => void, labelledBy: string): TemplateResult {
    const error = this.#error(pointer);
    const aria = { invalid: error ? 'true' : 'false' };
    const opts = choiceValues(s);
    const name = key.split('/').pop()!;
    if (opts) {
      const optional = value === undefined;
      return html`<select aria-labelledby=${labelledBy} aria-invalid=${aria.invalid} @change=${(e: Event) => set((e.target as HTMLSelectElement).value)}>
        ${optional ? html`<option value="" selected>${settingsText(lang(), 'ui.unset')}</option>` : nothing}
        ${opts.map((o) => html`<option value=${o} ?selected=${o === value}>${choiceLabel(key, o)}</option>`)}</select>`;
    }
    if (s.type === 'integer' || s.type === 'number') {
      return html`<input type="number" aria-labelledby=${labelledBy} aria-invalid=${aria.invalid} step=${s.type === 'integer' ? '1' : 'any'} .value=${value === undefined ? '' : String(value)}
        @input=${(e: Event) => { const v = (e.target as HTMLInputElement).value; set(v === '' ? undefined : Number(v)); }}>`;
    }
    if (s.type === 'array') {
      // A list inside a row (a DNS list's answers): comma-separated.
      return html`<input aria-labelledby=${labelledBy} aria-invalid=${aria.invalid} .value=${((value as unknown[] | undefined) ?? []).join(', ')}
        @input=${(e: Event) => set((e.target as HTMLInputElement).value.split(/[\s,]+/).filter(Boolean))}>`;
    }
    return html`<input type=${SECRET_COLUMNS.includes(name) ? 'password' : 'text'} autocomplete=${SECRET_COLUMNS.includes(name) ? 'new-password' : 'off'}
      aria-labelledby=${labelledBy} aria-invalid=${aria.invalid} .value=${(value as string | undefined) ?? ''}
      @input=${(e: Event) => set((e.target as HTMLInputElement).value)}>`;
  }

  #errorLine(pointer: string, id: string) {
    const error = this.#error(pointer);
    return error ? html`<div class="error" id=${id} role="alert">${error}</div>` : nothing;
  }

  #setting(pointer: string): TemplateResult {
    const s = schemaAt(this.schema!, pointer);
    const value = this.values![pointer];
    const id = `s${++counter}`;
    const helpText = help(pointer);
    const helpLine = helpText ? html`<small class="help">${helpText}</small>` : nothing;
    const set = (v: unknown) => this.#set(pointer, v);
    const error = this.#error(pointer);
    const items = s.items as Schema | undefined;
    if (s.type === 'boolean') {
      return html`<label class="check"><input type="checkbox" ?checked=${Boolean(value)} aria-invalid=${error ? 'true' : 'false'}
        @change=${(e: Event) => set((e.target as HTMLInputElement).checked)}> <span>${label(pointer)}</span>${helpLine}${this.#errorLine(pointer, `${id}-e`)}</label>`;
    }
    if (s.type === 'array' && items && choiceValues(items)) {
      const chosen = (value as string[] | undefined) ?? [];
      return html`<fieldset><legend>${label(pointer)}</legend>${helpLine}
        ${choiceValues(items)!.map((o) => html`<label class="check"><input type="checkbox" ?checked=${chosen.includes(o)}
          @change=${(e: Event) => set((e.target as HTMLInputElement).checked ? [...chosen, o] : chosen.filter((x) => x !== o))}> ${choiceLabel(pointer, o)}</label>`)}
        ${this.#errorLine(pointer, `${id}-e`)}</fieldset>`;
    }
    if (s.type === 'array' && items?.type === 'object') return this.#rows(pointer, items, (value as Obj[] | undefined) ?? [], helpLine);
    if (s.type === 'array' && items?.type === 'string') {
      return html`<label><span id=${id}>${label(pointer)} (${settingsText(lang(), 'ui.onePerLine')})</span>
        <textarea aria-labelledby=${id} aria-invalid=${error ? 'true' : 'false'} .value=${((value as string[] | undefined) ?? []).join('\n')}
          @input=${(e: Event) => set((e.target as HTMLTextAreaElement).value.split('\n').map((x) => x.trim()).filter(Boolean))}></textarea>${helpLine}${this.#errorLine(pointer, `${id}-e`)}</label>`;
    }
    if (s.type === 'array') {
      return html`<label><span id=${id}>${label(pointer)}</span>${this.#input(s, pointer, pointer, value, set, id)}${helpLine}${this.#errorLine(pointer, `${id}-e`)}</label>`;
    }
    // An optional text left empty is unset (the server's default applies).
    const text = s.type === 'string' && !choiceValues(s) ? (v: unknown) => set(v === '' ? undefined : v) : set;
    return html`<label><span id=${id}>${label(pointer)}</span>${this.#input(s, pointer, pointer, value, text, id)}${helpLine}${this.#errorLine(pointer, `${id}-e`)}</label>`;
  }

  /** A list of records as a table: one row per record, a field per column, add and remove. */
  #rows(pointer: string, items: Schema, rows: Obj[], helpLine: unknown): TemplateResult {
    const columns = Object.entries((items.properties ?? {}) as Record<string, Schema>);
    const key = (col: string) => `${pointer}/*/${col}`;
    const setRows = (next: Obj[]) => this.#set(pointer, next);
    // A new row starts with each column's default, so a port or protocol need not be typed.
    const fresh = () => Object.fromEntries(columns.filter(([, c]) => c.default !== undefined).map(([n, c]) => [n, structuredClone(c.default)]));
    const title = `s${++counter}`;
    return html`<fieldset class="rows"><legend id=${title}>${label(pointer)}</legend>${helpLine}
      ${rows.length ? html`<div class="table-wrap"><table aria-labelledby=${title}>
        <thead><tr>${columns.map(([n]) => html`<th>${label(key(n))}</th>`)}<th><span class="sr-only">${settingsText(lang(), 'ui.removeRow')}</span></th></tr></thead>
        <tbody>${rows.map((row, i) => html`<tr>${columns.map(([n, c]) => {
          const id = `s${++counter}`;
          return html`<td><label><span class="sr-only" id=${id}>${label(key(n))} ${i + 1}</span>
            ${this.#input(c, key(n), `${pointer}/${i}/${n}`, row[n], (v) => { if (v === undefined || v === '') delete row[n]; else row[n] = v; this.requestUpdate(); }, id)}
            ${this.#errorLine(`${pointer}/${i}/${n}`, `${id}-e`)}</label></td>`;
        })}<td><button type="button" class="secondary small" @click=${() => setRows(rows.filter((_, j) => j !== i))}>${settingsText(lang(), 'ui.removeRow')}</button></td></tr>`)}</tbody>
      </table></div>` : nothing}
      ${this.errors[pointer] ? html`<div class="error" role="alert">${this.errors[pointer]}</div>` : nothing}
      <div class="actions"><button type="button" class="secondary" @click=${() => setRows([...rows, fresh()])}>${settingsText(lang(), 'ui.addRow')}: ${label(pointer)}</button></div>
    </fieldset>`;
  }

  override render() {
    const title = this.source?.title() ?? settingsText(lang(), `group.${this.group}`);
    if (!this.values || !this.schema) return html`<section class="card"><h2>${title}</h2><p>${t('common.loading')}</p></section>`;
    return html`<form @submit=${(e: Event) => this.#save(e)}><section class="card" aria-label=${title}><h2>${title}</h2>
      ${this.#pointers.map((p) => this.#setting(p))}
      ${this.banner ? html`<p class="banner ${this.banner.ok ? 'ok' : 'error'}" role=${this.banner.ok ? 'status' : 'alert'}>${this.banner.text}</p>` : nothing}
      <div class="actions"><button type="submit">${t('common.save')}</button></div></section></form>`;
  }
}
customElements.define('mm-settings-group', MmSettingsGroup);
