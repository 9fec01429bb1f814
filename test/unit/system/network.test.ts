// NIC/IP bindings: validation, the networkd files, confirm-or-revert against a temp directory, and
// the menu's set-network dialogue.
// systemd-networkd does not run on the test host, so `apply` is a recording fake here; on the box
// it is `networkctl reload` + `reconfigure` (networkctlApply). Rollback delays are 1 s.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { changeNetwork, renderNetwork, validateInterface, type InterfaceSettings } from '../../../appliance/system/network.ts';
import { runSetNetwork } from '../../../appliance/console/set-network.ts';
import { PassThrough } from 'node:stream';

const staticEth0: InterfaceSettings = { name: 'eth0', mode: 'static', address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53', '2001:db8::53'] };

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-net-'));
  // The image's catch-all file is not Mailmoat-managed per interface: it must never be touched.
  await writeFile(path.join(dir, '80-mailmoat-default.network'), '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n');
  return dir;
}

test('valid settings render to networkd files', (t) => {
  t.deepEqual(validateInterface(staticEth0), []);
  t.is(renderNetwork(staticEth0).split('\n').slice(1).join('\n'),
    '[Match]\nName=eth0\n\n[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\nDNS=192.0.2.53\nDNS=2001:db8::53\n');
  t.regex(renderNetwork({ name: 'ens3', mode: 'dhcp' }), /\[Match\]\nName=ens3\n\n\[Network\]\nDHCP=yes\n$/);
  t.deepEqual(validateInterface({ name: 'ens3', mode: 'static', address: '2001:db8::10', prefix: 64, gateway: '2001:db8::1', dns: [] }), []);
});

test('invalid settings are explained, every problem at once', (t) => {
  const problems = validateInterface({ name: 'eth0; rm', mode: 'static', address: '192.0.2.0', prefix: 24, gateway: '198.51.100.1', dns: ['dns.example'] });
  t.is(problems.length, 4);
  t.regex(problems.join('\n'), /not an interface name/);
  t.regex(problems.join('\n'), /network's own address/);
  t.regex(problems.join('\n'), /198\.51\.100\.1 is not inside 192\.0\.2\.0\/24/);
  t.regex(problems.join('\n'), /"dns\.example" is not an IP address/);
  t.regex(validateInterface({ name: 'eth0', mode: 'static', address: '192.0.2.10', prefix: 33, dns: [] })[0], /1-32/);
  t.regex(validateInterface({ name: 'eth0', mode: 'static', address: '10.0.0.255', prefix: 24, dns: [] })[0], /broadcast/);
  t.regex(validateInterface({ name: 'eth0', mode: 'static', address: '300.1.1.1', prefix: 24, dns: [] })[0], /not an IPv4 or IPv6 address/);
});

test('invalid settings are refused before anything is written or applied', async (t) => {
  const dir = await tempDir();
  const applied: string[][] = [];
  const err = await t.throwsAsync(changeNetwork({ dir, confirmSeconds: 1, apply: async (i) => { applied.push(i); },
    settings: [{ name: 'eth0', mode: 'static', address: '192.0.2.10', prefix: 24, gateway: '10.0.0.1', dns: [] }] }));
  t.regex(err!.message, /were not changed[\s\S]*eth0: the gateway/);
  t.deepEqual(await readdir(dir), ['80-mailmoat-default.network']);
  t.deepEqual(applied, []);
  await rm(dir, { recursive: true });
});

test('a confirmed change stays', async (t) => {
  const dir = await tempDir();
  const applied: string[][] = [];
  const change = await changeNetwork({ dir, confirmSeconds: 1, settings: [staticEth0], apply: async (i) => { applied.push(i); } });
  t.is(await readFile(path.join(dir, '10-mailmoat-eth0.network'), 'utf8'), renderNetwork(staticEth0));
  change.confirm();
  t.is(await change.outcome, 'confirmed');
  await new Promise((r) => setTimeout(r, 1500)); // past the rollback time: nothing may happen
  t.deepEqual(applied, [['eth0']]);
  t.deepEqual((await readdir(dir)).sort(), ['10-mailmoat-eth0.network', '80-mailmoat-default.network']);
  await rm(dir, { recursive: true });
});

test('an unconfirmed change is rolled back to the previous files and applied again', async (t) => {
  const dir = await tempDir();
  const before = renderNetwork({ name: 'eth0', mode: 'dhcp' });
  await writeFile(path.join(dir, '10-mailmoat-eth0.network'), before);
  const applied: string[][] = [];
  const change = await changeNetwork({ dir, confirmSeconds: 1, apply: async (i) => { applied.push(i); },
    settings: [staticEth0, { name: 'eth1', mode: 'dhcp' }] });
  t.is(await readFile(path.join(dir, '10-mailmoat-eth0.network'), 'utf8'), renderNetwork(staticEth0));
  t.is(await change.outcome, 'reverted');
  t.is(await readFile(path.join(dir, '10-mailmoat-eth0.network'), 'utf8'), before);
  t.deepEqual((await readdir(dir)).sort(), ['10-mailmoat-eth0.network', '80-mailmoat-default.network'], 'eth1, new in the change, is gone again');
  t.deepEqual(applied, [['eth0', 'eth1'], ['eth0', 'eth1']]);
  await rm(dir, { recursive: true });
});

test('a failing apply restores the previous files at once', async (t) => {
  const dir = await tempDir();
  let calls = 0;
  const err = await t.throwsAsync(changeNetwork({ dir, confirmSeconds: 60, settings: [staticEth0],
    apply: async () => { if (++calls === 1) throw new Error('networkctl: Failed to reload network settings'); } }));
  t.regex(err!.message, /previous ones are back: networkctl: Failed/);
  t.deepEqual(await readdir(dir), ['80-mailmoat-default.network']);
  t.is(calls, 2);
  await rm(dir, { recursive: true });
});

test('interfaces not named in a change keep their files', async (t) => {
  const dir = await tempDir();
  const eth1 = renderNetwork({ name: 'eth1', mode: 'dhcp' });
  await writeFile(path.join(dir, '10-mailmoat-eth1.network'), eth1);
  const applied: string[][] = [];
  const change = await changeNetwork({ dir, confirmSeconds: 1, settings: [staticEth0], apply: async (i) => { applied.push(i); } });
  t.is(await change.outcome, 'reverted');
  t.is(await readFile(path.join(dir, '10-mailmoat-eth1.network'), 'utf8'), eth1);
  t.deepEqual(applied, [['eth0'], ['eth0']]);
  await rm(dir, { recursive: true });
});

test('the menu dialogue validates, applies and keeps a confirmed static address', async (t) => {
  const dir = await tempDir();
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d) => (text += d));
  const applied: string[][] = [];
  const done = runSetNetwork({ input, output }, dir, async (i) => { applied.push(i); });
  // Answers one line at a time, each once its question is on the screen.
  for (const [question, answer] of [['Interface', 'eth0'], ['DHCP or static', 'static'], ['Address/prefix', '192.0.2.10/24'],
    ['Gateway', '192.0.2.1'], ['DNS servers', '192.0.2.53 2001:db8::53'], ['Keep?', 'keep']]) {
    while (!text.includes(question)) await new Promise((r) => setTimeout(r, 10));
    input.write(answer + '\n');
  }
  t.is(await done, 0);
  t.regex(text, /The new network settings are kept/);
  t.is(await readFile(path.join(dir, '10-mailmoat-eth0.network'), 'utf8'), renderNetwork(staticEth0));
  t.deepEqual(applied, [['eth0']]);
  await rm(dir, { recursive: true });
});

test('the menu dialogue changes nothing for invalid answers', async (t) => {
  const dir = await tempDir();
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d) => (text += d));
  input.end('eth0\nstatic\n192.0.2.10/40\n\n\n');
  t.is(await runSetNetwork({ input, output }, dir, async () => t.fail('nothing may be applied')), 1);
  t.regex(text, /Nothing was changed:\n {2}the prefix length must be 1-32/);
  t.deepEqual(await readdir(dir), ['80-mailmoat-default.network']);
  await rm(dir, { recursive: true });
});
