// NIC/IP bindings: per-interface systemd-networkd files (DHCP, or a static address/prefix with
// gateway and DNS servers), kept as /etc/systemd/network/10-mailmoat-<interface>.network so they
// take precedence over the image's catch-all DHCP file (80-mailmoat-default.network).
// A change must survive anything that interrupts it, so it is tried before it is kept:
//   - the candidate is written to networkd's runtime directory (/run/systemd/network, a tmpfs) as
//     05-mailmoat-<interface>.network: networkd takes the first file by name that matches an
//     interface, whatever its directory, so the candidate wins over the persistent file;
//   - confirm() writes the persistent file and removes the candidate; revert() (at the deadline, or
//     at once when the dialogue is interrupted) removes the candidate and reconfigures;
//   - a reset or power loss before confirm() empties /run: the box boots with the persistent
//     files, which the change never touched.
//
// The box's own DNS resolvers (beside each interface's) are a systemd-resolved drop-in, tried the
// same way. The root filesystem is read-only, so the kept drop-in lives on the data partition
// (/var/lib/mailmoat/os/resolved/50-mailmoat.conf, root's) and is installed as
// /run/systemd/resolved.conf.d/50-mailmoat.conf — by the sync when it changes, and by
// mailmoat-apply-system at every boot; the candidate is /run/systemd/resolved.conf.d/
// 60-mailmoat-candidate.conf, which resolved reads after it (drop-ins sort by name) and which
// first empties the list. A reset during a trial leaves only the kept one installed.
import { isIP } from 'node:net';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export type InterfaceSettings =
  | { name: string; mode: 'dhcp' }
  | { name: string; mode: 'static'; address: string; prefix: number; gateway?: string; dns: string[] };

const PREFIX = '10-mailmoat-';
const CANDIDATE_PREFIX = '05-mailmoat-';
const SUFFIX = '.network';

/** The persistent file of an interface. */
export function fileName(iface: string): string {
  return `${PREFIX}${iface}${SUFFIX}`;
}

/** The runtime file of an interface's candidate settings, sorting before every persistent one. */
export function candidateFileName(iface: string): string {
  return `${CANDIDATE_PREFIX}${iface}${SUFFIX}`;
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export type InterfaceField = 'name' | 'address' | 'prefix' | 'gateway' | 'dns';

/** Every problem with one interface's settings, as sentences; empty when they can be written. */
export function validateInterface(s: InterfaceSettings): string[] {
  return interfaceProblems(s).map((p) => p.message);
}

/** The same problems, each with the field it is about (for a form). */
export function interfaceProblems(s: InterfaceSettings): { field: InterfaceField; message: string }[] {
  const problems: { field: InterfaceField; message: string }[] = [];
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(s.name)) problems.push({ field: 'name', message: `"${s.name}" is not an interface name (1-15 letters, digits, "_", "." or "-")` });
  if (s.mode === 'dhcp') return problems;
  const family = isIP(s.address);
  if (!family) {
    problems.push({ field: 'address', message: `"${s.address}" is not an IPv4 or IPv6 address` });
    return problems;
  }
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(s.prefix) || s.prefix < 1 || s.prefix > max) problems.push({ field: 'prefix', message: `the prefix length must be 1-${max} for an IPv${family} address, not ${s.prefix}` });
  if (s.gateway !== undefined) {
    if (isIP(s.gateway) !== family) problems.push({ field: 'gateway', message: `the gateway "${s.gateway}" is not an IPv${family} address like the interface's` });
    else if (family === 4 && s.prefix >= 1 && s.prefix <= 32) {
      const mask = s.prefix === 32 ? 0xffffffff : (0xffffffff << (32 - s.prefix)) >>> 0;
      if (((ipv4ToInt(s.gateway) & mask) >>> 0) !== ((ipv4ToInt(s.address) & mask) >>> 0)) {
        problems.push({ field: 'gateway', message: `the gateway ${s.gateway} is not inside ${s.address}/${s.prefix}: the box could not reach it` });
      }
      if (s.gateway === s.address) problems.push({ field: 'gateway', message: 'the gateway cannot be the interface\'s own address' });
    }
  }
  if (family === 4 && s.prefix >= 1 && s.prefix < 31) {
    const host = ipv4ToInt(s.address) & ((1 << (32 - s.prefix)) - 1 >>> 0);
    if (host === 0) problems.push({ field: 'address', message: `${s.address}/${s.prefix} is the network's own address, not a host address` });
    if (host === (2 ** (32 - s.prefix)) - 1) problems.push({ field: 'address', message: `${s.address}/${s.prefix} is the network's broadcast address, not a host address` });
  }
  for (const d of s.dns) if (!isIP(d)) problems.push({ field: 'dns', message: `the DNS server "${d}" is not an IP address` });
  return problems;
}

/** The networkd file for one interface. */
export function renderNetwork(s: InterfaceSettings): string {
  const lines = ['# Written by Mailmoat (console menu "set network"); changes here are replaced.', '[Match]', `Name=${s.name}`, '', '[Network]'];
  if (s.mode === 'dhcp') lines.push('DHCP=yes');
  else {
    lines.push(`Address=${s.address}/${s.prefix}`);
    if (s.gateway) lines.push(`Gateway=${s.gateway}`);
    for (const d of s.dns) lines.push(`DNS=${d}`);
  }
  return lines.join('\n') + '\n';
}

/** Where the kept drop-in is stored (root's, on the data partition), and resolved's runtime drop-in directory. */
export const RESOLVED_DIRS = { dir: '/var/lib/mailmoat/os/resolved', runtimeDir: '/run/systemd/resolved.conf.d' };
export const RESOLVED_FILE = '50-mailmoat.conf';
export const RESOLVED_CANDIDATE = '60-mailmoat-candidate.conf';
/** Most box-wide resolvers (resolved tries them in order; a few are plenty). */
export const MAX_RESOLVERS = 8;

/** Every problem with the box's resolvers, each with its position in the list. */
export function resolverProblems(resolvers: string[]): { index: number; kind: 'not-ip' | 'twice' | 'too-many'; message: string }[] {
  const problems: ReturnType<typeof resolverProblems> = [];
  resolvers.forEach((r, index) => {
    if (!isIP(r)) problems.push({ index, kind: 'not-ip', message: `the DNS server "${r}" is not an IP address` });
    else if (resolvers.indexOf(r) !== index) problems.push({ index, kind: 'twice', message: `the DNS server ${r} is listed twice` });
  });
  if (resolvers.length > MAX_RESOLVERS) problems.push({ index: MAX_RESOLVERS, kind: 'too-many', message: `at most ${MAX_RESOLVERS} DNS servers` });
  return problems;
}

/** resolved's drop-in for the box's resolvers: the list emptied first, so that a candidate replaces the kept one. */
export function renderResolved(resolvers: string[]): string {
  return ['# Written by Mailmoat (System page, DNS resolvers); changes here are replaced.', '[Resolve]', 'DNS=', ...resolvers.map((r) => `DNS=${r}`)].join('\n') + '\n';
}

/** The resolvers a drop-in written by renderResolved names (none when it is absent or says none). */
export function parseResolved(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^DNS=(.*)$/.exec(line.trim());
    if (!m) continue;
    if (!m[1].trim()) out.length = 0;
    else out.push(...m[1].trim().split(/\s+/).filter((r) => isIP(r)));
  }
  return out;
}

/** Makes resolved read its drop-ins again (it reads them at start). */
export async function resolvedApply(): Promise<void> {
  await promisify(execFile)('systemctl', ['try-restart', 'systemd-resolved']);
}

/** Runs networkd's reload and reconfigures the interfaces touched (networkd must be running). */
export async function networkctlApply(interfaces: string[]): Promise<void> {
  const run = promisify(execFile);
  await run('networkctl', ['reload']);
  if (interfaces.length) await run('networkctl', ['reconfigure', ...interfaces]);
}

export interface NetworkChangeOptions {
  /** networkd's persistent configuration directory (/etc/systemd/network on the box). */
  dir: string;
  /** networkd's runtime directory, emptied at boot (/run/systemd/network on the box). */
  runtimeDir: string;
  settings: InterfaceSettings[];
  /** Seconds until the change is rolled back unless confirmed. */
  confirmSeconds: number;
  /** Makes networkd read its files again and reconfigure these interfaces (none: only read; default: networkctlApply). */
  apply?: (interfaces: string[]) => Promise<void>;
}

export interface NetworkChange {
  /** When the rollback happens unless confirmed. */
  revertAt: Date;
  /** Keeps the new settings: writes the persistent files. If that fails, the change is reverted and the error thrown. */
  confirm(): Promise<void>;
  /** Rolls back now (the dialogue was interrupted); nothing when already settled. */
  revert(): Promise<void>;
  /** Settles with how the change ended; rejects when the rollback itself failed. */
  outcome: Promise<'confirmed' | 'reverted'>;
}

/** Writes one file atomically (a reader never sees half of it). */
export async function writeAtomic(dir: string, name: string, content: string): Promise<void> {
  const tmp = path.join(dir, `.${name}.tmp`);
  await writeFile(tmp, content, { mode: 0o644 });
  await rename(tmp, path.join(dir, name));
}

/**
 * Applies the settings of the interfaces given as runtime candidates (other interfaces and every
 * persistent file stay as they are), then rolls back unless confirmed in time. Invalid settings
 * are refused whole before anything is written; if applying fails, the candidates are removed at
 * once and the error is thrown.
 */
export async function changeNetwork(o: NetworkChangeOptions): Promise<NetworkChange> {
  const problems = o.settings.flatMap((s) => validateInterface(s).map((p) => `${s.name}: ${p}`));
  const names = o.settings.map((s) => s.name);
  if (new Set(names).size !== names.length) problems.push('an interface is listed twice');
  if (problems.length) throw new Error(`the network settings were not changed:\n  ${problems.join('\n  ')}`);
  const apply = o.apply ?? networkctlApply;
  const removeCandidates = async () => {
    for (const name of names) await rm(path.join(o.runtimeDir, candidateFileName(name)), { force: true });
  };
  const restore = async () => {
    await removeCandidates();
    await apply(names);
  };
  await mkdir(o.runtimeDir, { recursive: true, mode: 0o755 });
  for (const s of o.settings) await writeAtomic(o.runtimeDir, candidateFileName(s.name), renderNetwork(s));
  try {
    await apply(names);
  } catch (err) {
    await restore().catch(() => {});
    throw new Error(`applying the network settings failed, the previous ones are back: ${(err as Error).message}`);
  }
  let settled = false;
  let settle!: (v: 'confirmed' | 'reverted') => void;
  let fail!: (err: Error) => void;
  const outcome = new Promise<'confirmed' | 'reverted'>((resolve, reject) => { settle = resolve; fail = reject; });
  const revert = async () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    await restore().then(() => settle('reverted'), (err: Error) => fail(new Error(`rolling the network settings back failed: ${err.message}`)));
  };
  const timer = setTimeout(() => void revert(), o.confirmSeconds * 1000);
  return {
    revertAt: new Date(Date.now() + o.confirmSeconds * 1000),
    async confirm() {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // What the persistent files said before, to put back if writing them fails half-way.
      const previous = await Promise.all(names.map((n) => readFile(path.join(o.dir, fileName(n)), 'utf8').catch(() => undefined)));
      try {
        for (const s of o.settings) await writeAtomic(o.dir, fileName(s.name), renderNetwork(s));
        await removeCandidates();
        // The persistent files now say what runs: networkd only needs to forget the candidates.
        await apply([]);
      } catch (err) {
        const error = new Error(`keeping the network settings failed (${(err as Error).message}); the previous ones are back`);
        for (const [i, n] of names.entries()) {
          const before = previous[i];
          await (before === undefined ? rm(path.join(o.dir, fileName(n)), { force: true }) : writeAtomic(o.dir, fileName(n), before)).catch(() => {});
        }
        await restore().then(() => settle('reverted'), (e: Error) => fail(new Error(`rolling the network settings back failed: ${e.message}`)));
        throw error;
      }
      settle('confirmed');
    },
    revert,
    outcome,
  };
}
