// NIC/IP bindings: per-interface systemd-networkd files (DHCP, or a static address/prefix with
// gateway and DNS servers), written as 10-mailmoat-<interface>.network so they take precedence
// over the image's catch-all DHCP file (80-mailmoat-default.network). A change is applied at once
// and then must be confirmed: unless confirm() is called within the given seconds, the previous
// files are put back and applied again, so an admin who cut themselves off gets the box back.
import { isIP } from 'node:net';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

export type InterfaceSettings =
  | { name: string; mode: 'dhcp' }
  | { name: string; mode: 'static'; address: string; prefix: number; gateway?: string; dns: string[] };

const PREFIX = '10-mailmoat-';
const SUFFIX = '.network';

export function fileName(iface: string): string {
  return `${PREFIX}${iface}${SUFFIX}`;
}

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Every problem with one interface's settings, as sentences; empty when they can be written. */
export function validateInterface(s: InterfaceSettings): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(s.name)) problems.push(`"${s.name}" is not an interface name (1-15 letters, digits, "_", "." or "-")`);
  if (s.mode === 'dhcp') return problems;
  const family = isIP(s.address);
  if (!family) {
    problems.push(`"${s.address}" is not an IPv4 or IPv6 address`);
    return problems;
  }
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(s.prefix) || s.prefix < 1 || s.prefix > max) problems.push(`the prefix length must be 1-${max} for an IPv${family} address, not ${s.prefix}`);
  if (s.gateway !== undefined) {
    if (isIP(s.gateway) !== family) problems.push(`the gateway "${s.gateway}" is not an IPv${family} address like the interface's`);
    else if (family === 4 && s.prefix >= 1 && s.prefix <= 32) {
      const mask = s.prefix === 32 ? 0xffffffff : (0xffffffff << (32 - s.prefix)) >>> 0;
      if (((ipv4ToInt(s.gateway) & mask) >>> 0) !== ((ipv4ToInt(s.address) & mask) >>> 0)) {
        problems.push(`the gateway ${s.gateway} is not inside ${s.address}/${s.prefix}: the box could not reach it`);
      }
      if (s.gateway === s.address) problems.push('the gateway cannot be the interface\'s own address');
    }
  }
  if (family === 4 && s.prefix >= 1 && s.prefix < 31) {
    const host = ipv4ToInt(s.address) & ((1 << (32 - s.prefix)) - 1 >>> 0);
    if (host === 0) problems.push(`${s.address}/${s.prefix} is the network's own address, not a host address`);
    if (host === (2 ** (32 - s.prefix)) - 1) problems.push(`${s.address}/${s.prefix} is the network's broadcast address, not a host address`);
  }
  for (const d of s.dns) if (!isIP(d)) problems.push(`the DNS server "${d}" is not an IP address`);
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

/** Runs networkd's reload and reconfigures the interfaces touched (networkd must be running). */
export async function networkctlApply(interfaces: string[]): Promise<void> {
  const run = promisify(execFile);
  await run('networkctl', ['reload']);
  if (interfaces.length) await run('networkctl', ['reconfigure', ...interfaces]);
}

export interface NetworkChangeOptions {
  /** networkd's configuration directory (/etc/systemd/network on the box). */
  dir: string;
  settings: InterfaceSettings[];
  /** Seconds until the change is rolled back unless confirmed. */
  confirmSeconds: number;
  /** Makes networkd take the files in `dir` (default: networkctlApply). */
  apply?: (interfaces: string[]) => Promise<void>;
}

export interface NetworkChange {
  /** When the rollback happens unless confirmed. */
  revertAt: Date;
  /** Keeps the new settings. */
  confirm(): void;
  /** Settles with how the change ended; rejects when the rollback itself failed. */
  outcome: Promise<'confirmed' | 'reverted'>;
}

async function managedFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const f of await readdir(dir)) {
    if (f.startsWith(PREFIX) && f.endsWith(SUFFIX)) files.set(f, await readFile(path.join(dir, f), 'utf8'));
  }
  return files;
}

/** Makes the files named in `names` match `files` (absent from `files`: removed). */
async function writeManaged(dir: string, names: string[], files: Map<string, string>): Promise<void> {
  for (const f of names) if (!files.has(f)) await rm(path.join(dir, f), { force: true });
  for (const [f, content] of files) {
    const tmp = path.join(dir, `.${f}.tmp`);
    await writeFile(tmp, content, { mode: 0o644 });
    await rename(tmp, path.join(dir, f));
  }
}

/**
 * Writes and applies the settings of the interfaces given (others keep their files), then
 * rolls back unless confirmed in time. Invalid settings are refused whole before anything is
 * written; if applying fails, the previous files are restored at once and the error is thrown.
 */
export async function changeNetwork(o: NetworkChangeOptions): Promise<NetworkChange> {
  const problems = o.settings.flatMap((s) => validateInterface(s).map((p) => `${s.name}: ${p}`));
  const names = o.settings.map((s) => s.name);
  if (new Set(names).size !== names.length) problems.push('an interface is listed twice');
  if (problems.length) throw new Error(`the network settings were not changed:\n  ${problems.join('\n  ')}`);
  const apply = o.apply ?? networkctlApply;
  const files = names.map(fileName);
  const previous = new Map([...await managedFiles(o.dir)].filter(([f]) => files.includes(f)));
  const next = new Map(o.settings.map((s) => [fileName(s.name), renderNetwork(s)]));
  const restore = async () => {
    await writeManaged(o.dir, files, previous);
    await apply(names);
  };
  await writeManaged(o.dir, files, next);
  try {
    await apply(names);
  } catch (err) {
    await restore().catch(() => {});
    throw new Error(`applying the network settings failed, the previous ones are back: ${(err as Error).message}`);
  }
  let settle!: (v: 'confirmed' | 'reverted') => void;
  let fail!: (err: Error) => void;
  const outcome = new Promise<'confirmed' | 'reverted'>((resolve, reject) => { settle = resolve; fail = reject; });
  const timer = setTimeout(() => {
    restore().then(() => settle('reverted'), (err: Error) => fail(new Error(`rolling the network settings back failed: ${err.message}`)));
  }, o.confirmSeconds * 1000);
  return {
    revertAt: new Date(Date.now() + o.confirmSeconds * 1000),
    confirm() {
      clearTimeout(timer);
      settle('confirmed');
    },
    outcome,
  };
}
