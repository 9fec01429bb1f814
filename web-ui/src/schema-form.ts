// What the configuration schema says about a value's choices: a union of constants is a choice
// (a select, or a rule's action), read straight from the server's own schema.
import type { Schema } from './validate.ts';

/** The constants of a union of constants (a choice), else null. */
export function choices(s: Schema): string[] | null {
  const any = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (!any || !any.every((x) => 'const' in x)) return null;
  return any.map((x) => String(x.const));
}
