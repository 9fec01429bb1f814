// Validation of a configuration document: the schema first (with defaults filled in), then the
// rules a schema cannot express (duplicates, networks that parse). Every problem is reported with
// its path so the admin can fix the file in one pass.
import net from 'node:net';
import Value from 'typebox/value';
import { ConfigSchema, type Config } from './schema.ts';

export interface ConfigProblem {
  path: string;
  message: string;
}
export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

export function validateConfig(input: unknown): ConfigResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, problems: [{ path: '/', message: 'the configuration must be an object (a YAML mapping or JSON object)' }] };
  }
  const candidate = Value.Default(ConfigSchema, structuredClone(input));
  const problems: ConfigProblem[] = Value.Errors(ConfigSchema, candidate)
    // "schema is false" repeats the additionalProperties error with less to say.
    .filter((e) => e.keyword !== 'boolean')
    .map((e) => ({ path: e.instancePath || '/', message: describe(e) }));
  if (problems.length === 0) problems.push(...semanticProblems(candidate as Config));
  return problems.length ? { ok: false, problems } : { ok: true, config: candidate as Config };
}

function describe(e: { keyword: string; message: string; params: Record<string, unknown> }): string {
  if (e.keyword === 'additionalProperties') return `unknown key(s): ${(e.params.additionalProperties as string[]).join(', ')}`;
  if (e.keyword === 'pattern') return 'has the wrong form';
  return e.message;
}

function semanticProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  config.domains.forEach((d, i) => {
    for (const [name, where] of [[d.name, `/domains/${i}/name`], ...d.aliases.map((a, j) => [a, `/domains/${i}/aliases/${j}`])]) {
      const key = name.toLowerCase();
      if (seen.has(key)) problems.push({ path: where, message: `${name} is already served (at ${seen.get(key)})` });
      else seen.set(key, where);
    }
    d.mailboxAliases.forEach((a, j) => {
      const domains = [d.name, ...d.aliases].map((x) => x.toLowerCase());
      if (!domains.includes(a.from.split('@')[1].toLowerCase())) {
        problems.push({ path: `/domains/${i}/mailboxAliases/${j}/from`, message: `${a.from} is not in ${d.name} or its aliases` });
      }
    });
  });
  config.relay.networks.forEach((n, i) => {
    if (!parseCidr(n)) problems.push({ path: `/relay/networks/${i}`, message: `"${n}" is not a network like 192.0.2.0/24 or 2001:db8::/32` });
  });
  if (config.listeners.inbound.port !== 0 && config.listeners.inbound.port === config.listeners.submission.port &&
      config.listeners.inbound.address === config.listeners.submission.address) {
    problems.push({ path: '/listeners/submission/port', message: 'inbound and submission listeners cannot share a port' });
  }
  if (Boolean(config.tls.certFile) !== Boolean(config.tls.keyFile)) {
    problems.push({ path: '/tls', message: 'give both certFile and keyFile, or neither (a self-signed certificate is then generated)' });
  }
  return problems;
}

export function parseCidr(text: string): { address: string; prefix: number; family: 4 | 6 } | null {
  const [address, prefixText] = text.split('/');
  const family = net.isIP(address);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { address, prefix, family: family as 4 | 6 };
}
