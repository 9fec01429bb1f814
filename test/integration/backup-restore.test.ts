// Backup and restore of everything (appliance/backup/): an appliance that took real mail over SMTP
// (a quarantined message, delivered ones, their log), with lists, accounts, a trained model and its
// TLS material, is backed up and restored onto a fresh data folder by the `mailmoat` commands; the
// restored store and files are byte for byte the originals, and the restored daemon finds and
// serves them. A wrong passphrase and a flipped byte are refused with clear errors and leave the
// target as it was. The console routes are for admins only, audited, and the setup wizard takes
// a backup instead of its steps.
import test from 'ava';
import https from 'node:https';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BackupError } from '../../appliance/backup/archive.ts';
import { backupToFile, restoreFromFile, SUBLEVEL_POLICY } from '../../appliance/backup/backup.ts';
import { SetupState } from '../../appliance/api/setup-state.ts';
import { startAppliance } from '../../appliance/main.ts';
import { UserStore } from '../../appliance/api/users.ts';
import { openStore, type SublevelName } from '../../appliance/store/store.ts';
import { BACKUP_MEDIA_TYPE } from '../../appliance/api/routes/backup.ts';
import { eventually, message, startTestAppliance, testConfig, writeConfig } from '../helpers/appliance.ts';
import { startDaemon } from '../helpers/daemon.ts';
import { startClamd, type ClamdInstance } from '../helpers/clamd.ts';
import { makeConsole, withPeople } from '../helpers/console-api.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';
import { runMailmoat as mailmoat } from '../helpers/cli.ts';

const PASS = 'correct horse battery staple';
const BACKED_UP = (Object.keys(SUBLEVEL_POLICY) as SublevelName[]).filter((k) => SUBLEVEL_POLICY[k] === 'backed-up');

let clamd: ClamdInstance;
let dns: DnsServer;
test.before(async () => {
  clamd = await startClamd();
  dns = await startDnsServer({ 'sender.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] } });
});
test.after.always(async () => { await clamd?.stop(); await dns?.close(); });


/** Everything a restore must reproduce: the backed-up store entries and the files, as bytes. */
async function contents(dataDir: string): Promise<{ entries: Map<string, string>; files: Map<string, string> }> {
  const store = await openStore(dataDir);
  const entries = new Map<string, string>();
  try {
    for await (const [k, v] of store.rawEntries(BACKED_UP)) entries.set(k.toString('base64'), v.toString('base64'));
  } finally {
    await store.close();
  }
  const files = new Map<string, string>();
  for (const dir of ['quarantine', 'tls']) {
    for (const name of await readdir(path.join(dataDir, dir)).catch(() => [] as string[])) {
      files.set(`${dir}/${name}`, (await readFile(path.join(dataDir, dir, name))).toString('base64'));
    }
  }
  return { entries, files };
}

test('a populated appliance restores on a fresh data folder with everything equal; bad archives leave the target untouched', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    filtering: { quarantineResponse: 'accept' },
  }, { clamd: clamd.socket, resolver: dns.resolver });
  const fresh = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-restore-'));
  t.teardown(async () => { await a.cleanup(); await sink.stop(); await rm(fresh, { recursive: true, force: true }); });

  await a.app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'example.com', field: 'subject', mode: 'partial', value: 'invoice' });
  await a.app.lists.add({ direction: 'inbound', kind: 'sender-block', scope: 'domain', owner: 'example.com', value: 'spammer@bad.test' });
  await new UserStore(a.app.store).create({ username: 'root', role: 'admin', password: PASS, language: 'en' });
  const spam = Buffer.from(message({ from: 'deals@cheap.test', subject: 'cheap pills now', body: 'buy cheap pills viagra casino winner' }));
  // A large body, so the archive spans many chunks and a late flipped byte comes after staged data.
  const big = Array.from({ length: 4000 }, (_, i) => `line ${i} of the invoice details`).join('\r\n');
  const held = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['bob@example.com'], raw: message({ from: 'friend@sender.test', subject: 'Your INVOICE 42', body: big }) });
  t.true(held.ok, held.response);
  const passed = await sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['bob@example.com'], raw: message({ from: 'friend@sender.test', subject: 'lunch?' }) });
  t.true(passed.ok, passed.response);
  await sink.waitFor(1);
  const [record] = await eventually(async () => { const f = await a.app.quarantine.search({}); return f.length ? f : undefined; });
  await a.app.classifier.train(spam, 'spam');
  const score = (await a.app.classifier.score({ raw: spam } as never)).score;
  await a.app.stop();

  const archive = path.join(fresh, 'box.mmbackup');
  const target = path.join(fresh, 'data');
  const env = { MAILMOAT_BACKUP_PASSPHRASE: PASS };
  const backedUp = await mailmoat(['backup', '--data', a.dataDir, '--out', archive], env);
  t.is(backedUp.code, 0, backedUp.stderr);
  t.is((await stat(archive)).mode & 0o777, 0o600);
  const restored = await mailmoat(['restore', '--data', target, archive], env);
  t.is(restored.code, 0, restored.stderr);
  t.regex(restored.stdout, /restored \d+ store entries and \d+ files/);

  const original = await contents(a.dataDir);
  const copy = await contents(target);
  t.true(original.files.has(`quarantine/${record!.blob}`));
  t.true([...original.files.keys()].some((f) => f.startsWith('tls/')), 'the generated TLS key and certificate travel');
  t.deepEqual([...copy.files.keys()].sort(), [...original.files.keys()].sort());
  t.true([...original.files].every(([k, v]) => copy.files.get(k) === v), 'every file byte for byte');
  t.is(copy.entries.size, original.entries.size);
  t.true([...original.entries].every(([k, v]) => copy.entries.get(k) === v), 'every store entry byte for byte');

  // The restored daemon serves it all: no configuration file, the restored one is used.
  const b = await startAppliance({ dataDir: target, say: () => {}, console: false, starterModel: false, clamd: clamd.socket, resolver: dns.resolver });
  try {
    t.is(b.config.current.domains[0]!.name, 'example.com');
    const again = await b.quarantine.get(record!.id);
    t.is(again?.subject, 'Your INVOICE 42');
    t.true((await readFile(path.join(b.quarantine.dir, again!.blob))).toString().includes('line 3999 of the invoice details'));
    t.is(b.lists.search({ text: 'spammer@bad.test' }).length, 1);
    t.is((await new UserStore(b.store).byName('root'))?.role, 'admin');
    t.is((await b.classifier.score({ raw: spam } as never)).score, score, 'the same model');
    const id = /queued as (\w+)/.exec(passed.response)![1]!;
    t.is((await b.log.get(id))?.recipients[0]?.status, 'delivered');
  } finally {
    await b.stop();
  }

  // A wrong passphrase and a flipped byte late in the archive: refused, the target untouched.
  const before = await contents(target);
  const listing = async () => (await readdir(target)).sort();
  const names = await listing();
  await writeFile(path.join(fresh, 'pass'), 'not the passphrase\n');
  const wrong = await mailmoat(['restore', '--data', target, '--passphrase-file', path.join(fresh, 'pass'), archive]);
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /passphrase is wrong/);
  const bytes = await readFile(archive);
  bytes[bytes.length - 1000]! ^= 0x20;
  const flipped = path.join(fresh, 'flipped.mmbackup');
  await writeFile(flipped, bytes);
  const damaged = await restoreFromFile(target, flipped, PASS).then(() => undefined, (err: unknown) => err);
  t.true(damaged instanceof BackupError && damaged.code === 'damaged', String(damaged));
  t.regex((damaged as Error).message, /damaged or was altered/);
  t.deepEqual(await listing(), names, 'no staging folder is left behind');
  t.deepEqual(await contents(target), before);
});

test('the console routes: admins only, audited, streamed; restore stages and the wizard takes a backup', async (t) => {
  const { h, root, alice, carol } = await withPeople(t);
  const backup = () => h.server.app.inject({ method: 'POST', url: '/api/system/backup', headers: { cookie: root.cookie!, 'x-csrf-token': root.csrf! }, payload: { passphrase: PASS } });
  t.is((await h.request('POST', '/api/system/backup', { as: alice, body: { passphrase: PASS } })).status, 403);
  t.is((await h.request('POST', '/api/system/backup', { as: carol, body: { passphrase: PASS } })).status, 403);
  t.is((await h.request('POST', '/api/system/backup', { body: { passphrase: PASS } })).status, 401);
  const short = await h.request('POST', '/api/system/backup', { as: root, body: { passphrase: 'short' } });
  t.is(short.status, 400);
  t.regex(short.json.error.message, /at least 8 characters/);
  const res = await backup();
  t.is(res.statusCode, 200);
  t.is(res.headers['content-type'], BACKUP_MEDIA_TYPE);
  t.regex(String(res.headers['content-disposition']), /attachment; filename="mailmoat-backup-\d{4}-\d\d-\d\d\.mmbackup"/);
  const archive = res.rawPayload;
  const audit = (await h.request('GET', '/api/audit?limit=50', { as: root })).json.items as { action: string; actor: string }[];
  t.true(audit.some((i) => i.action === 'POST /api/system/backup' && i.actor === 'root'));

  const upload = (url: string, as: { cookie?: string; csrf?: string }, passphrase: string, body: Buffer = archive) => h.request('POST', url, {
    as, body, headers: { 'content-type': BACKUP_MEDIA_TYPE, 'x-mailmoat-passphrase': encodeURIComponent(passphrase) },
  });
  t.is((await upload('/api/system/restore', alice, PASS)).status, 403);
  const wrong = await upload('/api/system/restore', root, 'wrong passphrase');
  t.is(wrong.status, 400);
  t.is(wrong.json.error.code, 'backup-wrong-passphrase');
  t.regex(wrong.json.error.message, /passphrase is wrong/);
  await t.throwsAsync(stat(path.join(h.dataDir, 'restore-staging')));
  const staged = await upload('/api/system/restore', root, PASS);
  t.is(staged.status, 200, JSON.stringify(staged.json));
  t.like(staged.json, { ok: true, restarting: false });
  t.true(staged.json.entries > 0);
  t.truthy(await stat(path.join(h.dataDir, 'restore-staging', 'READY')));

  // A fresh box in setup mode: the wizard's session restores, nobody else.
  const wizard = await makeConsole(t, { setupDone: false });
  const code = await wizard.server.context.setup.ensureCode();
  const claim = await wizard.server.app.inject({ method: 'POST', url: '/api/setup/claim', payload: { code } });
  const session = { cookie: `mm_session=${claim.cookies[0]!.value}`, csrf: claim.json().csrfToken as string };
  const anonymous = await wizard.request('POST', '/api/setup/restore', { body: archive, headers: { 'content-type': BACKUP_MEDIA_TYPE, 'x-mailmoat-passphrase': PASS } });
  t.is(anonymous.status, 401);
  const flipped = Buffer.from(archive);
  flipped[flipped.length - 40]! ^= 1;
  const bad = await wizard.request('POST', '/api/setup/restore', { as: session, body: flipped, headers: { 'content-type': BACKUP_MEDIA_TYPE, 'x-mailmoat-passphrase': PASS } });
  t.is(bad.status, 400);
  t.is(bad.json.error.code, 'backup-damaged');
  await t.throwsAsync(stat(path.join(wizard.dataDir, 'restore-staging')));
  const ok = await wizard.request('POST', '/api/setup/restore', { as: session, body: archive, headers: { 'content-type': BACKUP_MEDIA_TYPE, 'x-mailmoat-passphrase': PASS } });
  t.is(ok.status, 200, JSON.stringify(ok.json));
  t.truthy(await stat(path.join(wizard.dataDir, 'restore-staging', 'READY')));
});

/** One HTTPS request to the daemon's console (self-signed certificate). */
function call(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<{ status: number; json: any; cookies: string[] }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? 'GET', headers: opts.headers, rejectUnauthorized: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = text; }
        resolve({ status: res.statusCode ?? 0, json, cookies: (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!) });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('a fresh daemon in setup mode takes a backup in the wizard, restarts by itself onto it and serves it', async (t) => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-wizard-restore-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  // The box that was backed up: a domain, an admin, setup finished.
  const source = await startTestAppliance({ domains: [{ name: 'restored.example', routes: [{ host: '127.0.0.1', port: 2525 }] }] }, { clamd: clamd.socket, resolver: dns.resolver });
  t.teardown(() => source.cleanup());
  await new UserStore(source.app.store).create({ username: 'boss', role: 'admin', password: PASS, language: 'en' });
  await (await SetupState.open(source.app.store, source.dataDir)).complete('test');
  const archive = path.join(work, 'box.mmbackup');
  await backupToFile(source.app.store, source.dataDir, archive, PASS);

  const dataDir = path.join(work, 'data');
  const configFile = await writeConfig(work, testConfig({ domains: [{ name: 'fresh.example', routes: [{ host: '127.0.0.1', port: 2525 }] }] }));
  const daemon = await startDaemon(configFile, dataDir);
  t.teardown(async () => { daemon.child.kill('SIGTERM'); await daemon.exited; });
  const [, url, code] = /console: setup mode — open (https:\/\/\S+?) and enter the setup code (\S+)/.exec(daemon.output())!;
  const claim = await call(`${url}api/setup/claim`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  t.is(claim.status, 200, JSON.stringify(claim.json));
  const restored = await call(`${url}api/setup/restore`, { method: 'POST', body: await readFile(archive), headers: {
    cookie: claim.cookies.join('; '), 'x-csrf-token': claim.json.csrfToken, 'content-type': BACKUP_MEDIA_TYPE, 'x-mailmoat-passphrase': encodeURIComponent(PASS),
  } });
  t.is(restored.status, 200, JSON.stringify(restored.json));
  t.true(restored.json.restarting);

  // The same process restarts, swaps the backup in and leaves setup mode.
  const again = await eventually(() => /restored the backup of [\s\S]*console: listening on (https:\/\/\S+)/.exec(daemon.output())?.[1], 60_000);
  t.regex(daemon.output(), /restarting to apply the restored backup/);
  t.is(daemon.child.exitCode, null);
  t.like((await call(`${again}api/status`)).json, { setup: false });
  const login = await call(`${again}api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'boss', password: PASS }) });
  t.is(login.status, 200, 'the restored admin logs in');
  t.deepEqual(await readdir(path.join(dataDir, 'quarantine')), await readdir(path.join(source.dataDir, 'quarantine')));
});
