// Scheduled backups to an SFTP server (appliance/system/remote-backup.ts) against Debian's real
// sshd on a loopback port (test/helpers/sshd.ts): the archive arrives whole and restores; retention
// removes this appliance's oldest archives and nothing else; the schedule runs a slot once; a wrong
// host key, key or port is refused with a message the admin can act on (logged and mailed) and leaves no file behind;
// the console's "run now" is for admins only and audited.
// Password logins are not tried for real: an sshd can check passwords only against the machine's
// own accounts (PAM/shadow), which a test must not touch.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { restoreFromFile } from '../../appliance/backup/backup.ts';
import { ConfigService } from '../../appliance/config/config-service.ts';
import type { RemoteBackupSettings } from '../../appliance/config/schema.ts';
import { validateConfig } from '../../appliance/config/validate.ts';
import { openStore, type Store } from '../../appliance/store/store.ts';
import { archiveName, RemoteBackup } from '../../appliance/system/remote-backup.ts';
import { makeConsole } from '../helpers/console-api.ts';
import { startSshd, type SshdInstance } from '../helpers/sshd.ts';

const PASS = 'remote backup passphrase';
let sshd: SshdInstance;
test.before(async () => { sshd = await startSshd(); });
test.after.always(async () => { await sshd?.stop(); });

function settings(over: Partial<RemoteBackupSettings> = {}): RemoteBackupSettings {
  const r = validateConfig({ system: { remoteBackup: {
    enabled: true, host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: sshd.clientKey, hostKey: sshd.hostKey,
    path: sshd.uploads, passphrase: PASS, keep: 2, ...over,
  } } });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config.system.remoteBackup;
}

async function appliance(t: { teardown(fn: () => Promise<void>): void }): Promise<{ store: Store; dataDir: string; config: ConfigService }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-rb-'));
  const store = await openStore(dataDir);
  const config = await ConfigService.open(store);
  await config.replace({ hostname: 'mx1.example.jp', time: { timezone: 'Asia/Tokyo' } });
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  return { store, dataDir, config };
}

const clean = async () => { for (const f of await readdir(sshd.uploads)) await rm(path.join(sshd.uploads, f), { force: true }); };

test.serial('archives arrive whole and restore; retention keeps the newest of this appliance and nothing else is touched', async (t) => {
  await clean();
  const { store, dataDir, config } = await appliance(t);
  await writeFile(path.join(sshd.uploads, 'notes.txt'), 'not ours');
  const foreign = archiveName('mx2.example.jp', new Date('2026-01-01T00:00:00Z'));
  await writeFile(path.join(sshd.uploads, foreign), 'another appliance');
  await writeFile(path.join(sshd.uploads, 'mailmoat-backup-mx1.example.jp-20261101T000000Z.mmbackup.part'), 'a broken transfer');
  let now = Date.parse('2026-11-20T17:30:00Z');
  const lines: string[] = [];
  const rb = new RemoteBackup({ store, dataDir, settings: () => settings(), hostname: () => config.current.hostname, timezone: () => 'Asia/Tokyo', say: (l) => lines.push(l), now: () => now });
  const runs = [];
  for (let day = 0; day < 3; day++) {
    runs.push(await rb.run());
    now += 86_400_000;
  }
  for (const r of runs) t.true(r.ok, r.error);
  t.is(runs[0].file, path.posix.join(sshd.uploads, 'mailmoat-backup-mx1.example.jp-20261120T173000Z.mmbackup'));
  t.is(runs[0].hostKey, sshd.hostKey);
  t.deepEqual(runs[2].removed, ['mailmoat-backup-mx1.example.jp-20261120T173000Z.mmbackup']);
  t.deepEqual((await readdir(sshd.uploads)).sort(), [
    foreign, 'mailmoat-backup-mx1.example.jp-20261121T173000Z.mmbackup', 'mailmoat-backup-mx1.example.jp-20261122T173000Z.mmbackup', 'notes.txt',
  ].sort(), 'the broken transfer\'s .part removed, the foreign files kept');
  t.true(runs[2].bytes! > 0);
  t.regex(lines.join('\n'), /backup sent to 127\.0\.0\.1:.*removed 1 older/);
  t.like(await rb.status(), { lastRun: { ok: true, file: runs[2].file } });

  // The archive on the server is a real backup: it restores into a fresh data folder.
  const fresh = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-rb-restore-'));
  t.teardown(() => rm(fresh, { recursive: true, force: true }));
  const restored = await restoreFromFile(fresh, runs[2].file!, PASS);
  t.true(restored.summary.entries > 0);
  const back = await openStore(fresh);
  t.is((await ConfigService.open(back)).current.hostname, 'mx1.example.jp');
  await back.close();
});

test.serial('the schedule runs each slot once, in the appliance\'s time zone; a slot missed while down runs once', async (t) => {
  await clean();
  const { store, dataDir, config } = await appliance(t);
  // 02:30 in Tokyo is 17:30 UTC the day before.
  let now = Date.parse('2026-11-20T17:29:00Z');
  const rb = new RemoteBackup({ store, dataDir, settings: () => settings({ time: '02:30' }), hostname: () => config.current.hostname, timezone: () => 'Asia/Tokyo', say: () => undefined, now: () => now });
  t.like(await rb.tick(), { ok: true }, 'the first tick after enabling sends one (no slot run yet)');
  t.is(await rb.tick(), undefined, 'nothing more before 02:30');
  now = Date.parse('2026-11-20T17:30:00Z');
  t.like(await rb.tick(), { ok: true });
  t.is(await rb.tick(), undefined, 'the slot ran already');
  now = Date.parse('2026-11-23T09:00:00Z');
  t.like(await rb.tick(), { ok: true }, 'three slots missed: one backup');
  t.is(await rb.tick(), undefined);
  t.is((await readdir(sshd.uploads)).length, 2, 'keep 2');
  const off = new RemoteBackup({ store, dataDir, settings: () => settings({ enabled: false }), hostname: () => 'x', timezone: () => 'UTC', say: () => undefined });
  t.is(await off.tick(), undefined, 'disabled: never');
});

test.serial('refusals say what to fix and leave nothing on the server', async (t) => {
  await clean();
  const { store, dataDir, config } = await appliance(t);
  const mailed: string[] = [];
  const attempt = (over: Partial<RemoteBackupSettings>) => new RemoteBackup({ store, dataDir, settings: () => settings(over), hostname: () => config.current.hostname, timezone: () => 'UTC', say: () => undefined,
    notifyFailure: async (text) => { mailed.push(text); } }).run();
  const wrongHostKey = await attempt({ hostKey: `SHA256:${'A'.repeat(43)}` });
  t.false(wrongHostKey.ok);
  t.regex(wrongHostKey.error!, new RegExp(`showed the host key ${sshd.hostKey.replace(/[+/]/g, '\\$&')}, not the configured SHA256:A{43}`));
  const keyDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-rb-key-'));
  t.teardown(() => rm(keyDir, { recursive: true, force: true }));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keyDir, 'k')]);
  const refusedUser = await attempt({ privateKey: await readFile(path.join(keyDir, 'k'), 'utf8') });
  t.false(refusedUser.ok);
  t.regex(refusedUser.error!, new RegExp(`refused user "${sshd.user}": check the password or the key`));
  const closed = await attempt({ port: 1 });
  t.regex(closed.error!, /nothing answers on 127\.0\.0\.1 port 1/);
  const noFolder = await attempt({ path: path.join(sshd.uploads, 'missing') });
  t.false(noFolder.ok);
  t.regex(noFolder.error!, /does not exist|No such file/);
  t.deepEqual(await readdir(sshd.uploads), [], 'no archive or partial file left');
  t.is(mailed.length, 4, 'the admin is told of each failure');
  t.regex(mailed[2], /^The backup to 127\.0\.0\.1 at .* failed: nothing answers on 127\.0\.0\.1 port 1/);
  t.false(validateConfig({ system: { remoteBackup: { enabled: true, host: 'h' } } }).ok, 'enabled without user, credentials and passphrase');
});

test.serial('the console: admins see the last run and run one now (audited); others may not', async (t) => {
  await clean();
  const h = await makeConsole(t, { config: { hostname: 'mx1.example.jp', system: { remoteBackup: { ...settings(), enabled: false } } } });
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', []);
  const root = await h.login('root');
  const alice = await h.login('alice');
  t.deepEqual((await h.request('GET', '/api/system/remote-backup', { as: root })).json, {});
  t.is((await h.request('POST', '/api/system/remote-backup/run', { as: alice })).status, 403);
  const run = await h.request('POST', '/api/system/remote-backup/run', { as: root });
  t.is(run.status, 200);
  t.like(run.json, { ok: true, hostKey: sshd.hostKey });
  t.like((await h.request('GET', '/api/system/remote-backup', { as: root })).json, { lastRun: { ok: true } });
  const audit = (await h.request('GET', '/api/audit?limit=50', { as: root })).json as { items: { action: string; actor: string }[] };
  t.true(audit.items.some((i) => i.action === 'POST /api/system/remote-backup/run' && i.actor === 'root'));
  t.is((await readdir(sshd.uploads)).length, 1);
});
