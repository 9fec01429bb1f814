// Settings of the box's system daemons that follow the appliance configuration: snmpd's access
// (communities, v3 users, trap sinks), rsyslog's remote forwarding (RFC 5424 over UDP/TCP), and
// the OS's host name, time zone and NTP servers (os.conf), and freshclam's mirror, proxy and
// checks (freshclam.conf, see freshclam.ts). The unprivileged daemon writes them to
// <data>/system; a systemd path unit has root apply them (mailmoat-apply-system, which checks
// every value of os.conf itself: it never trusts this file), so files are only rewritten when
// their content differs. `mailmoat system-files` writes the same files from a configuration file
// at first boot, before snmpd, rsyslog and chrony start.
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config, SnmpSettings, SyslogSettings, TimeSettings } from '../config/schema.ts';
import { renderFreshclamSettings } from './freshclam.ts';

const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

export function renderSnmpd(s: SnmpSettings): string {
  const lines = ['# Written by the Mailmoat daemon from system.snmp in its configuration; do not edit.'];
  for (const c of s.communities) lines.push(`rocommunity ${c.name} ${c.source}`, `rocommunity6 ${c.name} ${c.source === 'default' ? 'default' : c.source}`);
  for (const u of s.users) lines.push(`createUser ${u.name} SHA ${quote(u.authPassword)} AES ${quote(u.privPassword)}`, `rouser ${u.name} priv`);
  for (const t of s.trapSinks) lines.push(`trap2sink ${t.host}:${t.port} ${t.community}`);
  return lines.join('\n') + '\n';
}

export function renderRsyslogRemote(s: SyslogSettings): string {
  const lines = ['# Written by the Mailmoat daemon from system.syslog in its configuration; do not edit.'];
  for (const r of s.remote) {
    lines.push(`action(type="omfwd" target=${quote(r.host)} port="${r.port}" protocol="${r.protocol}" ` +
      `template="RSYSLOG_SyslogProtocol23Format" action.resumeRetryCount="-1" queue.type="LinkedList" queue.size="10000")`);
  }
  return lines.join('\n') + '\n';
}

/** KEY=value lines, one per setting; NTP servers space-separated (empty = the distribution's pool). */
export function renderOsSettings(o: { hostname: string; time: TimeSettings }): string {
  return ['# Written by the Mailmoat daemon from hostname and time in its configuration; do not edit.',
    `HOSTNAME=${o.hostname}`, `TIMEZONE=${o.time.timezone}`, `NTP_SERVERS=${o.time.ntpServers.join(' ')}`].join('\n') + '\n';
}

/** Writes `content` to `file` atomically, only if it differs; returns whether it wrote. */
export async function writeIfChanged(file: string, content: string): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  await writeFile(tmp, content, { mode: 0o640 });
  await rename(tmp, file);
  return true;
}

export async function writeSystemConfigFiles(dir: string, config: Pick<Config, 'hostname' | 'time' | 'system'>): Promise<string[]> {
  const files: [string, string][] = [
    ['snmpd.conf', renderSnmpd(config.system.snmp)],
    ['rsyslog-remote.conf', renderRsyslogRemote(config.system.syslog)],
    ['os.conf', renderOsSettings(config)],
    ['freshclam.conf', renderFreshclamSettings(config.system.freshclam)],
  ];
  const written: string[] = [];
  for (const [name, content] of files) if (await writeIfChanged(path.join(dir, name), content)) written.push(name);
  return written;
}
