// Client-side validation with the server's own JSON Schema (from /api/schema/config), the same
// validator library and the same problem texts the server uses, so a form shows the same problems,
// in the same words, before it is sent.
import Value from 'typebox/value';
import { schemaProblems, type SchemaError } from '../../appliance/config/problems.ts';
import { errorText, isErrorKey, type ErrorKey, type TextParams } from '../../appliance/i18n/server-messages.ts';
import { lang } from './i18n.ts';

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

/** Problems by JSON pointer (the first at each), in the console's language. */
export function validate(schema: Schema, value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of schemaProblems(Value.Errors(schema as never, value) as Iterable<SchemaError>)) out[p.path] ??= errorText(lang(), p);
  return out;
}

/** A problem text of the server's catalog, for the checks a schema cannot express. */
export function problemText(key: ErrorKey, params?: TextParams): string {
  return errorText(lang(), { key, params });
}

export interface ServerText { message: string; key?: string; params?: TextParams }

/**
 * A text the server sent with its key (a training result, a route test's problem): rendered here,
 * so it follows a change of the console's language; the server's own words if the key is unknown.
 */
export function serverText(text: ServerText): string {
  return text.key && isErrorKey(text.key) ? problemText(text.key, text.params) : text.message;
}
