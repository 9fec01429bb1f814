// Network changes from the browser, tried before they are kept: the API records a trial, root's
// sync (run here on temporary directories in place of networkd's) writes it as a runtime candidate,
// a confirmation makes it persistent, and a trial nobody confirms reverts by itself — by the
// daemon's timer, or at the daemon's next start when its time passed while it was down. The box's
// own DNS servers (a systemd-resolved drop-in) go the same way.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { NetworkTrials, syncNetwork, TRIAL_FILE } from '../../appliance/system/network-trial.ts';
import { withPeople } from '../helpers/console-api.ts';

async function networkdDirs(t: Parameters<typeof withPeople>[0]) {
  const base = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-networkd-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const applied: string[][] = [];
  return { dir: path.join(base, 'etc'), runtimeDir: path.join(base, 'run'), applied, apply: async (names: string[]) => { applied.push(names); } };
}
const files = (dir: string) => readdir(dir).catch(() => [] as string[]);

test('API: a trial is refused at its fields when wrong, staged as a candidate, kept when confirmed', async (t) => {
  const { h, root, alice } = await withPeople(t);
  const nd = await networkdDirs(t);
  await mkdir(nd.dir, { recursive: true });
  const sync = () => syncNetwork({ systemDir: path.join(h.dataDir, 'system'), ...nd });

  const bad = await h.request('POST', '/api/system/network/trial', { as: root, body: { settings: [
    { name: 'eth0', mode: 'static', address: '192.0.2.10', prefix: 24, gateway: '198.51.100.1', dns: ['not-an-ip'] }] } });
  t.is(bad.status, 400);
  t.deepEqual(bad.json.problems.map((p: { path: string }) => p.path), ['/settings/0/gateway', '/settings/0/dns']);
  t.is((await h.request('POST', '/api/system/network/trial', { as: alice, body: { settings: [{ name: 'eth0', mode: 'dhcp' }] } })).status, 403);
  t.is(h.server.context.network.current, null, 'nothing was tried');

  const eth0 = { name: 'eth0', mode: 'static', address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53'] };
  const started = await h.request('POST', '/api/system/network/trial', { as: root, body: { settings: [eth0] } });
  t.is(started.status, 200, JSON.stringify(started.json));
  const { id, state, revertAt } = started.json.trial;
  t.is(state, 'pending');
  t.true(Date.parse(revertAt) > Date.now());
  t.is(JSON.parse(await readFile(path.join(h.dataDir, 'system', TRIAL_FILE), 'utf8')).state, 'pending', 'the record outlives the daemon');
  t.deepEqual((await h.request('GET', '/api/system/network', { as: root })).json.trial.id, id);
  // Another change waits until this one is settled.
  t.is((await h.request('POST', '/api/system/network/trial', { as: root, body: { settings: [{ name: 'eth0', mode: 'dhcp' }] } })).status, 400);

  await sync();
  t.deepEqual(await files(nd.runtimeDir), ['05-mailmoat-eth0.network']);
  t.regex(await readFile(path.join(nd.runtimeDir, '05-mailmoat-eth0.network'), 'utf8'), /Address=192\.0\.2\.10\/24\nGateway=192\.0\.2\.1\nDNS=192\.0\.2\.53/);
  t.deepEqual(await files(nd.dir), [], 'the persistent files are untouched while trying');
  t.deepEqual(nd.applied, [['eth0']]);
  await sync();
  t.is(nd.applied.length, 1, 'nothing changed, networkd not disturbed');

  const kept = await h.request('POST', `/api/system/network/trial/${id}/confirm`, { as: root });
  t.is(kept.json.trial.state, 'confirmed');
  await sync();
  t.deepEqual(await files(nd.runtimeDir), []);
  t.deepEqual(await files(nd.dir), ['10-mailmoat-eth0.network']);
  t.is((await h.request('POST', `/api/system/network/trial/${id}/revert`, { as: root })).status, 404, 'settled already');

  const audit = JSON.stringify((await h.request('GET', '/api/audit?limit=10', { as: root })).json.items);
  t.regex(audit, /tried eth0 static 192\.0\.2\.10\/24 via 192\.0\.2\.1 \(DNS 192\.0\.2\.53\); reverts at/);
  t.regex(audit, /kept eth0 static 192\.0\.2\.10\/24/);

  // Reverting on request: the candidate goes, the kept file stays as it was.
  const again = await h.request('POST', '/api/system/network/trial', { as: root, body: { settings: [{ name: 'eth0', mode: 'dhcp' }] } });
  await sync();
  t.deepEqual(await files(nd.runtimeDir), ['05-mailmoat-eth0.network']);
  t.is((await h.request('POST', `/api/system/network/trial/${again.json.trial.id}/revert`, { as: root })).json.trial.state, 'reverted');
  await sync();
  t.deepEqual(await files(nd.runtimeDir), []);
  t.regex(await readFile(path.join(nd.dir, '10-mailmoat-eth0.network'), 'utf8'), /Address=192\.0\.2\.10\/24/);
});

test('API: the box\'s DNS servers are refused at their field when wrong, tried as resolved\'s runtime drop-in, kept on the data partition and installed, and emptied', async (t) => {
  const { h, root, alice } = await withPeople(t);
  const nd = await networkdDirs(t);
  const resolvedBase = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-resolved-'));
  t.teardown(() => rm(resolvedBase, { recursive: true, force: true }));
  const restarts: number[] = [];
  const resolved = { dir: path.join(resolvedBase, 'etc'), runtimeDir: path.join(resolvedBase, 'run'), apply: async () => { restarts.push(1); } };
  const sync = () => syncNetwork({ systemDir: path.join(h.dataDir, 'system'), ...nd, resolved });
  const trial = (resolvers: string[], as = root) => h.request('POST', '/api/system/network/trial', { as, body: { settings: [], resolvers } });

  const bad = await trial(['192.0.2.53', 'dns.example', '192.0.2.53']);
  t.is(bad.status, 400);
  t.deepEqual(bad.json.problems.map((p: { path: string }) => p.path), ['/resolvers/1', '/resolvers/2']);
  t.regex(bad.json.problems[0].message, /"dns\.example" is not an IP address/);
  t.is((await trial(['192.0.2.53'], alice)).status, 403);
  t.is((await h.request('POST', '/api/system/network/trial', { as: root, body: { settings: [] } })).status, 400, 'nothing to change');
  t.deepEqual((await h.request('GET', '/api/system/network', { as: root })).json.trial, null, 'nothing was tried');

  const started = await trial(['192.0.2.53', '2001:db8::53']);
  t.is(started.status, 200, JSON.stringify(started.json));
  t.is(started.json.trial.state, 'pending');
  await sync();
  t.deepEqual(await files(resolved.runtimeDir), ['60-mailmoat-candidate.conf']);
  t.is(await readFile(path.join(resolved.runtimeDir, '60-mailmoat-candidate.conf'), 'utf8'),
    '# Written by Mailmoat (System page, DNS resolvers); changes here are replaced.\n[Resolve]\nDNS=\nDNS=192.0.2.53\nDNS=2001:db8::53\n');
  t.deepEqual(await files(resolved.dir), [], 'nothing kept while trying');
  t.deepEqual(nd.applied, [], 'networkd is not disturbed by a resolvers-only change');
  t.is(restarts.length, 1);

  await h.request('POST', `/api/system/network/trial/${started.json.trial.id}/confirm`, { as: root });
  await sync();
  t.deepEqual(await files(resolved.dir), ['50-mailmoat.conf'], 'kept on the data partition');
  t.deepEqual(await files(resolved.runtimeDir), ['50-mailmoat.conf'], 'installed for resolved, the candidate gone');
  t.regex(await readFile(path.join(resolved.runtimeDir, '50-mailmoat.conf'), 'utf8'), /DNS=\nDNS=192\.0\.2\.53\nDNS=2001:db8::53\n$/);
  t.is(restarts.length, 2);
  const trials = await NetworkTrials.open(path.join(h.dataDir, 'system'), { resolvedDir: resolved.dir });
  t.teardown(() => trials.close());
  t.deepEqual(await trials.resolvers(), ['192.0.2.53', '2001:db8::53'], 'read back as kept');

  // A new list reverted on request leaves the kept one; an empty list kept removes it.
  const wrong = await trial(['198.51.100.1']);
  await sync();
  await h.request('POST', `/api/system/network/trial/${wrong.json.trial.id}/revert`, { as: root });
  await sync();
  t.deepEqual(await files(resolved.runtimeDir), ['50-mailmoat.conf']);
  t.deepEqual(await trials.resolvers(), ['192.0.2.53', '2001:db8::53']);
  const none = await trial([]);
  await h.request('POST', `/api/system/network/trial/${none.json.trial.id}/confirm`, { as: root });
  await sync();
  t.deepEqual(await files(resolved.dir), []);
  t.deepEqual(await files(resolved.runtimeDir), []);
  t.deepEqual(await trials.resolvers(), []);

  const audit = JSON.stringify((await h.request('GET', '/api/audit?limit=20', { as: root })).json.items);
  t.regex(audit, /tried the box's DNS servers 192\.0\.2\.53, 2001:db8::53; reverts at/);
  t.regex(audit, /kept the box's DNS servers 192\.0\.2\.53, 2001:db8::53/);
  t.regex(audit, /reverted the box's DNS servers 198\.51\.100\.1/);
  t.regex(audit, /kept the box's DNS servers none of its own/);
});

test('a trial nobody confirms reverts by the daemon\'s timer, and the audit log says so', async (t) => {
  const systemDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-trial-'));
  t.teardown(() => rm(systemDir, { recursive: true, force: true }));
  const ended: string[] = [];
  const trials = await NetworkTrials.open(systemDir, { onEnd: (x) => ended.push(`${x.state}/${x.reason}`) });
  t.teardown(() => trials.close());
  await trials.start([{ name: 'eth0', mode: 'dhcp' }], 0.05);
  const end = await trials.ended();
  t.is(end?.state, 'reverted');
  t.is(end?.reason, 'expired');
  t.deepEqual(ended, ['reverted/expired']);
  t.is(JSON.parse(await readFile(path.join(systemDir, TRIAL_FILE), 'utf8')).state, 'reverted');
});

test('a pending trial survives a daemon restart: timed again when time is left, reverted at start when not', async (t) => {
  const systemDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-trial-'));
  t.teardown(() => rm(systemDir, { recursive: true, force: true }));
  const first = await NetworkTrials.open(systemDir);
  const trial = await first.start([{ name: 'eth1', mode: 'static', address: '192.0.2.20', prefix: 24, dns: [] }], 120);
  first.close(); // the daemon stops with the trial pending

  const soon = await NetworkTrials.open(systemDir, { now: () => Date.parse(trial.startedAt) + 30_000 });
  t.is(soon.current?.state, 'pending', 'time is left: still waiting for its confirmation');
  t.is((await soon.confirm('another id')), null);
  soon.close();

  const late = await NetworkTrials.open(systemDir, { now: () => Date.parse(trial.revertAt) + 1 });
  t.is(late.current?.state, 'reverted');
  t.is(late.current?.reason, 'expired');
  t.is(await late.confirm(trial.id), null, 'too late to keep it');
  late.close();
});

test('root\'s sync checks the record itself: a tampered one changes nothing', async (t) => {
  const systemDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-trial-'));
  t.teardown(() => rm(systemDir, { recursive: true, force: true }));
  const nd = await networkdDirs(t);
  await writeFile(path.join(systemDir, TRIAL_FILE), JSON.stringify({ id: 'x', state: 'pending', startedAt: '', revertAt: '',
    settings: [{ name: 'eth0\n[Network]', mode: 'static', address: '192.0.2.10\nDNS=203.0.113.66', prefix: 24, dns: [] }] }));
  const done = await syncNetwork({ systemDir, ...nd });
  t.regex(done.join('\n'), /refused/);
  t.deepEqual(await files(nd.runtimeDir), []);
  t.deepEqual(nd.applied, []);
  // The same for the box's resolvers: a line break in one would add a setting of its own.
  const resolvedRun = path.join(systemDir, 'resolved-run');
  await writeFile(path.join(systemDir, TRIAL_FILE), JSON.stringify({ id: 'y', state: 'pending', startedAt: '', revertAt: '', settings: [],
    resolvers: ['192.0.2.53\nDNSStubListener=no'] }));
  const refused = await syncNetwork({ systemDir, ...nd, resolved: { dir: path.join(systemDir, 'resolved'), runtimeDir: resolvedRun, apply: async () => { t.fail('resolved restarted'); } } });
  t.regex(refused.join('\n'), /refused/);
  t.deepEqual(await files(resolvedRun), []);
});
