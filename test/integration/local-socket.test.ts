// The daemon's local API for the console menu, over its unix socket: status (queue, counters,
// disks, setup code), admin password reset through the console's user store, queue flush, the
// socket's mode (0660: its permissions are the authentication), and the menu's status screen.
// The menu speaks the console's language where the terminal can show it, else ASCII English.
import test from 'ava';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callDaemon, type LocalStatus } from '../../appliance/console/api-client.ts';
import { collectStatus, formatStatus } from '../../appliance/console/status.ts';
import { verifyPassword } from '../../appliance/api/passwords.ts';
import { SetupState } from '../../appliance/api/setup-state.ts';
import { UserStore } from '../../appliance/api/users.ts';
import { runMenu } from '../../appliance/console/menu.ts';
import { AuditLog } from '../../appliance/api/audit.ts';
import { startTestAppliance } from '../helpers/appliance.ts';

/** A request the menu's client would never send (a body that is not JSON). */
function rawCall(socketPath: string, method: string, route: string, body: string): Promise<{ status?: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: route, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A terminal that can show Japanese, so the menu's language is the console's. */
const UTF8_TERMINAL = { LANG: 'C.UTF-8', TERM: 'xterm-256color' };
/** The console's language chosen in the wizard: English for the tests that read the English texts. */
const ENGLISH = { console: { language: 'en' } };

test.serial('status, setup code, password reset and flush through the socket', async (t) => {
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-sock-'));
  const socket = path.join(socketDir, 'api.sock');
  // No database installed; freshclam's log holds one failed check.
  const signaturesDir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-sigs-'));
  writeFileSync(path.join(signaturesDir, 'freshclam.log'), [
    'Mon Nov 30 09:00:00 2026 -> ClamAV update process started at Mon Nov 30 09:00:00 2026',
    'Mon Nov 30 09:00:05 2026 -> ERROR: Database update process failed: Connection failed', '',
  ].join('\n'));
  const a = await startTestAppliance({ ...ENGLISH, time: { timezone: 'Asia/Tokyo' } }, { localSocket: socket, signaturesDir });
  try {
    t.is(statSync(socket).mode & 0o777, 0o660);
    writeFileSync(path.join(a.dataDir, 'setup-code'), '1234-5678\n');

    const s = await callDaemon<LocalStatus>('GET', '/status', undefined, socket);
    t.deepEqual(s.queue, { messages: 0, deferred: 0, oldestAgeSeconds: 0 });
    t.is(s.totals.received, 0);
    t.deepEqual(s.disks.map((d) => d.role).sort(), ['data', 'system']);
    t.true(s.disks.every((d) => d.percent > 0 && d.level.length > 0));
    t.deepEqual(s.setup, { pending: true, code: '1234-5678' });
    t.is(s.language, 'en');
    t.is(s.timezone, 'Asia/Tokyo');
    t.like(s.antivirus, { stale: true, freshclam: { failuresInARow: 1, lastRun: { ok: false, error: 'Database update process failed: Connection failed' } } });
    t.is(s.antivirus?.version, undefined, 'no database installed');

    // No admin yet: the reset says what to do instead.
    await t.throwsAsync(callDaemon('POST', '/admin/reset-password', {}, socket), { message: /no console admin yet: finish the setup wizard/ });

    const users = new UserStore(a.app.store);
    const admin = await users.create({ username: 'admin', role: 'admin', password: 'the old password', language: 'en' });
    await users.save({ ...admin, failedLogins: 7, lockedUntil: new Date(Date.now() + 3600_000).toISOString() });
    await (await SetupState.open(a.app.store, a.dataDir)).complete('admin');
    const reset = await callDaemon<{ username: string; password: string }>('POST', '/admin/reset-password', {}, socket);
    t.is(reset.username, 'admin');
    t.regex(reset.password, /^[a-z2-9]{16}$/);
    const after = (await users.byName('admin'))!;
    t.true(await verifyPassword(after.passwordHash, reset.password));
    t.false(await verifyPassword(after.passwordHash, 'the old password'));
    t.is(after.failedLogins, 0);
    t.is(after.lockedUntil, undefined);
    await t.throwsAsync(callDaemon('POST', '/admin/reset-password', { username: 'nobody' }, socket), { message: /"nobody" is not a console admin; admins: admin/ });

    const done = await callDaemon<LocalStatus>('GET', '/status', undefined, socket);
    t.deepEqual(done.setup, { pending: false });
    t.deepEqual(await callDaemon('POST', '/queue/flush', undefined, socket), { flushed: 0 });
    await t.throwsAsync(callDaemon('GET', '/nothing', undefined, socket), { message: /GET \/nothing does not exist/ });
    const notJson = await rawCall(socket, 'POST', '/admin/reset-password', '{"username": ');
    t.deepEqual(notJson, { status: 400, body: { error: 'the body is not JSON', text: { key: 'local.not-json' } } });

    // The menu's status screen reads the same socket.
    const screen = formatStatus(await collectStatus(socket, UTF8_TERMINAL));
    t.regex(screen, /Queue: 0 message\(s\), 0 deferred/);
    t.regex(screen, /Disks:\n {2}\/\S*\s+[\d.]+ %/);
    t.regex(screen, /^Virus signatures: none installed yet/m);
    t.regex(screen, /^freshclam: failing since \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(Asia\/Tokyo\) \(1 checks in a row\): Database update process failed: Connection failed$/m);
  } finally {
    await a.cleanup();
    rmSync(signaturesDir, { recursive: true, force: true });
  }
  t.throws(() => statSync(socket), { code: 'ENOENT' }, 'the socket is removed on stop');
  rmSync(socketDir, { recursive: true, force: true });
});

test.serial('resetting an admin\'s password from the menu ends that admin\'s web console sessions', async (t) => {
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-sock-'));
  const socket = path.join(socketDir, 'api.sock');
  const a = await startTestAppliance({}, { localSocket: socket, console: true });
  t.teardown(async () => { await a.cleanup(); rmSync(socketDir, { recursive: true, force: true }); });
  const server = a.app.console!;
  await server.context.setup.complete('admin');
  for (const username of ['admin', 'other']) await server.context.users.create({ username, role: 'admin', password: 'the old password', language: 'en' });
  const login = async (username: string, password = 'the old password') => {
    const res = await server.app.inject({ method: 'POST', url: '/api/session', payload: { username, password } });
    t.is(res.statusCode, 200, res.body);
    return `mm_session=${res.cookies.find((c) => c.name === 'mm_session')!.value}`;
  };
  const alive = async (cookie: string) => (await server.app.inject({ method: 'GET', url: '/api/session', headers: { cookie } })).statusCode === 200;
  const [first, second, other] = [await login('admin'), await login('admin'), await login('other')];
  t.true(await alive(first));

  const reset = await callDaemon<{ username: string; password: string }>('POST', '/admin/reset-password', { username: 'admin' }, socket);
  t.false(await alive(first), 'a session opened with the old password ends');
  t.false(await alive(second));
  t.true(await alive(other), 'another admin stays logged in');
  t.true(await alive(await login('admin', reset.password)));
});

test.serial('the menu says what to do when the daemon is not running', async (t) => {
  await t.throwsAsync(callDaemon('GET', '/status', undefined, '/nonexistent/api.sock'), { message: /cannot reach the daemon at \/nonexistent\/api\.sock: is the mailmoat service running\?/ });
  const screen = formatStatus(await collectStatus('/nonexistent/api.sock'));
  t.regex(screen, /Mail status unavailable: cannot reach the daemon/);
});

/**
 * Runs the menu on in-memory streams, typing each answer when a question waits for it (a line
 * typed before the question is asked would be lost, as on a terminal); returns all it wrote.
 */
async function menuSession(socket: string, answers: string[], env: NodeJS.ProcessEnv = UTF8_TERMINAL): Promise<string> {
  const previous = process.env.MAILMOAT_API_SOCKET;
  process.env.MAILMOAT_API_SOCKET = socket;
  const input = new PassThrough();
  const output = new PassThrough();
  const queue = [...answers];
  let text = '';
  output.on('data', (d) => {
    text += d;
    if (!text.endsWith(': ')) return;
    const next = queue.shift();
    setImmediate(() => (next === undefined ? input.end() : input.write(`${next}\n`)));
  });
  try {
    await runMenu({ input, output, env });
  } finally {
    if (previous === undefined) delete process.env.MAILMOAT_API_SOCKET;
    else process.env.MAILMOAT_API_SOCKET = previous;
  }
  return text;
}

test.serial('once set up, the menu is locked until a console admin\'s password is given (the web console\'s lockout applies)', async (t) => {
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-sock-'));
  const socket = path.join(socketDir, 'api.sock');
  const a = await startTestAppliance(ENGLISH, { localSocket: socket });
  t.teardown(async () => { await a.cleanup(); rmSync(socketDir, { recursive: true, force: true }); });
  const users = new UserStore(a.app.store);

  // In setup mode nothing needs protecting: every item is offered.
  writeFileSync(path.join(a.dataDir, 'setup-code'), '1234-5678\n');
  const setupScreen = await menuSession(socket, ['3', '0']);
  t.regex(setupScreen, /8\) Factory reset/);
  t.regex(setupScreen, /Setup code: 1234-5678/);

  await users.create({ username: 'admin', role: 'admin', password: 'the right password', language: 'en' });
  await users.create({ username: 'helpdesk', role: 'domain-admin', password: 'a domain admin password', language: 'en', domains: ['example.com'] });
  await (await SetupState.open(a.app.store, a.dataDir)).complete('admin');

  // Locked: the status and safe items only; the others are refused with what to do.
  const locked = await menuSession(socket, ['9', '11', '0']);
  t.regex(locked, /Queue: 0 message\(s\)/, 'the status is shown while locked');
  t.regex(locked, /1\) Status and addresses/);
  t.notRegex(locked, /8\) Factory reset|9\) Reset the web console admin password|11\) Set network/);
  t.regex(locked, /Item 9 needs a console admin's password first \(U\)\./);
  t.regex(locked, /Item 11 needs a console admin's password first \(U\)\./);
  t.notRegex(locked, /New password for/);

  // A wrong password, and a domain admin's right one, do not unlock; an admin's does.
  const tries = await menuSession(socket, ['u', 'admin', 'wrong', 'U', 'helpdesk', 'a domain admin password', 'U', 'admin', 'the right password', '10', '0']);
  t.is(tries.match(/Still locked: wrong user name or password\./g)?.length, 2);
  t.regex(tries, /Unlocked for admin until you log out\./);
  t.regex(tries, /8\) Factory reset/);
  t.regex(tries, /queued message\(s\) are being delivered now/);
  const actions = (await new AuditLog(a.app.store).search({ limit: 10, visible: () => true })).items.map((r) => `${r.actor} ${r.action}`);
  t.deepEqual(actions.slice(0, 3), ['admin menu unlock', 'helpdesk menu unlock failed', 'admin menu unlock failed']);

  // Wrong passwords through the menu count towards the account's lockout, as on the web.
  const wrong = Array.from({ length: 5 }, () => ['U', 'admin', 'wrong']).flat();
  const lockout = await menuSession(socket, [...wrong, 'U', 'admin', 'the right password', '0']);
  t.regex(lockout, /Still locked: the account is locked after repeated wrong passwords; try again in \d+ min\./);
  t.notRegex(lockout, /Unlocked for admin/);
  t.truthy((await users.byName('admin'))!.lockedUntil);
});

test.serial('the menu speaks the language chosen in the wizard, and ASCII English where the terminal cannot show Japanese', async (t) => {
  const socketDir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-sock-'));
  const socket = path.join(socketDir, 'api.sock');
  const a = await startTestAppliance({ console: { language: 'ja' } }, { localSocket: socket });
  t.teardown(async () => { await a.cleanup(); rmSync(socketDir, { recursive: true, force: true }); });
  writeFileSync(path.join(a.dataDir, 'setup-code'), '1234-5678\n');

  const ja = await menuSession(socket, ['3', '9', '', '2', '42', '0'], UTF8_TERMINAL);
  t.regex(ja, /=== Mailmoat メンテナンス ===/);
  t.regex(ja, /キュー: 0 通/);
  t.regex(ja, /^8\) 工場出荷時の状態に戻す/m);
  t.regex(ja, /セットアップコード: 1234-5678/);
  t.regex(ja, /「42」はメニューにありません。/);
  // The daemon's refusal and the diagnostics' findings in Japanese too (from the catalogs).
  t.regex(ja, /パスワードは変更されていません: コンソールの管理者がまだいません。セットアップコードでセットアップウィザードを完了してください/);
  t.regex(ja, /^ {2}\[( OK |失敗)\] ディスク/m);
  t.regex(ja, /^ {2}\[( OK |失敗)\] 経路/m);
  t.notRegex(ja, /Choose 0-13|Factory reset|Queue:|no console admin|the resolvers|root name servers|routing table|filesystems/);

  // The Linux text console and VT serial terminals, and a locale that is not UTF-8, get English in ASCII.
  for (const env of [{ LANG: 'C.UTF-8', TERM: 'linux' }, { LANG: 'ja_JP.UTF-8', TERM: 'vt100' }, { LANG: 'C', TERM: 'xterm-256color' }, { LC_ALL: 'POSIX', LANG: 'ja_JP.UTF-8', TERM: 'xterm' }]) {
    const en = await menuSession(socket, ['3', '9', '', '0'], env);
    t.regex(en, /Choose 0-13: /, JSON.stringify(env));
    t.regex(en, /Setup code: 1234-5678/);
    t.regex(en, /Queue: 0 message\(s\)/);
    t.regex(en, /No password was changed: there is no console admin yet: finish the setup wizard with the setup code/);
    t.true(/^[\x09\x0a\x0d\x20-\x7e]*$/.test(en), `nothing but ASCII on ${JSON.stringify(env)}`);
  }
});
