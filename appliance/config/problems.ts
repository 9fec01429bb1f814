// A problem with one field of some input: its JSON-pointer path, the key and parameters of its
// text (so the console can show it in the reader's language) and the English text (for the CLI,
// logs and exceptions). `schemaProblems` turns a JSON Schema validator's errors into problems;
// TypeBox's Value.Errors (the configuration, the web UI) and fastify's Ajv (request schemas)
// report errors of the same shape, so both go through it. Kept free of Node modules: the web UI
// bundles it.
import { HOST_NAME, HOST_OR_ADDRESS } from './patterns.ts';
import { errorText, type ErrorKey, type LocalText, type TextParams } from '../i18n/server-messages.ts';

export interface ConfigProblem extends LocalText {
  path: string;
  /** The English text. */
  message: string;
}

export function problem(path: string, key: ErrorKey, params?: TextParams): ConfigProblem {
  return params ? { path, key, params, message: errorText('en', { key, params }) } : { path, key, message: errorText('en', { key }) };
}

export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
}

const LIMITS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems'] as const;
const TYPES = ['string', 'integer', 'number', 'boolean', 'object', 'array', 'null'] as const;

// Patterns whose problem says what is expected, not only that the form is wrong.
const PATTERN_PROBLEMS: Record<string, ErrorKey> = { [HOST_NAME]: 'problem.not-a-dns-name', [HOST_OR_ADDRESS]: 'problem.not-a-host' };

const list = (v: unknown): string => (Array.isArray(v) ? v : [v]).map(String).join(', ');

export function schemaProblems(errors: Iterable<SchemaError>): ConfigProblem[] {
  const all = [...errors];
  // A union reports every alternative's failure and then `anyOf`; the admin needs one sentence:
  // the allowed values when the alternatives are constants, "is not valid" otherwise.
  const unions = new Set(all.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const inUnion = (p: string) => [...unions].some((u) => p === u || p.startsWith(u + '/'));
  const out: ConfigProblem[] = [];
  const seen = new Set<string>();
  const add = (p: ConfigProblem) => {
    const id = `${p.path}\n${p.message}`;
    if (!seen.has(id)) out.push(p);
    seen.add(id);
  };
  for (const e of all) {
    const path = e.instancePath || '/';
    const at = e.instancePath;
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      const alternatives = all.filter((x) => x.instancePath === at && x.keyword !== e.keyword);
      const consts = alternatives.filter((x) => x.keyword === 'const').map((x) => x.params.allowedValue);
      const onlyConsts = alternatives.every((x) => x.keyword === 'const' || x.keyword === 'type');
      add(consts.length && onlyConsts ? problem(path, 'problem.one-of', { values: list(consts) }) : problem(path, 'problem.invalid'));
      continue;
    }
    if (inUnion(at)) continue;
    // TypeBox repeats an unknown key as "schema is false" at the key itself.
    if (e.keyword === 'boolean') continue;
    if (e.keyword === 'required') {
      const missing = e.params.missingProperty ?? e.params.requiredProperties;
      for (const name of Array.isArray(missing) ? missing : [missing]) add(problem(`${at}/${String(name)}`, 'problem.required'));
      continue;
    }
    if (e.keyword === 'additionalProperties') {
      add(problem(path, 'problem.unknown-keys', { keys: list(e.params.additionalProperty ?? e.params.additionalProperties) }));
      continue;
    }
    if (e.keyword === 'type') {
      const type = Array.isArray(e.params.type) ? e.params.type[0] : e.params.type;
      const known = TYPES.find((x) => x === type);
      add(known ? problem(path, `problem.type.${known}`) : problem(path, 'problem.invalid'));
      continue;
    }
    const limit = LIMITS.find((k) => k === e.keyword);
    if (limit) add(problem(path, `problem.${limit}`, { limit: Number(e.params.limit) }));
    else if (e.keyword === 'enum') add(problem(path, 'problem.one-of', { values: list(e.params.allowedValues) }));
    else if (e.keyword === 'const') add(problem(path, 'problem.one-of', { values: list(e.params.allowedValue) }));
    else if (e.keyword === 'pattern') add(problem(path, PATTERN_PROBLEMS[String(e.params.pattern)] ?? 'problem.pattern'));
    else if (e.keyword === 'format') add(problem(path, 'problem.format', { format: String(e.params.format) }));
    else if (e.keyword === 'uniqueItems') add(problem(path, 'problem.uniqueItems'));
    else add(problem(path, 'problem.invalid'));
  }
  return out;
}
