// What the maintenance menu's status screen shows: the version and uptime, the appliance's
// services (from systemd), its addresses, gateway, DNS servers and time synchronisation (from the
// kernel, systemd-resolved and chrony), and from the daemon's local API the queue, the mail
// counters, the disks and whether setup is still pending. Never read from the store (only the
// daemon opens it).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import { APPLIANCE_SERVICES, serviceStates } from '../system/services.ts';
import { callDaemon, type LocalStatus } from './api-client.ts';

export const SERVICES = APPLIANCE_SERVICES;

const run = promisify(execFile);

export interface ConsoleStatus {
  hostname: string;
  version: string;
  uptimeSeconds: number;
  /** The default route ("via 10.0.2.2 dev enp0s2"), if any. */
  gateway: string | undefined;
  /** The DNS servers the system resolver forwards to. */
  dns: string[];
  /** Time synchronisation as chrony reports it, in words. */
  ntp: string;
  services: { name: string; state: string }[];
  addresses: { iface: string; address: string }[];
  /** The daemon's view, or why it could not be had. */
  daemon: LocalStatus | { error: string };
}

async function version(): Promise<string> {
  const pkg = await readFile(new URL('../../package.json', import.meta.url), 'utf8').catch(() => '{}');
  return (JSON.parse(pkg) as { version?: string }).version ?? 'unknown';
}

async function gateway(): Promise<string | undefined> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'default'], { timeout: 3000 }).catch(() => ({ stdout: '' }));
  return /^default (via \S+ dev \S+)/m.exec(stdout)?.[1];
}

/** systemd-resolved's upstream servers (its stub in /etc/resolv.conf would only say 127.0.0.53). */
async function dnsServers(): Promise<string[]> {
  const text = await readFile('/run/systemd/resolve/resolv.conf', 'utf8').catch(() => readFile('/etc/resolv.conf', 'utf8')).catch(() => '');
  return [...text.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]);
}

export function describeTracking(tracking: string): string {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(tracking)?.[1].trim();
  const leap = field('Leap status');
  const ref = /\(([^)]*)\)/.exec(field('Reference ID') ?? '')?.[1];
  if (!leap) return 'unknown (chrony did not answer)';
  if (leap === 'Not synchronised' || !ref) return 'not synchronised: check the NTP servers and that UDP 123 is open';
  return `synchronised to ${ref} (stratum ${field('Stratum') ?? '?'})`;
}

async function ntp(): Promise<string> {
  const { stdout } = await run('chronyc', ['-n', 'tracking'], { timeout: 3000 }).catch(() => ({ stdout: '' }));
  return describeTracking(stdout);
}

export async function collectStatus(socket?: string): Promise<ConsoleStatus> {
  const [services, daemon, v, gw, dns, time] = await Promise.all([
    serviceStates(),
    callDaemon<LocalStatus>('GET', '/status', undefined, socket).catch((err: Error) => ({ error: err.message })),
    version(), gateway(), dnsServers(), ntp(),
  ]);
  const addresses = Object.entries(os.networkInterfaces()).flatMap(([iface, list]) =>
    (list ?? []).filter((a) => !a.internal).map((a) => ({ iface, address: a.cidr ?? a.address })));
  return { hostname: os.hostname(), version: v, uptimeSeconds: Math.round(os.uptime()), gateway: gw, dns, ntp: time, services, addresses, daemon };
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
}

export function formatStatus(s: ConsoleStatus): string {
  const lines = [`Host: ${s.hostname}    Mailmoat ${s.version}    up ${duration(s.uptimeSeconds)}`, '', 'Services:'];
  for (const svc of s.services) lines.push(`  ${(svc.name + '.service').padEnd(28)} ${svc.state}`);
  lines.push('', 'Addresses (interface names follow the network card\'s kind and slot: another card or NIC model renames them):');
  if (s.addresses.length === 0) lines.push('  (none: check the network cable or DHCP)');
  for (const a of s.addresses) lines.push(`  ${a.iface.padEnd(10)} ${a.address}`);
  lines.push(`  gateway    ${s.gateway ?? 'none: set one (item 11)'}`);
  lines.push(`  DNS        ${s.dns.length ? s.dns.join(', ') : 'none: set servers (item 11)'}`);
  lines.push(`Time: ${s.ntp}`);
  const d = s.daemon;
  if ('error' in d) {
    lines.push('', `Mail status unavailable: ${d.error}`);
    return lines.join('\n');
  }
  lines.push('', `Queue: ${d.queue.messages} message(s), ${d.queue.deferred} deferred, oldest ${d.queue.oldestAgeSeconds} s`);
  lines.push(`Mail counted: ${['received', 'outbound', 'delivered', 'spam', 'virus', 'quarantined', 'rejected']
    .filter((k) => k in d.totals).map((k) => `${k} ${d.totals[k]}`).join(', ')}`);
  lines.push('', 'Disks:');
  for (const f of d.disks) lines.push(`  ${f.mount.padEnd(20)} ${String(f.percent).padStart(5)} %  ${f.level}`);
  if (d.quarantine) lines.push(`  quarantine           ${String(d.quarantine.percent).padStart(5)} %  ${d.quarantine.level}`);
  const where = d.consoleUrls.length ? d.consoleUrls.join(' or ') : 'the web console (it is not running: see the log, item 5)';
  if (d.setup.pending) lines.push('', `Setup is pending: open ${where} and enter the setup code (menu item 3).`);
  else if (d.consoleUrls.length) lines.push('', `Web console: ${where}`);
  return lines.join('\n');
}
