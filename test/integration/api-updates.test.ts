// System updates through the console API (appliance/api/routes/updates.ts): admin only; the
// bundle is streamed to the data partition and handed to `rauc install` in the background (here a
// stand-in script that behaves as RAUC does, test/helpers/rauc.ts); or, the console's way, checked
// by `rauc info` first (version and notes shown, a refused one gone) and installed on a second
// request, rebooting when installed; the state is polled; install and reboot are audited; the
// reboot is asked of root through a request file; a box not booted from a slot refuses updates;
// and the status tells which slot runs and why it fell back; while a new slot is on trial (and
// could still fall back) settings are not changed (nor restored from a backup), with a message
// saying why and until when.
import test from 'ava';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { adminAndDomainAdmin, makeConsole } from '../helpers/console-api.ts';
import { standInBundle, standInRauc } from '../helpers/rauc.ts';
import { trialGuard, writeRecord } from '../../appliance/system/updates.ts';
import { BACKUP_MEDIA_TYPE } from '../../appliance/api/routes/backup.ts';

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('admins install a bundle into the other slot, poll its progress and ask for the reboot; all audited', async (t) => {
  const h = await makeConsole(t, { deps: async (dir) => ({ updates: { rauc: await standInRauc(dir, dir), cmdline: 'BOOT_IMAGE=/vmlinuz root=PARTUUID=x rauc.slot=A ro quiet' } }) });
  const { server, dataDir } = h;
  const { root, alice } = await adminAndDomainAdmin(h);
  const upload = (body: Buffer, as = root) => server.app.inject({
    method: 'POST', url: '/api/system/update', payload: body, headers: { ...as, 'content-type': 'application/octet-stream' },
  });
  const status = async () => (await server.app.inject({ method: 'GET', url: '/api/system/update', headers: root })).json();

  t.is((await upload(Buffer.from('a bundle'), alice)).statusCode, 403);
  t.is((await server.app.inject({ method: 'GET', url: '/api/system/update', headers: alice })).statusCode, 403);
  const before = await status();
  t.like(before, { booted: 'A', install: null, lastCheck: null, fallback: null });
  t.deepEqual(before.slots.map((s: { name: string; booted: boolean }) => [s.name, s.booted]), [['A', true], ['B', false]]);

  // A bundle RAUC refuses: the state says why, the upload is gone, the refusal is audited.
  const refused = await upload(standInBundle({ unsigned: true }));
  t.is(refused.statusCode, 202, refused.body);
  const failed = await until(async () => { const s = await status(); return s.install.state === 'installing' ? undefined : s.install; });
  t.like(failed, { state: 'failed', error: 'installing ' + path.join(dataDir, 'updates', 'upload.raucb') + ': LastError: signature verification failed: no certificate matches' });
  await t.throwsAsync(stat(path.join(dataDir, 'updates', 'upload.raucb')));

  const accepted = await upload(standInBundle({ size: 256 * 1024 }));
  t.is(accepted.statusCode, 202, accepted.body);
  t.like(accepted.json(), { install: { state: 'installing' } });
  const installed = await until(async () => { const s = await status(); return s.install.state === 'installing' ? undefined : s; });
  t.like(installed.install, { state: 'installed', slot: 'B', version: '0.1.1' });
  t.like(installed.slots[1], { name: 'B', version: '0.1.1', installedAt: '2026-11-30T14:10:00Z', booted: false });

  t.is((await server.app.inject({ method: 'POST', url: '/api/system/update/reboot', headers: alice })).statusCode, 403);
  const reboot = await server.app.inject({ method: 'POST', url: '/api/system/update/reboot', headers: root });
  t.is(reboot.statusCode, 200, reboot.body);
  t.regex(await readFile(path.join(dataDir, 'updates', 'reboot-request'), 'utf8'), /to start system B \(0\.1\.1\)/);

  const audit = (await server.app.inject({ method: 'GET', url: '/api/audit?limit=50', headers: root })).json();
  const actions = audit.items.map((r: { action: string }) => r.action);
  for (const action of ['POST /api/system/update', 'update.failed', 'update.installed', 'POST /api/system/update/reboot']) {
    t.true(actions.includes(action), `${action} is not in the audit log: ${actions}`);
  }
});

test('the status tells a fallback and the last check; a box not booted from a slot refuses updates', async (t) => {
  let cmdline = 'root=PARTUUID=x rauc.slot=A ro';
  const h = await makeConsole(t, { deps: () => ({ updates: { rauc: '/nonexistent/rauc', get cmdline() { return cmdline; } } }) });
  const { server, dataDir } = h;
  const { root } = await adminAndDomainAdmin(h);
  await mkdir(path.join(dataDir, 'updates'));
  const reason = 'the daemon failed to start 2 times (mailmoat.service is failed)';
  await writeFile(path.join(dataDir, 'updates', 'fallback.json'), JSON.stringify({ from: 'B', to: 'A', reason, at: '2026-11-30T14:20:00Z' }));
  await writeFile(path.join(dataDir, 'updates', 'slot-check.json'), JSON.stringify({ slot: 'A', version: '0.1.0', result: 'good', at: '2026-11-30T14:25:00Z' }));
  const status = (await server.app.inject({ method: 'GET', url: '/api/system/update', headers: root })).json();
  t.like(status, { booted: 'A', fallback: { from: 'B', reason }, lastCheck: { slot: 'A', result: 'good' } });
  // Once the box runs from B again (a later install), that fallback is no longer news.
  cmdline = 'root=PARTUUID=y rauc.slot=B ro';
  t.is((await server.app.inject({ method: 'GET', url: '/api/system/update', headers: root })).json().fallback, null);
  cmdline = 'root=/dev/sda1 ro';
  const refused = await server.app.inject({ method: 'POST', url: '/api/system/update', payload: Buffer.from('x'), headers: { ...root, 'content-type': 'application/octet-stream' } });
  t.is(refused.statusCode, 409);
  t.regex(refused.json().error.message, /not started from an update slot/);
});

test('the console\'s way: a bundle is checked and described first, installed on request and rebooted into; a refused one is gone', async (t) => {
  const h = await makeConsole(t, { deps: async (dir) => ({ updates: { rauc: await standInRauc(dir, dir, { slot: 'A' }), cmdline: 'root=PARTUUID=x rauc.slot=B ro' } }) });
  const { server, dataDir } = h;
  const { root, alice } = await adminAndDomainAdmin(h);
  const upload = (body: Buffer, as = root) => server.app.inject({
    method: 'POST', url: '/api/system/update/bundle', payload: body, headers: { ...as, 'content-type': 'application/octet-stream' },
  });
  const status = async () => (await server.app.inject({ method: 'GET', url: '/api/system/update', headers: root })).json();
  const install = (reboot: boolean, as = root) => server.app.inject({ method: 'POST', url: '/api/system/update/bundle/install', payload: { reboot }, headers: as });
  const kept = path.join(dataDir, 'updates', 'upload.raucb');

  t.is((await upload(standInBundle(), alice)).statusCode, 403);
  t.is((await install(true)).statusCode, 409, 'nothing uploaded yet');

  const refused = await upload(standInBundle({ unsigned: true }));
  t.is(refused.statusCode, 400);
  t.is(refused.json().error.message, 'The update bundle was refused: Failed to verify bundle signature: signature verification failed: no certificate matches');
  await t.throwsAsync(stat(kept));
  t.is((await status()).bundle, null);

  const body = standInBundle({ version: '0.2.0', description: 'Mailmoat 0.2.0: queue page, faster export', size: 64 * 1024 });
  const checked = await upload(body);
  t.is(checked.statusCode, 200, checked.body);
  t.like(checked.json().bundle, { version: '0.2.0', description: 'Mailmoat 0.2.0: queue page, faster export', compatible: 'mailmoat-amd64', size: body.length });
  t.like((await status()), { booted: 'B', install: null, bundle: { version: '0.2.0' } }, 'a reload of the page shows the bundle waiting');
  t.is((await stat(kept)).size, body.length);

  // Discarded, then uploaded again and installed with the reboot.
  t.is((await server.app.inject({ method: 'DELETE', url: '/api/system/update/bundle', headers: root })).statusCode, 200);
  await t.throwsAsync(stat(kept));
  t.is((await status()).bundle, null);
  t.is((await upload(body)).statusCode, 200);
  t.is((await install(true, alice)).statusCode, 403);
  const started = await install(true);
  t.is(started.statusCode, 202, started.body);
  const done = await until(async () => { const s = await status(); return s.install.state === 'installing' ? undefined : s; });
  t.like(done, { bundle: null, install: { state: 'installed', slot: 'A', version: '0.2.0', rebooting: true } });
  t.regex(await readFile(path.join(dataDir, 'updates', 'reboot-request'), 'utf8'), /to start system A \(0\.2\.0\)/);
  await t.throwsAsync(stat(kept));
  t.is((await install(true)).statusCode, 409, 'the bundle was used up');

  const actions = (await server.app.inject({ method: 'GET', url: '/api/audit?limit=50', headers: root })).json().items.map((r: { action: string }) => r.action);
  for (const action of ['POST /api/system/update/bundle', 'DELETE /api/system/update/bundle', 'POST /api/system/update/bundle/install', 'update.installed']) {
    t.true(actions.includes(action), `${action} is not in the audit log: ${actions}`);
  }
});

test('while a new slot is on trial settings are held, restores too, with a message that says why; once its check passes they change', async (t) => {
  const cmdline = 'root=PARTUUID=y rauc.slot=B ro';
  const h = await makeConsole(t, { config: { domains: [] }, deps: () => ({ updates: { rauc: '/nonexistent/rauc', cmdline } }) });
  const { server, dataDir } = h;
  server.context.config.guard(trialGuard(dataDir, async () => cmdline));
  const { root } = await adminAndDomainAdmin(h);
  const addDomain = (name: string) => server.app.inject({ method: 'POST', url: '/api/domains', headers: root,
    payload: { name, routes: [{ host: '192.0.2.25', port: 25 }] } });
  const until = new Date(Date.now() + 10 * 60_000).toISOString();
  await writeRecord(dataDir, 'slot-check.json', JSON.stringify({ slot: 'B', version: '0.2.0', result: 'checking', fallbackUntil: until, at: new Date().toISOString() }));

  const held = await addDomain('held.example');
  t.is(held.statusCode, 409, held.body);
  t.like(held.json().error, { code: 'update-on-trial', key: 'api.update-on-trial', params: { slot: 'B', version: '0.2.0', until } });
  t.regex(held.json().error.message, /System B \(0\.2\.0\) has just been installed and is still being checked/);
  t.deepEqual(server.context.config.current.domains, [], 'nothing was stored');
  // A restore replaces the settings (and the store) too: held the same way, before the archive is read.
  const restore = await server.app.inject({ method: 'POST', url: '/api/system/restore',
    headers: { ...root, 'content-type': BACKUP_MEDIA_TYPE, 'x-mailmoat-passphrase': 'correct horse battery' }, payload: Buffer.from('not read') });
  t.is(restore.statusCode, 409, restore.body);
  t.is(restore.json().error.code, 'update-on-trial');

  await writeRecord(dataDir, 'slot-check.json', JSON.stringify({ slot: 'B', version: '0.2.0', result: 'good', at: new Date().toISOString() }));
  const added = await addDomain('held.example');
  t.is(added.statusCode, 201, added.body);
  t.deepEqual(server.context.config.current.domains.map((d) => d.name), ['held.example']);
});
