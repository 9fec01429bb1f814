// What the maintenance menu's status screen shows: the version and uptime, the appliance's
// services (from systemd), its addresses, gateway, DNS servers and time synchronisation (from the
// kernel, systemd-resolved and chrony), and from the daemon's local API the queue, the mail
// counters, the disks, the virus signatures' version and age with freshclam's last checks (times
// in the appliance's zone) and whether setup is still pending. Never read from the store (only
// the daemon opens it).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import { APPLIANCE_SERVICES, serviceStates } from '../system/services.ts';
import { translate, type Language, type MessageKey } from '../i18n/catalog.ts';
import { callDaemon, DaemonError, type LocalStatus } from './api-client.ts';
import { errorText, type LocalText } from '../i18n/server-messages.ts';
import { isoDate, isZone, localTime } from '../stats/calendar.ts';
import { menuLanguage } from './language.ts';

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
  /** The daemon's status, or why it could not be had (in English, and as the catalog's text). */
  daemon: LocalStatus | { error: string; text?: LocalText };
  /** The language the screen is shown in (appliance/console/language.ts); English when absent. */
  language?: Language;
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

export function describeTracking(tracking: string, lang: Language = 'en'): string {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(tracking)?.[1].trim();
  const leap = field('Leap status');
  const ref = /\(([^)]*)\)/.exec(field('Reference ID') ?? '')?.[1];
  if (!leap) return translate(lang, 'menu.status.ntpUnknown');
  if (leap === 'Not synchronised' || !ref) return translate(lang, 'menu.status.ntpUnsynced');
  return translate(lang, 'menu.status.ntpSynced', { server: ref, stratum: field('Stratum') ?? '?' });
}

async function chronyTracking(): Promise<string> {
  const { stdout } = await run('chronyc', ['-n', 'tracking'], { timeout: 3000 }).catch(() => ({ stdout: '' }));
  return stdout;
}

/** The status, in the menu's language for the terminal whose environment is `env`. */
export async function collectStatus(socket?: string, env: NodeJS.ProcessEnv = process.env): Promise<ConsoleStatus> {
  const [services, daemon, v, gw, dns, tracking] = await Promise.all([
    serviceStates(),
    callDaemon<LocalStatus>('GET', '/status', undefined, socket).catch((err: Error) => ({ error: err.message, ...(err instanceof DaemonError ? { text: err.text } : {}) })),
    version(), gateway(), dnsServers(), chronyTracking(),
  ]);
  const addresses = Object.entries(os.networkInterfaces()).flatMap(([iface, list]) =>
    (list ?? []).filter((a) => !a.internal).map((a) => ({ iface, address: a.cidr ?? a.address })));
  const language = menuLanguage('error' in daemon ? undefined : daemon.language, env);
  return { hostname: os.hostname(), version: v, uptimeSeconds: Math.round(os.uptime()), gateway: gw, dns, ntp: describeTracking(tracking, language),
    services, addresses, daemon, language };
}

function duration(lang: Language, seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d ? translate(lang, 'menu.status.days', { d, h }) : h ? translate(lang, 'menu.status.hours', { h, m }) : translate(lang, 'menu.status.minutes', { m });
}

const COUNTERS = ['received', 'outbound', 'delivered', 'tagged', 'spam', 'virus', 'quarantined', 'rejected'] as const;

/** An instant as the menu shows it: 2026-11-30 18:05 JST-style, in the appliance's zone. */
function when(iso: string, zone: string): string {
  const z = isZone(zone) ? zone : 'UTC';
  const l = localTime(Date.parse(iso), z);
  return `${isoDate(l)} ${String(l.hour).padStart(2, '0')}:${String(l.minute).padStart(2, '0')} (${z})`;
}

/** The signature lines: version and age (or none), stale, and freshclam's last check and failure. */
function antivirusLines(av: NonNullable<LocalStatus['antivirus']>, zone: string, tr: (key: MessageKey, params?: Record<string, string | number>) => string): string[] {
  const lines = [av.version !== undefined && av.newestAt
    ? tr('menu.status.signatures', { version: av.version, at: when(av.newestAt, zone), days: ((av.ageSeconds ?? 0) / 86400).toFixed(1) })
    : tr('menu.status.signaturesNone')];
  if (av.stale && av.newestAt) lines.push(tr('menu.status.signaturesStale'));
  const f = av.freshclam;
  const run = f.lastRun;
  if (!run) lines.push(tr('menu.status.freshclamNever'));
  else if (run.ok) {
    lines.push(tr('menu.status.freshclamOk', { at: when(run.startedAt, zone) }));
    if (f.lastFailureAt) lines.push(tr('menu.status.freshclamLastFailure', { at: when(f.lastFailureAt, zone) }));
  } else {
    lines.push(tr('menu.status.freshclamFailing', { since: when(f.failingSince ?? run.startedAt, zone), count: f.failuresInARow, error: run.error ?? '' }));
  }
  return lines;
}

export function formatStatus(s: ConsoleStatus): string {
  const lang = s.language ?? 'en';
  const tr = (key: MessageKey, params?: Record<string, string | number>) => translate(lang, key, params);
  const lines = [tr('menu.status.host', { host: s.hostname, version: s.version, uptime: duration(lang, s.uptimeSeconds) }), '', tr('menu.status.services')];
  for (const svc of s.services) lines.push(`  ${(svc.name + '.service').padEnd(28)} ${svc.state}`);
  lines.push('', tr('menu.status.addresses'));
  if (s.addresses.length === 0) lines.push(`  ${tr('menu.status.noAddresses')}`);
  for (const a of s.addresses) lines.push(`  ${a.iface.padEnd(10)} ${a.address}`);
  lines.push(`  ${tr('menu.status.gateway').padEnd(10)} ${s.gateway ?? tr('menu.status.noGateway')}`);
  lines.push(`  ${tr('menu.status.dns').padEnd(10)} ${s.dns.length ? s.dns.join(', ') : tr('menu.status.noDns')}`);
  lines.push(tr('menu.status.time', { ntp: s.ntp }));
  const d = s.daemon;
  if ('error' in d) {
    lines.push('', tr('menu.status.unavailable', { reason: d.text ? errorText(lang, d.text) : d.error }));
    return lines.join('\n');
  }
  lines.push('', tr('menu.status.queue', { messages: d.queue.messages, deferred: d.queue.deferred, oldest: d.queue.oldestAgeSeconds }));
  lines.push(tr('menu.status.counted', { counts: COUNTERS.filter((k) => k in d.totals).map((k) => tr(`menu.status.counter.${k}`, { n: d.totals[k] })).join(', ') }));
  const level = (l: string) => (l === 'ok' || l === 'warning' || l === 'full' ? tr(`menu.status.level.${l}`) : l);
  lines.push('', tr('menu.status.disks'));
  for (const f of d.disks) lines.push(`  ${f.mount.padEnd(20)} ${String(f.percent).padStart(5)} %  ${level(f.level)}`);
  if (d.quarantine) lines.push(`  ${tr('menu.status.quarantine').padEnd(20)} ${String(d.quarantine.percent).padStart(5)} %  ${level(d.quarantine.level)}`);
  if (d.antivirus) lines.push('', ...antivirusLines(d.antivirus, d.timezone, tr));
  const where = d.consoleUrls.length ? d.consoleUrls.join(tr('menu.or')) : tr('menu.status.consoleDown');
  if (d.setup.pending) lines.push('', tr('menu.status.setupPending', { where }));
  else if (d.consoleUrls.length) lines.push('', tr('menu.status.console', { where }));
  return lines.join('\n');
}
