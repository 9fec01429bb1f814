// Client-side validation with the server's own JSON Schema (from /api/schema/config) and the same
// validator library the server uses, so a form shows the same problems before it is sent.
// Messages are translated by the kind of rule broken.
import Value from 'typebox/value';
import { t } from './i18n.ts';

export type Schema = Record<string, unknown>;

let configSchema: Promise<Schema> | undefined;
export function loadConfigSchema(): Promise<Schema> {
  configSchema ??= fetch('/api/schema/config').then((r) => r.json() as Promise<Schema>);
  return configSchema;
}

/** The sub-schema at a path of property names ('items' steps into arrays). */
export function subSchema(schema: Schema, ...steps: string[]): Schema {
  let s: Schema = schema;
  for (const step of steps) s = (step === 'items' ? s.items : (s.properties as Record<string, Schema>)[step]) as Schema;
  return s;
}

interface SchemaError { instancePath: string; keyword: string; params: Record<string, unknown> }

export function validate(schema: Schema, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of Value.Errors(schema as never, value) as Iterable<SchemaError>) {
    const missing = e.params.missingProperty as string | undefined;
    const path = (e.instancePath || '') + (missing ? `/${missing}` : '') || '/';
    if (out[path] || e.keyword === 'anyOf' || e.keyword === 'boolean') continue;
    out[path] = message(e);
  }
  return out;
}

function message(e: SchemaError): string {
  switch (e.keyword) {
    case 'required': return t('validation.required');
    case 'minLength': return t('validation.minLength');
    case 'maxLength': return t('validation.maxLength');
    case 'pattern': return t('validation.pattern');
    case 'minimum': return t('validation.minimum', { limit: String(e.params.limit ?? '') });
    case 'maximum': return t('validation.maximum', { limit: String(e.params.limit ?? '') });
    case 'type': return t('validation.type');
    default: return t('validation.other');
  }
}
