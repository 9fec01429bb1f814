// The state of the appliance's systemd services, for SNMP, the console menu and the boot report.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const APPLIANCE_SERVICES = ['mailmoat', 'clamav-daemon', 'clamav-freshclam', 'snmpd', 'rsyslog', 'chrony', 'systemd-networkd', 'systemd-resolved'];

export async function serviceState(name: string): Promise<string> {
  try {
    const { stdout } = await run('systemctl', ['is-active', `${name}.service`]);
    return stdout.trim();
  } catch (err) {
    // `is-active` exits non-zero for inactive or failed units and still prints the state.
    return String((err as { stdout?: string }).stdout ?? '').trim() || 'unknown';
  }
}

export async function serviceStates(names = APPLIANCE_SERVICES): Promise<{ name: string; state: string }[]> {
  return Promise.all(names.map(async (name) => ({ name, state: await serviceState(name) })));
}
