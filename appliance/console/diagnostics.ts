// The menu's diagnostics: the checks an admin at the console runs first when mail stops: does DNS
// resolve, is there a default route, does clamd answer, does freshclam update the signatures, is a
// disk full. Each check returns what it found and, when it fails, what to look at, as a text of
// the shared catalog (`menu.diag.*`) so the menu says it in its language.
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { promisify } from 'node:util';
import type { MessageKey } from '../i18n/catalog.ts';
import { measureFilesystem } from '../system/disk-watcher.ts';
import { freshclamStatus } from '../system/freshclam.ts';
import { SIGNATURES_DIR } from '../system/signatures.ts';

const run = promisify(execFile);

export interface CheckResult {
  /** What was checked: a catalog key of its own (`menu.diag.name.*`). */
  name: 'dns' | 'route' | 'clamd' | 'freshclam' | 'disk';
  ok: boolean;
  detail: { key: MessageKey; params?: Record<string, string | number> };
}

/** Asks the configured resolvers for the root zone's name servers: any working resolver knows them. */
export async function checkDns(): Promise<CheckResult> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  try {
    const ns = await resolver.resolveNs('.');
    return { name: 'dns', ok: true, detail: { key: 'menu.diag.dnsOk', params: { count: ns.length } } };
  } catch (err) {
    return { name: 'dns', ok: false, detail: { key: 'menu.diag.dnsFailed', params: { code: String((err as NodeJS.ErrnoException).code) } } };
  }
}

export async function checkRoute(): Promise<CheckResult> {
  try {
    const { stdout } = await run('ip', ['-4', 'route', 'show', 'default']);
    const line = stdout.trim();
    return line ? { name: 'route', ok: true, detail: { key: 'menu.diag.asIs', params: { text: line } } } : { name: 'route', ok: false, detail: { key: 'menu.diag.noRoute' } };
  } catch (err) {
    return { name: 'route', ok: false, detail: { key: 'menu.diag.routeUnreadable', params: { reason: (err as Error).message } } };
  }
}

export async function checkClamd(socketPath = '/run/clamav/clamd.ctl'): Promise<CheckResult> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    let answer = '';
    const done = (ok: boolean, detail: CheckResult['detail']) => { sock.destroy(); resolve({ name: 'clamd', ok, detail }); };
    sock.setTimeout(5000, () => done(false, { key: 'menu.diag.clamdSilent' }));
    sock.on('connect', () => sock.write('zPING\0'));
    sock.on('data', (d) => {
      answer += d;
      if (answer.includes('\0')) done(answer.startsWith('PONG'), answer.startsWith('PONG') ? { key: 'menu.diag.clamdOk' } : { key: 'menu.diag.clamdAnswered', params: { answer: answer.replace(/\0/g, '').trim() } });
    });
    sock.on('error', (err) => done(false, { key: 'menu.diag.clamdUnreachable', params: { socket: socketPath, code: String((err as NodeJS.ErrnoException).code) } }));
  });
}

/** freshclam's last check, from its log: "PONG" from clamd says nothing about old signatures. */
export async function checkFreshclam(databaseDir = SIGNATURES_DIR): Promise<CheckResult> {
  const s = await freshclamStatus(databaseDir);
  if (!s.lastRun) return { name: 'freshclam', ok: false, detail: { key: 'menu.diag.freshclamNever', params: { log: `${databaseDir}/freshclam.log` } } };
  if (s.lastRun.ok) {
    return { name: 'freshclam', ok: true, detail: s.lastRun.updated.length
      ? { key: 'menu.diag.freshclamUpdated', params: { at: s.lastRun.startedAt, databases: s.lastRun.updated.join(', ') } }
      : { key: 'menu.diag.freshclamOk', params: { at: s.lastRun.startedAt } } };
  }
  // freshclam's own words for what went wrong stay as it logged them.
  const failing = { since: String(s.failingSince), count: s.failuresInARow };
  return { name: 'freshclam', ok: false, detail: s.lastRun.error
    ? { key: 'menu.diag.freshclamFailing', params: { ...failing, error: s.lastRun.error } }
    : { key: 'menu.diag.freshclamFailingSeeLog', params: failing } };
}

/** The same measure as the disk watcher's (and so the status screen's). */
export async function checkDisks(warnPercent = 80, paths = ['/', '/var/lib/mailmoat']): Promise<CheckResult> {
  try {
    const rows = await Promise.all(paths.map((p) => measureFilesystem(p)));
    const full = rows.filter((r) => r.percent >= warnPercent);
    const summary = rows.map((r) => `${r.mount} ${r.percent} %`).join(', ');
    return full.length ? { name: 'disk', ok: false, detail: { key: 'menu.diag.diskFull', params: { summary, mounts: full.map((r) => r.mount).join(', ') } } }
      : { name: 'disk', ok: true, detail: { key: 'menu.diag.asIs', params: { text: summary } } };
  } catch (err) {
    return { name: 'disk', ok: false, detail: { key: 'menu.diag.diskUnreadable', params: { reason: (err as Error).message } } };
  }
}

export async function runDiagnostics(): Promise<CheckResult[]> {
  return Promise.all([checkDns(), checkRoute(), checkClamd(), checkFreshclam(), checkDisks()]);
}
