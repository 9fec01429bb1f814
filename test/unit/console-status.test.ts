// The menu's status screen: chrony's tracking report in words, and the screen's lines for the
// version, uptime, gateway, DNS servers and time (formatStatus on a status made here).
import test from 'ava';
import type { LocalStatus } from '../../appliance/api/local-socket.ts';
import { describeTracking, formatStatus, type ConsoleStatus } from '../../appliance/console/status.ts';

const synced = `Reference ID    : C0000201 (192.0.2.1)
Stratum         : 3
Ref time (UTC)  : Mon Nov 30 10:00:00 2026
System time     : 0.000012 seconds fast of NTP time
Leap status     : Normal
`;
const unsynced = `Reference ID    : 00000000 ()
Stratum         : 0
Leap status     : Not synchronised
`;

test('chrony\'s tracking report in words', (t) => {
  t.is(describeTracking(synced), 'synchronised to 192.0.2.1 (stratum 3)');
  t.is(describeTracking(unsynced), 'not synchronised: check the NTP servers and that UDP 123 is open');
  t.is(describeTracking(''), 'unknown (chrony did not answer)');
});

test('the status screen shows version, uptime, gateway, DNS and time, and says what to do when one is missing', (t) => {
  const base: ConsoleStatus = {
    hostname: 'mx1.example.jp', version: '1.2.3', uptimeSeconds: 2 * 86400 + 3 * 3600 + 60, gateway: 'via 192.0.2.254 dev enp1s0',
    dns: ['192.0.2.53', '2001:db8::53'], ntp: 'synchronised to 192.0.2.1 (stratum 3)',
    services: [{ name: 'mailmoat', state: 'active' }], addresses: [{ iface: 'enp1s0', address: '192.0.2.10/24' }], daemon: { error: 'not running' },
  };
  const screen = formatStatus(base);
  t.regex(screen, /^Host: mx1\.example\.jp {4}Mailmoat 1\.2\.3 {4}up 2 d 3 h$/m);
  t.regex(screen, /^ {2}gateway {4}via 192\.0\.2\.254 dev enp1s0$/m);
  t.regex(screen, /^ {2}DNS {8}192\.0\.2\.53, 2001:db8::53$/m);
  t.regex(screen, /^Time: synchronised to 192\.0\.2\.1 \(stratum 3\)$/m);
  t.regex(screen, /another card or NIC model renames them/);
  const bare = formatStatus({ ...base, uptimeSeconds: 125, gateway: undefined, dns: [] });
  t.regex(bare, /up 2 min$/m);
  t.regex(bare, /gateway {4}none: set one \(item 11\)/);
  t.regex(bare, /DNS {8}none: set servers \(item 11\)/);
});

test('the status screen in Japanese, from the same catalog', (t) => {
  const screen = formatStatus({
    hostname: 'mx1.example.jp', version: '1.2.3', uptimeSeconds: 3 * 3600 + 120, gateway: undefined, dns: [],
    ntp: describeTracking(unsynced, 'ja'), services: [], addresses: [], daemon: { error: 'not running' }, language: 'ja',
  });
  t.regex(screen, /^ホスト: mx1\.example\.jp {4}Mailmoat 1\.2\.3 {4}稼働時間 3 時間 2 分$/m);
  t.regex(screen, /ゲートウェイ\s+なし: 設定してください（項目 11）/);
  t.regex(screen, /^時刻: 同期していません/m);
  t.regex(screen, /メールの状態を取得できません: not running/);
});

test('the signature lines: version and age in the appliance\'s zone, stale, freshclam failing or its last failure, in both languages', (t) => {
  const daemon = (antivirus: LocalStatus['antivirus']): LocalStatus => ({
    queue: { messages: 0, deferred: 0, oldestAgeSeconds: 0 }, totals: { received: 5, tagged: 2 }, disks: [], quarantine: null,
    setup: { pending: false }, consoleUrls: [], language: 'en', timezone: 'Asia/Tokyo', ...(antivirus ? { antivirus } : {}),
  });
  const base: ConsoleStatus = {
    hostname: 'mx1.example.jp', version: '1.2.3', uptimeSeconds: 60, gateway: undefined, dns: [], ntp: 'x', services: [], addresses: [], daemon: { error: '' },
  };
  const failing = daemon({
    version: 27470, newestAt: '2026-11-27T01:00:00.000Z', ageSeconds: 3.5 * 86400, stale: true,
    freshclam: { lastRun: { startedAt: '2026-11-30T09:00:00.000Z', ok: false, error: 'Connection failed', updated: [] }, failingSince: '2026-11-29T03:00:00.000Z',
      lastFailureAt: '2026-11-30T09:00:00.000Z', failuresInARow: 4, failingLong: false },
  });
  const en = formatStatus({ ...base, daemon: failing });
  t.regex(en, /^Virus signatures: version 27470, built 2026-11-27 10:00 \(Asia\/Tokyo\) \(3\.5 days ago\)$/m);
  t.regex(en, /^ {2}stale: older than two days$/m);
  t.regex(en, /^freshclam: failing since 2026-11-29 12:00 \(Asia\/Tokyo\) \(4 checks in a row\): Connection failed$/m);
  t.regex(en, /tagged 2/);
  const ja = formatStatus({ ...base, daemon: failing, language: 'ja' });
  t.regex(ja, /^ウイルス定義: バージョン 27470、2026-11-27 10:00 \(Asia\/Tokyo\) 作成（3\.5 日前）$/m);
  t.regex(ja, /^freshclam: 2026-11-29 12:00 \(Asia\/Tokyo\) から失敗しています（4 回連続）: Connection failed$/m);

  // Working again: the last good check, and the last failed one the log still holds.
  const working = formatStatus({ ...base, daemon: daemon({
    version: 27471, newestAt: '2026-11-30T01:00:00.000Z', ageSeconds: 3600, stale: false,
    freshclam: { lastRun: { startedAt: '2026-11-30T11:00:00.000Z', ok: true, updated: ['daily.cld'] }, lastSuccessAt: '2026-11-30T11:00:00.000Z',
      lastFailureAt: '2026-11-30T09:00:00.000Z', failuresInARow: 0, failingLong: false },
  }) });
  t.regex(working, /^freshclam: the last check \(2026-11-30 20:00 \(Asia\/Tokyo\)\) worked$/m);
  t.regex(working, /^ {2}last failed check: 2026-11-30 18:00 \(Asia\/Tokyo\)$/m);
  t.notRegex(working, /stale/);

  // Nothing installed, freshclam never ran.
  const none = formatStatus({ ...base, daemon: daemon({ stale: true, freshclam: { failuresInARow: 0, failingLong: false } }), language: 'ja' });
  t.regex(none, /^ウイルス定義: まだありません/m);
  t.regex(none, /^freshclam: まだ確認していません$/m);
  t.notRegex(none, /古くなっています/, 'no database is said once, not as stale');
});
