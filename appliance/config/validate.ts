// Validation of a configuration document: the schema first (with defaults filled in), then the
// rules a schema cannot express (duplicates, networks that parse, time zones that exist). Every
// problem is reported with its path so the admin can fix the file in one pass.
import net from 'node:net';
import { Settings } from 'typebox/system';
import Value from 'typebox/value';
import { problem, schemaProblems, type ConfigProblem } from './problems.ts';
import { ConfigSchema, type Config } from './schema.ts';
import { isKnownTimeZone } from './timezones.ts';

export type { ConfigProblem } from './problems.ts';
export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

// TypeBox stops collecting errors after 8 (a guard for untrusted input); a configuration comes from
// an admin, and a wrong value of a union (a class name) alone reports one error per choice, so the
// default would hide the problems after the first field.
Settings.Set({ maxErrors: 200 });

export function validateConfig(input: unknown): ConfigResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, problems: [problem('/', 'problem.not-an-object')] };
  }
  const candidate = Value.Default(ConfigSchema, structuredClone(input));
  const problems = schemaProblems(Value.Errors(ConfigSchema, candidate));
  // Zone names are checked even when the schema found other problems, so one pass shows them all.
  problems.push(...zoneProblems(candidate));
  if (problems.length === 0) problems.push(...semanticProblems(candidate as Config));
  return problems.length ? { ok: false, problems } : { ok: true, config: candidate as Config };
}

/** Every time zone the configuration holds must be a known IANA zone name. */
function zoneProblems(candidate: unknown): ConfigProblem[] {
  const c = candidate as { time?: { timezone?: unknown }; domains?: unknown };
  const fields: [string, unknown][] = [['/time/timezone', c.time?.timezone]];
  if (Array.isArray(c.domains)) c.domains.forEach((d: { timezone?: unknown } | null, i) => fields.push([`/domains/${i}/timezone`, d?.timezone]));
  return fields
    .filter(([, zone]) => typeof zone === 'string' && zone !== '' && !isKnownTimeZone(zone))
    .map(([path, zone]) => problem(path, 'problem.unknown-time-zone', { zone: String(zone) }));
}

function semanticProblems(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  config.domains.forEach((d, i) => {
    for (const [name, where] of [[d.name, `/domains/${i}/name`], ...d.aliases.map((a, j) => [a, `/domains/${i}/aliases/${j}`])]) {
      const key = name.toLowerCase();
      if (seen.has(key)) problems.push(problem(where, 'problem.already-served', { name, where: seen.get(key)! }));
      else seen.set(key, where);
    }
    d.mailboxAliases.forEach((a, j) => {
      const domains = [d.name, ...d.aliases].map((x) => x.toLowerCase());
      if (!domains.includes(a.from.split('@')[1].toLowerCase())) {
        problems.push(problem(`/domains/${i}/mailboxAliases/${j}/from`, 'problem.alias-outside-domain', { address: a.from, domain: d.name }));
      }
    });
  });
  config.relay.networks.forEach((n, i) => {
    if (!parseCidr(n)) problems.push(problem(`/relay/networks/${i}`, 'problem.bad-network', { value: n }));
  });
  config.limits.trustedNetworks.forEach((n, i) => {
    if (!parseCidr(n)) problems.push(problem(`/limits/trustedNetworks/${i}`, 'problem.bad-network', { value: n }));
  });
  if (config.listeners.inbound.port !== 0 && config.listeners.inbound.port === config.listeners.submission.port &&
      config.listeners.inbound.address === config.listeners.submission.address) {
    problems.push(problem('/listeners/submission/port', 'problem.shared-port'));
  }
  // Per-domain and per-mailbox policies must name a served domain (its name, not an alias).
  const names = new Set(config.domains.map((d) => d.name.toLowerCase()));
  for (const name of Object.keys(config.policy.domains)) {
    if (!names.has(name.toLowerCase())) problems.push(problem(`/policy/domains/${name}`, 'problem.policy-not-served', { name }));
  }
  for (const address of Object.keys(config.policy.mailboxes)) {
    const at = address.lastIndexOf('@');
    if (at < 1 || !names.has(address.slice(at + 1).toLowerCase())) problems.push(problem(`/policy/mailboxes/${address}`, 'problem.policy-not-served', { name: address }));
  }
  // The schema lets through anything shaped like an IPv6 address; it must also parse as one.
  config.time.ntpServers.forEach((server, i) => {
    if (server.includes(':') && net.isIPv6(server) === false) problems.push(problem(`/time/ntpServers/${i}`, 'problem.not-a-host'));
  });
  if (Boolean(config.tls.certFile) !== Boolean(config.tls.keyFile)) {
    problems.push(problem('/tls', 'problem.cert-without-key'));
  }
  if (config.system.freshclam.source === 'private' && !config.system.freshclam.mirrorUrl) {
    problems.push(problem('/system/freshclam/mirrorUrl', 'problem.mirror-missing'));
  }
  const rb = config.system.remoteBackup;
  if (rb.enabled) {
    const missing = [!rb.host && 'host', !rb.username && 'username', !rb.password && !rb.privateKey && 'password or privateKey',
      [...rb.passphrase].length < 8 && 'passphrase (8 characters or more)'].filter((x): x is string => Boolean(x));
    if (missing.length) problems.push(problem('/system/remoteBackup', 'problem.remote-backup-incomplete', { missing: missing.join(', ') }));
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
