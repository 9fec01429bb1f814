// The class → action rules of `filtering.rules` (or `filtering.outboundRules`), edited as an
// ordered list: one row per rule with its class, its action and (for "accept with subject tag")
// the tag. Order matters — the pipeline takes the first rule for a message's class
// (appliance/pipeline/verdict.ts) — so rows move up and down with buttons (keyboard focus stays
// on the moved rule, and the move is announced), and a rule that can never apply because an
// earlier one has its class says so. Classes and actions come from the configuration schema;
// problems (the browser's check or the server's, by JSON pointer such as /rules/2/tag or
// /outboundRules/2/tag) are shown in the row they belong to.
import { css, html, nothing } from 'lit';
import { field } from './field.ts';
import { I18nElement, t } from './i18n.ts';
import { choices } from './schema-form.ts';
import { shared } from './styles.ts';
import type { Schema } from './validate.ts';
import type { MessageKey } from '../../appliance/i18n/catalog.ts';

export interface Rule { class: string; action: string; tag?: string }

/** The tag the pipeline uses when a tag rule has none. */
const defaultTag = (cls: string) => `${cls.toUpperCase().replace(/\s+/g, '-')}!!`;

export class MmRulesEditor extends I18nElement {
  static override properties = { rules: { attribute: false }, base: { attribute: false }, errors: { attribute: false }, schema: { attribute: false }, announce: { state: true } };
  /** Edited in place; `mm-change` follows every change. */
  declare rules: Rule[];
  /** Where the list sits in the section: /rules or /outboundRules. */
  declare base: string;
  /** Problems by JSON pointer relative to the section (/rules/…); only those under `base` are shown. */
  declare errors: Record<string, string>;
  /** The schema of one rule (filtering.rules.items). */
  declare schema: Schema;
  declare announce: string;
  #focus: { index: number; which: 'up' | 'down' } | null = null;
  static override styles = [shared, css`
    ol { list-style: none; margin: 0; padding: 0; }
    li { border: 1px solid #d8dee6; border-radius: 6px; padding: .3rem .8rem .6rem; margin: .5rem 0; }
    li[aria-invalid=true] { border-color: #c62828; }
    .rule { display: flex; flex-wrap: wrap; gap: .2rem .8rem; align-items: end; }
    .rule > label { flex: 1 1 9rem; margin: .3rem 0 0; }
    .num { flex: 0 0 4.5rem; font-weight: 600; padding-bottom: .5rem; }
    .move { display: flex; gap: .3rem; flex: 0 0 auto; padding-bottom: .05rem; }
    .move button { min-width: 2.6rem; }
    .warn { color: #8a5a00; font-size: .9rem; margin-top: .3rem; }
  `];

  constructor() {
    super();
    this.rules = [];
    this.base = '/rules';
    this.errors = {};
    this.schema = {};
    this.announce = '';
  }

  #changed(): void {
    this.requestUpdate();
    this.dispatchEvent(new CustomEvent('mm-change'));
  }

  #move(i: number, by: -1 | 1): void {
    const j = i + by;
    [this.rules[i], this.rules[j]] = [this.rules[j], this.rules[i]];
    // Keep focus on the rule just moved; at the list's edge its button in that direction is
    // disabled, so focus moves to the other one.
    const edge = by < 0 ? j === 0 : j === this.rules.length - 1;
    this.#focus = { index: j, which: (by < 0) !== edge ? 'up' : 'down' };
    this.announce = t('filtering.rules.moved', { n: j + 1 });
    this.#changed();
  }

  override updated(): void {
    if (!this.#focus) return;
    const { index, which } = this.#focus;
    this.#focus = null;
    this.renderRoot.querySelectorAll('li')[index]?.querySelector<HTMLButtonElement>(`button[data-move=${which}]`)?.focus();
  }

  #row(r: Rule, i: number, classes: string[], actions: string[]) {
    const n = i + 1;
    const at = `${this.base}/${i}`;
    const err = (key: string) => this.errors[`${at}/${key}`];
    const other = Object.entries(this.errors).filter(([p]) => (p === at || p.startsWith(`${at}/`)) && !/\/(class|action|tag)$/.test(p)).map(([, m]) => m);
    const earlier = this.rules.findIndex((x) => x.class === r.class);
    const invalid = Object.keys(this.errors).some((p) => p === at || p.startsWith(`${at}/`));
    return html`<li aria-label=${t('filtering.rules.rule', { n })} aria-invalid=${invalid ? 'true' : 'false'}><div class="rule">
      <span class="num" aria-hidden="true">${t('filtering.rules.rule', { n })}</span>
      ${field({ label: t('filtering.rules.class'), name: `rule-${i}-class`, value: r.class, error: err('class'), options: classes.map((c) => ({ value: c, label: c })),
        onInput: (v) => { r.class = v; this.#changed(); } })}
      ${field({ label: t('filtering.rules.action'), name: `rule-${i}-action`, value: r.action, error: err('action'),
        options: actions.map((a) => ({ value: a, label: t(`filtering.rules.action.${a}` as MessageKey) })),
        onInput: (v) => { r.action = v; if (v !== 'tag') delete r.tag; this.#changed(); } })}
      ${r.action === 'tag' ? html`${field({ label: t('filtering.rules.tag'), name: `rule-${i}-tag`, value: r.tag ?? '', error: err('tag'),
        onInput: (v) => { if (v) r.tag = v; else delete r.tag; this.#changed(); } })}` : nothing}
      <div class="move">
        <button type="button" class="secondary" data-move="up" aria-label=${t('filtering.rules.up', { n })} ?disabled=${i === 0} @click=${() => this.#move(i, -1)}>↑</button>
        <button type="button" class="secondary" data-move="down" aria-label=${t('filtering.rules.down', { n })} ?disabled=${i === this.rules.length - 1} @click=${() => this.#move(i, 1)}>↓</button>
        <button type="button" class="secondary" aria-label=${t('filtering.rules.remove', { n })} @click=${() => { this.rules.splice(i, 1); this.announce = ''; this.#changed(); }}>✕</button>
      </div></div>
      ${r.action === 'tag' && !r.tag ? html`<div class="muted">${t('filtering.rules.tag')}: ${defaultTag(r.class)}</div>` : nothing}
      ${earlier < i ? html`<div class="warn">${t('filtering.rules.shadowed', { n: earlier + 1, class: r.class })}</div>` : nothing}
      ${other.map((m) => html`<div class="error" role="alert">${m}</div>`)}
    </li>`;
  }

  override render() {
    const props = (this.schema.properties ?? {}) as Record<string, Schema>;
    const classes = choices(props.class ?? {}) ?? [];
    const actions = choices(props.action ?? {}) ?? [];
    const listError = this.errors[this.base];
    return html`<p class="muted">${t('filtering.rules.help')}</p>
      ${this.rules.length ? html`<ol>${this.rules.map((r, i) => this.#row(r, i, classes, actions))}</ol>` : html`<p>${t('filtering.rules.empty')}</p>`}
      ${listError ? html`<div class="error" role="alert">${listError}</div>` : nothing}
      <p class="muted announce" role="status" aria-live="polite">${this.announce}</p>
      <div class="actions flush-top"><button type="button" class="secondary" @click=${() => {
        const used = new Set(this.rules.map((r) => r.class));
        this.rules.push({ class: classes.find((c) => !used.has(c)) ?? classes[0] ?? '', action: actions[0] ?? 'accept' });
        this.announce = '';
        this.#changed();
      }}>${t('filtering.rules.add')}</button></div>`;
  }
}
customElements.define('mm-rules-editor', MmRulesEditor);
