// Restarts asked for in the console: the daemon writes a service name to restart-request, root's
// mailmoat-apply-system restarts it only when the name is on its own list, and uses the request
// up either way. Run for real with its directories moved to a temporary folder and systemctl
// replaced by a stub that records what it was asked.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const script = path.resolve(import.meta.dirname, '../../../image/overlay/usr/local/sbin/mailmoat-apply-system');

function run(request: string): { out: string; calls: string; left: boolean } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-restart-'));
  try {
    mkdirSync(path.join(dir, 'system'));
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'default.sources'), 'pool pool.example iburst\n');
    writeFileSync(path.join(dir, 'system/restart-request'), request);
    for (const file of ['snmpd.conf', 'rsyslog-remote.conf']) writeFileSync(path.join(dir, 'system', file), '');
    for (const tool of ['systemctl', 'chronyc']) {
      writeFileSync(path.join(dir, 'bin', tool), `#!/bin/sh\necho "${tool} $*" >> "${path.join(dir, 'calls')}"\n`);
      chmodSync(path.join(dir, 'bin', tool), 0o755);
    }
    const out = execFileSync('sh', [script], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, MAILMOAT_SYSTEM_DIR: path.join(dir, 'system'), MAILMOAT_OS_DIR: path.join(dir, 'os'), MAILMOAT_DEFAULT_NTP: path.join(dir, 'default.sources') },
    });
    const calls = existsSync(path.join(dir, 'calls')) ? readFileSync(path.join(dir, 'calls'), 'utf8') : '';
    return { out, calls, left: existsSync(path.join(dir, 'system/restart-request')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a service on the list is restarted and the request used up', (t) => {
  const { out, calls, left } = run('snmpd\n');
  t.regex(calls, /^systemctl restart snmpd\.service$/m);
  t.regex(out, /snmpd restarted \(asked in the console\)/);
  t.false(left);
});

test('anything else is refused, nothing in it runs, and the request is used up too', (t) => {
  const { out, calls, left } = run('sshd; reboot\n');
  t.notRegex(calls, /restart sshd|reboot/);
  t.regex(out, /restart of "sshd; reboot" refused/);
  t.false(left);
});
