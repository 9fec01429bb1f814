// freshclam's settings and failures (appliance/system/freshclam.ts), with Debian's real freshclam
// against a loopback HTTP mirror and a loopback proxy that takes CONNECT with credentials (as
// freshclam uses a proxy): a private mirror without the official databases fails, and the failure
// is read from freshclam's log (console dashboard, two-day warning); the extra database the mirror
// serves arrives through the proxy, freshclam has the real clamd reload (NotifyClamd), and clamd
// detects its signature. Mail sent while clamd reloads is accepted, not refused.
// Official .cvd files cannot be built here (they carry ClamAV's signature), so the successful run
// uses source "offline" (official databases excluded) with a custom database URL.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigService } from '../../appliance/config/config-service.ts';
import { validateConfig } from '../../appliance/config/validate.ts';
import { createConsoleServer } from '../../appliance/api/server.ts';
import { reload, scan } from '../../appliance/pipeline/clamd-client.ts';
import { openStore } from '../../appliance/store/store.ts';
import { freshclamBase, freshclamStatus, FreshclamWatch, parseFreshclamLog, renderFreshclamSettings } from '../../appliance/system/freshclam.ts';
import type { FreshclamSettings } from '../../appliance/config/schema.ts';
import { message, startTestAppliance } from '../helpers/appliance.ts';
import { startClamd, type ClamdInstance } from '../helpers/clamd.ts';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.ts';
import { PASSWORD } from '../helpers/console-api.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const FRESHCLAM = '/usr/bin/freshclam';
const FRESH_STRING = 'MAILMOAT-MIRROR-FRESH-SIGNATURE';
const MIRROR_NDB = `Mailmoat.Test.Mirror:0:*:${Buffer.from(FRESH_STRING).toString('hex')}\n`;

interface Loopback { mirror: number; proxy: number; requests: string[]; connects: { target: string; auth?: string }[]; close(): Promise<void> }

/** The mirror serves mailmoat-mirror.ndb only (no daily.cvd); the proxy tunnels CONNECT for anyone with credentials. */
async function startLoopback(): Promise<Loopback> {
  const requests: string[] = [];
  const connects: Loopback['connects'] = [];
  const mirror = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/mailmoat-mirror.ndb') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'last-modified': new Date(Date.now() - 60_000).toUTCString() });
      res.end(MIRROR_NDB);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const proxy = http.createServer((_req, res) => { res.writeHead(405); res.end(); });
  const sockets = new Set<net.Socket>();
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const auth = req.headers['proxy-authorization'];
    connects.push({ target: req.url ?? '', ...(auth ? { auth } : {}) });
    if (auth !== `Basic ${Buffer.from('fred:pr0xy-pass').toString('base64')}`) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); }
  });
  await Promise.all([mirror, proxy].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  return {
    mirror: (mirror.address() as AddressInfo).port, proxy: (proxy.address() as AddressInfo).port, requests, connects,
    async close() {
      for (const s of sockets) s.destroy();
      mirror.closeAllConnections();
      await Promise.all([mirror, proxy].map((s) => new Promise((r) => s.close(r))));
    },
  };
}

/** Settings as the configuration validates them (defaults filled in). */
function settings(freshclam: Record<string, unknown>): FreshclamSettings {
  const result = validateConfig({ system: { freshclam } });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config.system.freshclam;
}

/** One real freshclam run with the rendered settings under the test's fixed lines; its exit code. */
async function runFreshclam(dir: string, clamd: ClamdInstance, s: FreshclamSettings): Promise<{ code: number; output: string }> {
  const conf = path.join(dir, 'freshclam.conf');
  await writeFile(conf, freshclamBase({ databaseDir: clamd.databaseDir, logFile: path.join(clamd.databaseDir, 'freshclam.log'), clamdConf: clamd.config })
    + `DatabaseOwner ${os.userInfo().username}\n` + renderFreshclamSettings(s));
  // freshclam refuses a file holding a proxy password that others may read.
  await chmod(conf, 0o600);
  return new Promise((resolve) => {
    execFile(FRESHCLAM, [`--config-file=${conf}`, '--foreground=true', '--no-warnings'], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, output: stdout + stderr });
    });
  });
}

let clamd: ClamdInstance;
let loop: Loopback;
let dns: DnsServer;
let work: string;
test.before(async () => {
  if (!existsSync(FRESHCLAM)) throw new Error(`${FRESHCLAM} is missing: run scripts/install-test-deps.sh (package clamav-freshclam)`);
  clamd = await startClamd();
  loop = await startLoopback();
  dns = await startDnsServer({});
  work = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-freshclam-'));
});
test.after.always(async () => { await clamd?.stop(); await loop?.close(); await dns?.close(); await rm(work, { recursive: true, force: true }); });

test.serial('the settings render freshclam.conf lines; a private mirror needs its URL', (t) => {
  t.is(renderFreshclamSettings(settings({})), '# Written by the Mailmoat daemon from system.freshclam in its configuration; do not edit.\nDatabaseMirror database.clamav.net\nChecks 12\n');
  t.is(renderFreshclamSettings(settings({ source: 'private', mirrorUrl: 'http://192.0.2.5/clamav', checksPerDay: 4, proxy: { host: 'proxy.example', port: 8080, username: 'u', password: 'p' } })).split('\n').slice(1).join('\n'),
    'PrivateMirror http://192.0.2.5/clamav\nHTTPProxyServer proxy.example\nHTTPProxyPort 8080\nHTTPProxyUsername u\nHTTPProxyPassword p\nChecks 4\n');
  const missing = validateConfig({ system: { freshclam: { source: 'private' } } });
  t.false(missing.ok);
  t.like(!missing.ok && missing.problems[0], { path: '/system/freshclam/mirrorUrl' });
  t.false(validateConfig({ system: { freshclam: { proxy: { host: 'a b' } } } }).ok, 'white space would split freshclam.conf\'s words');
  t.false(validateConfig({ system: { freshclam: { customUrls: ['file:///etc/shadow'] } } }).ok, 'only http(s) URLs');
});

test.serial('a private mirror without the daily database: freshclam fails, the log says why, the console and the two-day warning show it', async (t) => {
  const run = await runFreshclam(work, clamd, settings({ source: 'private', mirrorUrl: `http://127.0.0.1:${loop.mirror}` }));
  t.not(run.code, 0, run.output);
  t.true(loop.requests.some((r) => r.startsWith('/daily.c')), 'freshclam asked the private mirror for daily');
  const status = await freshclamStatus(clamd.databaseDir);
  t.false(status.lastRun?.ok, JSON.stringify(status));
  t.regex(status.lastRun?.error ?? '', /Failed to find daily database using server http:\/\/127\.0\.0\.1/);
  t.is(status.failuresInARow, 1);
  t.false(status.failingLong, 'it failed just now');

  // Two days and an hour later, still failing: one warning, then nothing more while it stays so.
  const later = Date.parse(status.failingSince!) + 49 * 3600_000;
  const watch = new FreshclamWatch();
  const warning = watch.update(await freshclamStatus(clamd.databaseDir, later));
  t.true(warning?.failing);
  t.regex(warning?.message ?? '', /freshclam has been failing since .* \(1 checks in a row\): .*Failed to find daily database/);
  t.is(watch.update(await freshclamStatus(clamd.databaseDir, later)), undefined);

  // The console's dashboard and signature status, for the admin.
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-freshclam-api-'));
  const store = await openStore(dataDir);
  const config = await ConfigService.open(store);
  const server = await createConsoleServer({ store, config, dataDir, log: () => undefined, clamav: { databaseDir: clamd.databaseDir, clamd: clamd.socket } });
  t.teardown(async () => { await server.close(); await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  await server.context.setup.complete('test');
  await server.context.users.create({ username: 'root', role: 'admin', password: PASSWORD, language: 'en' });
  const login = await server.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'root', password: PASSWORD } });
  const cookie = `mm_session=${login.cookies.find((c) => c.name === 'mm_session')!.value}`;
  const dashboard = (await server.app.inject({ method: 'GET', url: '/api/dashboard', headers: { cookie } })).json();
  t.like(dashboard.freshclam, { failuresInARow: 1, lastRun: { ok: false } });
  const sigs = (await server.app.inject({ method: 'GET', url: '/api/system/signatures', headers: { cookie } })).json();
  t.regex(sigs.freshclam.lastRun.error, /Failed to find daily database/);
});

test.serial('an extra database through the proxy with credentials: downloaded, clamd reloads and detects it; the failure streak ends', async (t) => {
  const s = settings({
    source: 'offline', customUrls: [`http://127.0.0.1:${loop.mirror}/mailmoat-mirror.ndb`],
    proxy: { host: '127.0.0.1', port: loop.proxy, username: 'fred', password: 'pr0xy-pass' },
  });
  t.is((await scan(clamd.socket, { data: Buffer.from(`x ${FRESH_STRING} x`) }, 10_000)).status, 'clean', 'not known before the update');
  const run = await runFreshclam(work, clamd, s);
  t.is(run.code, 0, run.output);
  t.deepEqual(loop.connects.at(-1), { target: `127.0.0.1:${loop.mirror}`, auth: `Basic ${Buffer.from('fred:pr0xy-pass').toString('base64')}` }, 'through the proxy, with its credentials');
  t.is(await readFile(path.join(clamd.databaseDir, 'mailmoat-mirror.ndb'), 'utf8'), MIRROR_NDB);
  const status = await freshclamStatus(clamd.databaseDir);
  t.like(status, { lastRun: { ok: true, updated: ['mailmoat-mirror.ndb'] }, failuresInARow: 0, failingLong: false });
  t.is(status.lastSuccessAt, status.lastRun?.startedAt);
  // NotifyClamd made clamd reload (it reloads in the background): the new signature is found.
  let found: Awaited<ReturnType<typeof scan>> | undefined;
  for (let i = 0; i < 300 && found?.status !== 'infected'; i++) {
    found = await scan(clamd.socket, { data: Buffer.from(`x ${FRESH_STRING} x`) }, 10_000);
    if (found.status !== 'infected') await new Promise((r) => setTimeout(r, 100));
  }
  t.like(found, { status: 'infected', virus: 'Mailmoat.Test.Mirror.UNOFFICIAL' });

  // A wrong proxy password: freshclam fails and says why.
  const refused = await runFreshclam(work, clamd, { ...s, proxy: { ...s.proxy, password: 'wrong' } });
  t.not(refused.code, 0);
  const after = await freshclamStatus(clamd.databaseDir);
  t.like(after, { lastRun: { ok: false }, failuresInARow: 1 });
  t.is(after.lastSuccessAt, status.lastSuccessAt);
});

test.serial('mail sent while clamd reloads its databases is accepted, not refused', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }] },
    { clamd: clamd.socket, resolver: dns.resolver });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const send = () => sendMail({ port: a.inbound, from: 'friend@sender.test', to: ['bob@example.com'], raw: message({ to: 'bob@example.com' }) });
  const started = Date.now();
  t.true(await reload(clamd.socket));
  const during = await Promise.all([send(), send(), send()]);
  for (const r of during) t.is(r.code, 250, r.response);
  t.log(`three messages during a clamd reload answered in ${Date.now() - started} ms`);
});

test('parsing: the last block decides, a failure streak counts its checks, the specific error wins', (t) => {
  const log = [
    'Mon Nov 23 10:00:00 2026 -> ClamAV update process started at Mon Nov 23 10:00:00 2026',
    'Mon Nov 23 10:00:01 2026 -> daily.cld updated (version: 27470, sigs: 2000, f-level: 90, builder: x)',
    'Mon Nov 23 12:00:00 2026 -> ClamAV update process started at Mon Nov 23 12:00:00 2026',
    'Mon Nov 23 12:00:01 2026 -> ERROR: Can\'t download daily.cvd from http://mirror.example/daily.cvd',
    'Mon Nov 23 12:00:01 2026 -> ERROR: Update failed.',
    'Mon Nov 23 14:00:00 2026 -> ClamAV update process started at Mon Nov 23 14:00:00 2026',
    'Mon Nov 23 14:00:01 2026 -> ERROR: Database update process failed: Connection failed',
    'Mon Nov 23 14:00:01 2026 -> ERROR: Update failed.',
  ].join('\n');
  const s = parseFreshclamLog(log, Date.parse('2026-11-26T12:00:00'));
  t.is(s.failuresInARow, 2);
  t.is(s.failingSince, new Date('2026-11-23T12:00:00').toISOString());
  t.is(s.lastRun?.error, 'Database update process failed: Connection failed');
  t.is(s.lastSuccessAt, new Date('2026-11-23T10:00:00').toISOString());
  t.is(s.lastFailureAt, new Date('2026-11-23T14:00:00').toISOString());
  t.true(s.failingLong);
  // Working again: no streak, the last failure still known (SNMP's mmFreshclamLastFailureAge, the menu).
  const again = parseFreshclamLog(`${log}\nMon Nov 23 16:00:00 2026 -> ClamAV update process started at Mon Nov 23 16:00:00 2026\n`, Date.parse('2026-11-26T12:00:00'));
  t.like(again, { failuresInARow: 0, failingLong: false, lastFailureAt: new Date('2026-11-23T14:00:00').toISOString() });
  t.is(again.failingSince, undefined);
  t.deepEqual(parseFreshclamLog(''), { failuresInARow: 0, failingLong: false });
});
