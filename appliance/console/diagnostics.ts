// The menu's diagnostics: the checks an admin at the console runs first when mail stops: does DNS
// resolve, is there a default route, does clamd answer, does freshclam update the signatures, is a
// disk full. Each check returns a line
// saying what it found and, when it fails, what to look at.
import { execFile } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { promisify } from 'node:util';
import { measureFilesystem } from '../system/disk-watcher.ts';
import { freshclamStatus } from '../system/freshclam.ts';
import { SIGNATURES_DIR } from '../system/signatures.ts';

const run = promisify(execFile);

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** Asks the configured resolvers for the root zone's name servers: any working resolver knows them. */
export async function checkDns(): Promise<CheckResult> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  try {
    const ns = await resolver.resolveNs('.');
    return { name: 'DNS', ok: true, detail: `the resolvers answer (${ns.length} root name servers)` };
  } catch (err) {
    return { name: 'DNS', ok: false, detail: `the resolvers do not answer (${(err as NodeJS.ErrnoException).code}): check the DNS servers in the network settings` };
  }
}

export async function checkRoute(): Promise<CheckResult> {
  try {
    const { stdout } = await run('ip', ['-4', 'route', 'show', 'default']);
    const line = stdout.trim();
    return line ? { name: 'route', ok: true, detail: line } : { name: 'route', ok: false, detail: 'no default route: set a gateway in the network settings' };
  } catch (err) {
    return { name: 'route', ok: false, detail: `cannot read the routing table: ${(err as Error).message}` };
  }
}

export async function checkClamd(socketPath = '/run/clamav/clamd.ctl'): Promise<CheckResult> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    let answer = '';
    const done = (ok: boolean, detail: string) => { sock.destroy(); resolve({ name: 'clamd', ok, detail }); };
    sock.setTimeout(5000, () => done(false, 'clamd does not answer within 5 s: restart it (menu item 4)'));
    sock.on('connect', () => sock.write('zPING\0'));
    sock.on('data', (d) => {
      answer += d;
      if (answer.includes('\0')) done(answer.startsWith('PONG'), answer.startsWith('PONG') ? 'clamd answers PONG' : `clamd answered "${answer.trim()}"`);
    });
    sock.on('error', (err) => done(false, `cannot reach clamd at ${socketPath} (${(err as NodeJS.ErrnoException).code}): is clamav-daemon running?`));
  });
}

/** freshclam's last check, from its log: "PONG" from clamd says nothing about old signatures. */
export async function checkFreshclam(databaseDir = SIGNATURES_DIR): Promise<CheckResult> {
  const s = await freshclamStatus(databaseDir);
  if (!s.lastRun) return { name: 'freshclam', ok: false, detail: `no freshclam check in ${databaseDir}/freshclam.log yet: is clamav-freshclam running?` };
  if (s.lastRun.ok) return { name: 'freshclam', ok: true, detail: `last check ${s.lastRun.startedAt} succeeded${s.lastRun.updated.length ? ` (updated ${s.lastRun.updated.join(', ')})` : ''}` };
  return { name: 'freshclam', ok: false, detail: `failing since ${s.failingSince} (${s.failuresInARow} checks in a row): ${s.lastRun.error ?? 'see its log'}; check the signature mirror and proxy settings` };
}

/** The same measure as the disk watcher's (and so the status screen's). */
export async function checkDisks(warnPercent = 80, paths = ['/', '/var/lib/mailmoat']): Promise<CheckResult> {
  try {
    const rows = await Promise.all(paths.map((p) => measureFilesystem(p)));
    const full = rows.filter((r) => r.percent >= warnPercent);
    const summary = rows.map((r) => `${r.mount} ${r.percent} %`).join(', ');
    return full.length ? { name: 'disk', ok: false, detail: `${summary}: free space on ${full.map((r) => r.mount).join(', ')}` }
      : { name: 'disk', ok: true, detail: summary };
  } catch (err) {
    return { name: 'disk', ok: false, detail: `cannot measure the filesystems: ${(err as Error).message}` };
  }
}

export async function runDiagnostics(): Promise<CheckResult[]> {
  return Promise.all([checkDns(), checkRoute(), checkClamd(), checkFreshclam(), checkDisks()]);
}
