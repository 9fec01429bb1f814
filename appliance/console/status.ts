// What the maintenance menu's status screen shows: the appliance's services (from systemd), its
// addresses (from the kernel), and from the daemon's local API the queue, the mail counters, the
// disks and whether setup is still pending. Never read from the store (only the daemon opens it).
import os from 'node:os';
import { APPLIANCE_SERVICES, serviceStates } from '../system/services.ts';
import { callDaemon, type LocalStatus } from './api-client.ts';

export const SERVICES = APPLIANCE_SERVICES;

export interface ConsoleStatus {
  hostname: string;
  services: { name: string; state: string }[];
  addresses: { iface: string; address: string }[];
  /** The daemon's view, or why it could not be had. */
  daemon: LocalStatus | { error: string };
}

export async function collectStatus(socket?: string): Promise<ConsoleStatus> {
  const [services, daemon] = await Promise.all([
    serviceStates(),
    callDaemon<LocalStatus>('GET', '/status', undefined, socket).catch((err: Error) => ({ error: err.message })),
  ]);
  const addresses = Object.entries(os.networkInterfaces()).flatMap(([iface, list]) =>
    (list ?? []).filter((a) => !a.internal).map((a) => ({ iface, address: a.cidr ?? a.address })));
  return { hostname: os.hostname(), services, addresses, daemon };
}

export function formatStatus(s: ConsoleStatus): string {
  const lines = [`Host: ${s.hostname}`, '', 'Services:'];
  for (const svc of s.services) lines.push(`  ${(svc.name + '.service').padEnd(28)} ${svc.state}`);
  lines.push('', 'Addresses:');
  if (s.addresses.length === 0) lines.push('  (none: check the network cable or DHCP)');
  for (const a of s.addresses) lines.push(`  ${a.iface.padEnd(10)} ${a.address}`);
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
