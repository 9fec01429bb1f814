// What the maintenance menu's status screen shows: the appliance's services, its addresses, the
// filesystems, and whether setup is still pending. Read from systemd and the kernel, never from
// the store (only the daemon opens the store).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import { APPLIANCE_SERVICES, serviceStates } from '../system/services.ts';

const run = promisify(execFile);

export const SERVICES = APPLIANCE_SERVICES;
export const SETUP_CODE_FILE = '/var/lib/mailmoat/setup-code';

export interface ConsoleStatus {
  hostname: string;
  services: { name: string; state: string }[];
  addresses: { iface: string; address: string }[];
  filesystems: { mount: string; percent: string; size: string }[];
  setupPending: boolean;
}

export async function readSetupCode(): Promise<string | undefined> {
  try {
    return (await readFile(SETUP_CODE_FILE, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function collectStatus(): Promise<ConsoleStatus> {
  const services = await serviceStates();
  const addresses = Object.entries(os.networkInterfaces()).flatMap(([iface, list]) =>
    (list ?? []).filter((a) => !a.internal).map((a) => ({ iface, address: a.cidr ?? a.address })));
  let filesystems: ConsoleStatus['filesystems'] = [];
  try {
    const { stdout } = await run('df', ['-h', '--output=target,pcent,size', '/', '/var/lib/mailmoat']);
    filesystems = stdout.trim().split('\n').slice(1).map((l) => {
      const [mount, percent, size] = l.trim().split(/\s+/);
      return { mount, percent, size };
    });
  } catch {
    // df fails only when a mount point is missing (not on the box): show none.
  }
  return { hostname: os.hostname(), services, addresses, filesystems, setupPending: (await readSetupCode()) !== undefined };
}

export function formatStatus(s: ConsoleStatus): string {
  const lines = [`Host: ${s.hostname}`, '', 'Services:'];
  for (const svc of s.services) lines.push(`  ${(svc.name + '.service').padEnd(28)} ${svc.state}`);
  lines.push('', 'Addresses:');
  if (s.addresses.length === 0) lines.push('  (none: check the network cable or DHCP)');
  for (const a of s.addresses) lines.push(`  ${a.iface.padEnd(10)} ${a.address}`);
  lines.push('', 'Disks:');
  for (const f of s.filesystems) lines.push(`  ${f.mount.padEnd(20)} ${f.percent.padStart(4)} of ${f.size}`);
  if (s.setupPending) lines.push('', 'Setup is pending: open https://<address>/ and enter the setup code (menu item 3).');
  return lines.join('\n');
}
