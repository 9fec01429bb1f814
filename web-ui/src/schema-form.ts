// Renders an editing form for a configuration section straight from its JSON Schema: numbers,
// strings, booleans, choices (unions of constants), nested objects as fieldsets, arrays of
// strings as one-per-line text, anything else as JSON. Labels come from the schema's
// descriptions, which are written for the admin; errors are shown by JSON pointer.
import { html, nothing, type TemplateResult } from 'lit';
import { field } from './field.ts';
import type { Schema } from './validate.ts';

type Obj = Record<string, unknown>;

/** The constants of a union of constants (a choice), else null. */
export function choices(s: Schema): string[] | null {
  const any = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (!any || !any.every((x) => 'const' in x)) return null;
  return any.map((x) => String(x.const));
}

export function schemaForm(schema: Schema, value: Obj, errors: Record<string, string>, onChange: () => void, base = ''): TemplateResult {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  return html`${Object.entries(props).map(([key, s]) => {
    const path = `${base}/${key}`;
    const label = s.description ? `${key} — ${String(s.description)}` : key;
    const error = errors[path] ?? Object.entries(errors).find(([p]) => p.startsWith(path + '/'))?.[1];
    const opts = choices(s);
    if (opts) return field({ label, value: String(value[key] ?? ''), error, options: opts.map((o) => ({ value: o, label: o })), onInput: (v) => { value[key] = v; onChange(); } });
    if (s.type === 'object' && s.properties) {
      value[key] ??= {};
      return html`<fieldset><legend>${key}</legend>${schemaForm(s, value[key] as Obj, errors, onChange, path)}</fieldset>`;
    }
    if (s.type === 'integer' || s.type === 'number') {
      return field({ label, type: 'number', value: value[key] as number | undefined, error, onInput: (v) => { value[key] = v === '' ? undefined : Number(v); onChange(); } });
    }
    if (s.type === 'boolean') {
      return html`<label><input type="checkbox" ?checked=${Boolean(value[key])} @change=${(e: Event) => { value[key] = (e.target as HTMLInputElement).checked; onChange(); }}> ${label}</label>
        ${error ? html`<div class="error">${error}</div>` : nothing}`;
    }
    if (s.type === 'string') return field({ label, value: (value[key] as string | undefined) ?? '', error, onInput: (v) => { value[key] = v === '' && !(schema.required as string[] | undefined)?.includes(key) ? undefined : v; onChange(); } });
    if (s.type === 'array' && (s.items as Schema | undefined)?.type === 'string') {
      return field({ label, multiline: true, value: ((value[key] as string[] | undefined) ?? []).join('\n'), error,
        onInput: (v) => { value[key] = v.split('\n').map((x) => x.trim()).filter(Boolean); onChange(); } });
    }
    if (s.type === 'array' && ['number', 'integer'].includes(String((s.items as Schema | undefined)?.type))) {
      return field({ label, value: ((value[key] as number[] | undefined) ?? []).join(', '), error,
        onInput: (v) => { value[key] = v.split(/[,\s]+/).filter(Boolean).map(Number); onChange(); } });
    }
    return field({ label: `${label} (JSON)`, multiline: true, value: JSON.stringify(value[key] ?? null, null, 2), error,
      onInput: (v) => { try { value[key] = JSON.parse(v); } catch { /* kept until it parses */ } onChange(); } });
  })}`;
}
