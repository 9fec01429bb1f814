// The menu's status screen: chrony's tracking report in words, and the screen's lines for the
// version, uptime, gateway, DNS servers and time (formatStatus on a status made here).
import test from 'ava';
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
