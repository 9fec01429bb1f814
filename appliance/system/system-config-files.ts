// Settings of the box's system daemons that follow the appliance configuration: snmpd's access
// (communities, v3 users, trap sinks) and rsyslog's remote forwarding (RFC 5424 over UDP/TCP).
// The unprivileged daemon writes them to <data>/system; a systemd path unit restarts snmpd or
// rsyslog when a file changes, so files are only rewritten when their content differs.
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SnmpSettings, SyslogSettings } from '../config/schema.ts';

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

/** Writes `content` to `file` atomically, only if it differs; returns whether it wrote. */
export async function writeIfChanged(file: string, content: string): Promise<boolean> {
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === content) return false;
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  await writeFile(tmp, content, { mode: 0o640 });
  await rename(tmp, file);
  return true;
}

export async function writeSystemConfigFiles(dir: string, settings: { snmp: SnmpSettings; syslog: SyslogSettings }): Promise<string[]> {
  const written: string[] = [];
  if (await writeIfChanged(path.join(dir, 'snmpd.conf'), renderSnmpd(settings.snmp))) written.push('snmpd.conf');
  if (await writeIfChanged(path.join(dir, 'rsyslog-remote.conf'), renderRsyslogRemote(settings.syslog))) written.push('rsyslog-remote.conf');
  return written;
}
