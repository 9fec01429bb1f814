// NIC/IP bindings: validation, the networkd files, try-then-keep against temporary persistent and
// runtime directories (the runtime one stands for /run, which a reset empties), and the menu's
// set-network dialogue, interrupted too.
// systemd-networkd does not run on the test host, so `apply` is a recording fake here; on the box
// it is `networkctl reload` + `reconfigure` (networkctlApply). Rollback delays are 1 s.
import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { candidateFileName, changeNetwork, fileName, renderNetwork, validateInterface, type InterfaceSettings } from '../../../appliance/system/network.ts';
import { runSetNetwork } from '../../../appliance/console/set-network.ts';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

const staticEth0: InterfaceSettings = { name: 'eth0', mode: 'static', address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53', '2001:db8::53'] };

interface Dirs { dir: string; runtimeDir: string; root: string }

/** A persistent directory (with the image's catch-all file, which must never be touched) and a runtime one, not yet made. */
async function tempDirs(): Promise<Dirs> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-net-'));
  const dir = path.join(root, 'etc');
  await mkdir(dir);
  await writeFile(path.join(dir, '80-mailmoat-default.network'), '[Match]\nName=en* eth*\n[Network]\nDHCP=yes\n');
  return { dir, runtimeDir: path.join(root, 'run'), root };
}

const list = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();

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

test('the candidate file sorts before every persistent one, so networkd takes it first', (t) => {
  for (const iface of ['eth0', 'ens3', 'enp0s31f6']) {
    t.true(candidateFileName(iface) < fileName(iface));
    t.true(candidateFileName(iface) < '80-mailmoat-default.network');
  }
});

test('invalid settings are refused before anything is written or applied', async (t) => {
  const d = await tempDirs();
  const applied: string[][] = [];
  const err = await t.throwsAsync(changeNetwork({ ...d, confirmSeconds: 1, apply: async (i) => { applied.push(i); },
    settings: [{ name: 'eth0', mode: 'static', address: '192.0.2.10', prefix: 24, gateway: '10.0.0.1', dns: [] }] }));
  t.regex(err!.message, /were not changed[\s\S]*eth0: the gateway/);
  t.deepEqual(await list(d.dir), ['80-mailmoat-default.network']);
  t.deepEqual(await list(d.runtimeDir), []);
  t.deepEqual(applied, []);
  await rm(d.root, { recursive: true });
});

test('the candidate runs from the runtime directory; the persistent files change only on confirm', async (t) => {
  const d = await tempDirs();
  const before = renderNetwork({ name: 'eth0', mode: 'dhcp' });
  await writeFile(path.join(d.dir, '10-mailmoat-eth0.network'), before);
  const applied: string[][] = [];
  const change = await changeNetwork({ ...d, confirmSeconds: 1, settings: [staticEth0], apply: async (i) => { applied.push(i); } });
  t.is(await readFile(path.join(d.runtimeDir, '05-mailmoat-eth0.network'), 'utf8'), renderNetwork(staticEth0));
  // A reset now would lose the runtime directory and boot with exactly this:
  t.is(await readFile(path.join(d.dir, '10-mailmoat-eth0.network'), 'utf8'), before);
  t.deepEqual(await list(d.dir), ['10-mailmoat-eth0.network', '80-mailmoat-default.network']);
  await change.confirm();
  t.is(await change.outcome, 'confirmed');
  t.is(await readFile(path.join(d.dir, '10-mailmoat-eth0.network'), 'utf8'), renderNetwork(staticEth0));
  t.deepEqual(await list(d.runtimeDir), [], 'the candidate is gone once kept');
  await new Promise((r) => setTimeout(r, 1500)); // past the rollback time: nothing may happen
  t.deepEqual(applied, [['eth0'], []], 'applied, then networkd told to re-read its files');
  t.is(await readFile(path.join(d.dir, '10-mailmoat-eth0.network'), 'utf8'), renderNetwork(staticEth0));
  await rm(d.root, { recursive: true });
});

test('an unconfirmed change removes its candidates and reconfigures; the persistent files were never touched', async (t) => {
  const d = await tempDirs();
  const before = renderNetwork({ name: 'eth0', mode: 'dhcp' });
  await writeFile(path.join(d.dir, '10-mailmoat-eth0.network'), before);
  const applied: string[][] = [];
  const change = await changeNetwork({ ...d, confirmSeconds: 1, apply: async (i) => { applied.push(i); },
    settings: [staticEth0, { name: 'eth1', mode: 'dhcp' }] });
  t.deepEqual(await list(d.runtimeDir), ['05-mailmoat-eth0.network', '05-mailmoat-eth1.network']);
  t.is(await change.outcome, 'reverted');
  t.deepEqual(await list(d.runtimeDir), []);
  t.is(await readFile(path.join(d.dir, '10-mailmoat-eth0.network'), 'utf8'), before);
  t.deepEqual(await list(d.dir), ['10-mailmoat-eth0.network', '80-mailmoat-default.network']);
  t.deepEqual(applied, [['eth0', 'eth1'], ['eth0', 'eth1']]);
  await change.confirm();
  t.deepEqual(await list(d.dir), ['10-mailmoat-eth0.network', '80-mailmoat-default.network'], 'too late to keep');
  await rm(d.root, { recursive: true });
});

test('revert() rolls back at once, before the deadline', async (t) => {
  const d = await tempDirs();
  const applied: string[][] = [];
  const change = await changeNetwork({ ...d, confirmSeconds: 3600, settings: [staticEth0], apply: async (i) => { applied.push(i); } });
  await change.revert();
  t.is(await change.outcome, 'reverted');
  t.deepEqual(await list(d.runtimeDir), []);
  t.deepEqual(applied, [['eth0'], ['eth0']]);
  await rm(d.root, { recursive: true });
});

test('a failing apply removes the candidate at once', async (t) => {
  const d = await tempDirs();
  let calls = 0;
  const err = await t.throwsAsync(changeNetwork({ ...d, confirmSeconds: 60, settings: [staticEth0],
    apply: async () => { if (++calls === 1) throw new Error('networkctl: Failed to reload network settings'); } }));
  t.regex(err!.message, /previous ones are back: networkctl: Failed/);
  t.deepEqual(await list(d.dir), ['80-mailmoat-default.network']);
  t.deepEqual(await list(d.runtimeDir), []);
  t.is(calls, 2);
  await rm(d.root, { recursive: true });
});

test('keeping fails cleanly when the persistent directory cannot be written: the change is reverted', async (t) => {
  const d = await tempDirs();
  const applied: string[][] = [];
  const change = await changeNetwork({ ...d, dir: path.join(d.root, 'missing'), confirmSeconds: 3600, settings: [staticEth0], apply: async (i) => { applied.push(i); } });
  await t.throwsAsync(change.confirm(), { message: /keeping the network settings failed .*; the previous ones are back/ });
  t.is(await change.outcome, 'reverted');
  t.deepEqual(await list(d.runtimeDir), []);
  t.deepEqual(applied, [['eth0'], ['eth0']]);
  await rm(d.root, { recursive: true });
});

test('interfaces not named in a change keep their files', async (t) => {
  const d = await tempDirs();
  const eth1 = renderNetwork({ name: 'eth1', mode: 'dhcp' });
  await writeFile(path.join(d.dir, '10-mailmoat-eth1.network'), eth1);
  const applied: string[][] = [];
  const change = await changeNetwork({ ...d, confirmSeconds: 1, settings: [staticEth0], apply: async (i) => { applied.push(i); } });
  t.is(await change.outcome, 'reverted');
  t.is(await readFile(path.join(d.dir, '10-mailmoat-eth1.network'), 'utf8'), eth1);
  t.deepEqual(applied, [['eth0'], ['eth0']]);
  await rm(d.root, { recursive: true });
});

function dialogue() {
  const input = new PassThrough();
  const output = new PassThrough();
  const screen = { text: '' };
  output.on('data', (d) => (screen.text += d));
  /** Answers one line at a time, each once its question is on the screen. */
  const answer = async (pairs: string[][]) => {
    for (const [question, line] of pairs) {
      while (!screen.text.includes(question)) await new Promise((r) => setTimeout(r, 10));
      input.write(line + '\n');
    }
  };
  return { io: { input, output }, screen, answer };
}

const STATIC_ANSWERS = [['Interface', 'eth0'], ['DHCP or static', 'static'], ['Address/prefix', '192.0.2.10/24'], ['Gateway', '192.0.2.1'], ['DNS servers', '192.0.2.53 2001:db8::53']];

test('the menu dialogue validates, applies and keeps a confirmed static address', async (t) => {
  const d = await tempDirs();
  const { io, screen, answer } = dialogue();
  const applied: string[][] = [];
  const done = runSetNetwork(io, { dirs: d, apply: async (i) => { applied.push(i); }, signals: new EventEmitter() });
  await answer([...STATIC_ANSWERS, ['Keep?', 'keep']]);
  t.is(await done, 0);
  t.regex(screen.text, /The new network settings are kept/);
  t.is(await readFile(path.join(d.dir, '10-mailmoat-eth0.network'), 'utf8'), renderNetwork(staticEth0));
  t.deepEqual(await list(d.runtimeDir), []);
  t.deepEqual(applied, [['eth0'], []]);
  await rm(d.root, { recursive: true });
});

for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) {
  test(`${signal} at "Keep?" rolls back at once and keeps the persistent files`, async (t) => {
    const d = await tempDirs();
    const { io, screen, answer } = dialogue();
    const signals = new EventEmitter();
    const applied: string[][] = [];
    // The previous (DHCP) address comes back a moment after the rollback; until then only the tried one shows.
    let asked = 0;
    const addresses = async () => (++asked < 3 ? ['192.0.2.10'] : ['192.0.2.99']);
    const done = runSetNetwork(io, { dirs: d, apply: async (i) => { applied.push(i); }, signals, addresses });
    await answer(STATIC_ANSWERS);
    while (!screen.text.includes('Keep?')) await new Promise((r) => setTimeout(r, 10));
    t.is(signals.listenerCount(signal), 1, 'the dialogue listens for interruptions during the window');
    signals.emit(signal);
    t.is(await done, 1);
    t.regex(screen.text, /Interrupted: the previous network settings are back/);
    // Ctrl-C: the admin reads on, so the dialogue waits until an address other than the tried one
    // shows; after a hang-up or a stop nobody reads (and a shutdown must not wait).
    t.is(asked, signal === 'SIGINT' ? 3 : 0);
    t.deepEqual(await list(d.runtimeDir), []);
    t.deepEqual(await list(d.dir), ['80-mailmoat-default.network']);
    t.deepEqual(applied, [['eth0'], ['eth0']]);
    t.is(signals.listenerCount(signal), 0, 'and stops listening afterwards');
    await rm(d.root, { recursive: true });
  });
}

test('a rollback whose address does not come back within the wait says so', async (t) => {
  const d = await tempDirs();
  const { io, screen, answer } = dialogue();
  const signals = new EventEmitter();
  const applied: string[][] = [];
  const done = runSetNetwork(io, { dirs: d, apply: async (i) => { applied.push(i); }, signals, addresses: async () => [], addressWaitMs: 1200 });
  await answer(STATIC_ANSWERS);
  while (!screen.text.includes('Keep?')) await new Promise((r) => setTimeout(r, 10));
  signals.emit('SIGINT');
  t.is(await done, 1);
  t.regex(screen.text, /The previous network settings are back, but eth0 has no IPv4 address yet/);
  t.notRegex(screen.text, /Interrupted: the previous network settings are back/);
  t.deepEqual(applied, [['eth0'], ['eth0'], ['eth0']], 'the change, its rollback, and once more halfway through the wait');
  t.deepEqual(await list(d.runtimeDir), []);
  await rm(d.root, { recursive: true });
});

test('a rollback whose DHCP address stays away is applied once more, and the address then comes', async (t) => {
  const d = await tempDirs();
  const { io, screen, answer } = dialogue();
  const signals = new EventEmitter();
  const applied: string[][] = [];
  // networkd brings the DHCP address back only when asked again after the rollback.
  const addresses = async () => (applied.length >= 3 ? ['192.0.2.99'] : []);
  const done = runSetNetwork(io, { dirs: d, apply: async (i) => { applied.push(i); }, signals, addresses, addressWaitMs: 4000 });
  await answer(STATIC_ANSWERS);
  while (!screen.text.includes('Keep?')) await new Promise((r) => setTimeout(r, 10));
  signals.emit('SIGINT');
  t.is(await done, 1);
  t.regex(screen.text, /Interrupted: the previous network settings are back\./);
  t.deepEqual(applied, [['eth0'], ['eth0'], ['eth0']]);
  t.deepEqual(await list(d.runtimeDir), []);
  await rm(d.root, { recursive: true });
});

test('the menu dialogue changes nothing for invalid answers', async (t) => {
  const d = await tempDirs();
  const { io, screen } = dialogue();
  io.input.end('eth0\nstatic\n192.0.2.10/40\n\n\n');
  t.is(await runSetNetwork(io, { dirs: d, apply: async () => t.fail('nothing may be applied'), signals: new EventEmitter() }), 1);
  t.regex(screen.text, /Nothing was changed:\n {2}the prefix length must be 1-32/);
  t.deepEqual(await list(d.dir), ['80-mailmoat-default.network']);
  t.deepEqual(await list(d.runtimeDir), []);
  await rm(d.root, { recursive: true });
});
