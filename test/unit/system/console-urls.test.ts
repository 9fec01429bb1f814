// The console's address as the menu and the daemon's log name it: the box's own addresses for a
// wildcard bind, never "0.0.0.0" or a placeholder; the port only when it is not 443.
import test from 'ava';
import type os from 'node:os';
import { consoleUrls } from '../../../appliance/system/console-urls.ts';

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({ address, family, internal, netmask: '', mac: '00:00:00:00:00:00', cidr: null }) as os.NetworkInterfaceInfo;
const box = { lo: [nic('127.0.0.1', 'IPv4', true)], enp0s2: [nic('10.0.2.15', 'IPv4'), nic('fe80::1', 'IPv6'), nic('2001:db8::5', 'IPv6')] };

test('a wildcard bind is named by the box\'s addresses; 443 is left out', (t) => {
  t.deepEqual(consoleUrls('0.0.0.0', 443, box), ['https://10.0.2.15/']);
  t.deepEqual(consoleUrls('::', 443, box), ['https://10.0.2.15/', 'https://[2001:db8::5]/']);
  t.deepEqual(consoleUrls('0.0.0.0', 8443, box), ['https://10.0.2.15:8443/']);
});

test('a specific bind is named as it is; a box without addresses falls back to loopback', (t) => {
  t.deepEqual(consoleUrls('192.0.2.7', 443, box), ['https://192.0.2.7/']);
  t.deepEqual(consoleUrls('0.0.0.0', 443, { lo: box.lo }), ['https://127.0.0.1/']);
});
