// The image's mailmoat-apply-system (root) applying the os.conf the unprivileged daemon writes:
// run for real with its directories moved to a temporary folder and in a private UTS namespace
// (unshare), so the host name it sets is the namespace's, never this machine's. Values an attacker
// controlling the daemon could write are refused, and nothing in them is executed; freshclam.conf
// keeps root's fixed lines and takes only checked mirror, proxy and checks lines.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderOsSettings } from '../../../appliance/system/system-config-files.ts';
import { renderFreshclamSettings } from '../../../appliance/system/freshclam.ts';

const script = path.resolve(import.meta.dirname, '../../../image/overlay/usr/local/sbin/mailmoat-apply-system');
const canUnshare = process.getuid?.() === 0;

function apply(osConf: string): { dir: string; out: string; hostname: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-apply-'));
  mkdirSync(path.join(dir, 'system'));
  writeFileSync(path.join(dir, 'system/os.conf'), osConf);
  writeFileSync(path.join(dir, 'default.sources'), 'pool pool.example iburst\n');
  const out = execFileSync('unshare', ['--uts', '--', 'sh', '-c', 'hostname before.invalid; sh "$0" --boot 2>&1; echo "HOST=$(hostname)"', script], {
    encoding: 'utf8',
    env: { ...process.env, MAILMOAT_SYSTEM_DIR: path.join(dir, 'system'), MAILMOAT_OS_DIR: path.join(dir, 'os'), MAILMOAT_DEFAULT_NTP: path.join(dir, 'default.sources') },
  });
  return { dir, out, hostname: /^HOST=(.*)$/m.exec(out)![1] };
}

test('host name, time zone and NTP servers of os.conf are applied', (t) => {
  if (!canUnshare) return t.pass('needs root for a private UTS namespace (unshare --uts)');
  const { dir, out, hostname } = apply(renderOsSettings({ hostname: 'mx1.example.co.jp', time: { timezone: 'Europe/Berlin', ntpServers: ['ntp.example', '192.0.2.1', '2001:db8::1'] } }));
  try {
    t.is(hostname, 'mx1.example.co.jp', out);
    t.is(readlinkSync(path.join(dir, 'os/localtime')), '/usr/share/zoneinfo/Europe/Berlin');
    t.is(readFileSync(path.join(dir, 'os/timezone'), 'utf8'), 'Europe/Berlin\n');
    t.is(readFileSync(path.join(dir, 'os/chrony/mailmoat.sources'), 'utf8'),
      'server ntp.example iburst\nserver 192.0.2.1 iburst\nserver 2001:db8::1 iburst\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no NTP servers configured: the distribution\'s pool', (t) => {
  if (!canUnshare) return t.pass('needs root for a private UTS namespace (unshare --uts)');
  const { dir } = apply(renderOsSettings({ hostname: 'mailmoat', time: { timezone: 'UTC', ntpServers: [] } }));
  try {
    t.is(readFileSync(path.join(dir, 'os/chrony/mailmoat.sources'), 'utf8'), 'pool pool.example iburst\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile values are refused with a message and nothing in them runs', (t) => {
  if (!canUnshare) return t.pass('needs root for a private UTS namespace (unshare --uts)');
  const marker = path.join(os.tmpdir(), `mailmoat-apply-pwned-${process.pid}`);
  const { dir, out, hostname } = apply([
    `HOSTNAME=$(touch ${marker})`,
    'TIMEZONE=../../../etc/passwd',
    `NTP_SERVERS=good.example \`touch ${marker}\` * bad!host`,
  ].join('\n') + '\n');
  try {
    t.is(hostname, 'before.invalid', 'the host name changed');
    t.false(existsSync(marker), 'a command in os.conf was executed');
    t.regex(out, /is not a valid host name; keeping before\.invalid/);
    t.regex(out, /time zone "\.\.\/\.\.\/\.\.\/etc\/passwd" in os\.conf is not a known IANA zone/);
    t.regex(out, /NTP server "bad!host" in os\.conf is not a host name or address; left out/);
    t.false(existsSync(path.join(dir, 'os/localtime')));
    t.is(readFileSync(path.join(dir, 'os/chrony/mailmoat.sources'), 'utf8'), 'server good.example iburst\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(marker, { force: true });
  }
});

test('freshclam.conf: fixed lines first, then only checked mirror, proxy and checks lines; readable by root alone', (t) => {
  if (!canUnshare) return t.pass('needs root for a private UTS namespace (unshare --uts)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-apply-'));
  try {
    mkdirSync(path.join(dir, 'system'));
    writeFileSync(path.join(dir, 'system/os.conf'), renderOsSettings({ hostname: 'mailmoat', time: { timezone: 'UTC', ntpServers: ['ntp.example'] } }));
    writeFileSync(path.join(dir, 'system/freshclam.conf'), renderFreshclamSettings({
      source: 'private', mirrorUrl: 'http://192.0.2.5/clamav', customUrls: ['https://sigs.example/extra.ndb'], checksPerDay: 6,
      proxy: { host: 'proxy.example', port: 8080, username: 'fred', password: 'pa$$word' },
    }) + [
      'OnUpdateExecute /bin/sh -c "touch /tmp/pwned"',
      'DatabaseCustomURL file:///etc/shadow',
      'DatabaseOwner root',
      "HTTPProxyPassword it's",
      'ExcludeDatabase ../../etc',
    ].join('\n') + '\n');
    const out = execFileSync('unshare', ['--uts', '--', 'sh', script, '--boot'], {
      encoding: 'utf8',
      env: { ...process.env, MAILMOAT_SYSTEM_DIR: path.join(dir, 'system'), MAILMOAT_OS_DIR: path.join(dir, 'os'), MAILMOAT_FRESHCLAM_DB: '/var/lib/clamav' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const conf = readFileSync(path.join(dir, 'os/freshclam.conf'), 'utf8').split('\n');
    t.deepEqual(conf.slice(1, 4), ['DatabaseDirectory /var/lib/clamav', 'DatabaseOwner clamav', 'UpdateLogFile /var/lib/clamav/freshclam.log'], out);
    t.deepEqual(conf.filter((l) => /^(PrivateMirror|DatabaseCustomURL|HTTPProxy|Checks|OnUpdate|ExcludeDatabase)/.test(l) || l === 'DatabaseOwner root'), [
      'PrivateMirror http://192.0.2.5/clamav', 'DatabaseCustomURL https://sigs.example/extra.ndb', 'HTTPProxyServer proxy.example',
      'HTTPProxyPort 8080', 'HTTPProxyUsername fred', 'HTTPProxyPassword pa$$word', 'Checks 6',
    ]);
    t.is(statSync(path.join(dir, 'os/freshclam.conf')).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
