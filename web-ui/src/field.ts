// A labelled form field with its error below it; the error is tied to the input for screen
// readers (aria-describedby) and marks the input invalid.
import { html, nothing, type TemplateResult } from 'lit';

let counter = 0;

export interface FieldOpts {
  label: string;
  value: string | number | undefined;
  error?: string;
  type?: string;
  name?: string;
  autocomplete?: string;
  multiline?: boolean;
  options?: { value: string; label: string }[];
  /** The choices are literal data (interface names, configuration keys): shown in the mono face. */
  literal?: boolean;
  /** Values offered as the user types (a datalist): searchable, unlike a long select. */
  suggestions?: readonly string[];
  onInput: (value: string) => void;
}

export function field(o: FieldOpts): TemplateResult {
  const id = `f${++counter}`;
  const err = o.error ? html`<div class="error" id="${id}-err" role="alert">${o.error}</div>` : nothing;
  const value = o.value === undefined ? '' : String(o.value);
  const input = o.options
    ? html`<select name=${o.name ?? nothing} class=${o.literal ? 'mono' : nothing} aria-invalid=${o.error ? 'true' : 'false'} aria-describedby=${o.error ? `${id}-err` : nothing}
        @change=${(e: Event) => o.onInput((e.target as HTMLSelectElement).value)}>
        ${o.options.map((opt) => html`<option value=${opt.value} ?selected=${opt.value === value}>${opt.label}</option>`)}
      </select>`
    : o.multiline
      ? html`<textarea name=${o.name ?? nothing} .value=${value} aria-invalid=${o.error ? 'true' : 'false'} aria-describedby=${o.error ? `${id}-err` : nothing}
          @input=${(e: Event) => o.onInput((e.target as HTMLTextAreaElement).value)}></textarea>`
      : html`<input name=${o.name ?? nothing} type=${o.type ?? 'text'} .value=${value} autocomplete=${o.autocomplete ?? nothing}
          list=${o.suggestions ? `${id}-list` : nothing} aria-invalid=${o.error ? 'true' : 'false'} aria-describedby=${o.error ? `${id}-err` : nothing}
          @input=${(e: Event) => o.onInput((e.target as HTMLInputElement).value)}>${o.suggestions
        ? html`<datalist id="${id}-list">${o.suggestions.map((v) => html`<option value=${v}></option>`)}</datalist>` : nothing}`;
  return html`<label><span>${o.label}</span>${input}${err}</label>`;
}
