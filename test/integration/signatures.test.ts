// Virus signature freshness and the offline upload (appliance/system/signatures.ts and its
// routes): versions and age from the .cvd/.cld headers, stale past two days, clamd's loaded version
// from a real clamd; an upload is admin only, checked (name, header, body, no downgrade), written
// atomically beside the databases, replaces the other form of the same database, and reloads clamd.
import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseHeader, signatureStatus, StalenessWatch } from '../../appliance/system/signatures.ts';
import { startClamd, type ClamdInstance } from '../helpers/clamd.ts';
import { adminAndDomainAdmin, makeConsole } from '../helpers/console-api.ts';

const DAY = 24 * 3600 * 1000;

/** A database file as sigtool builds them: a 512-byte space-padded header (its time as "%d %b %Y %H-%M %z"), then the archive. */
function database(version: number, builtAt: number, kind: 'cvd' | 'cld'): Buffer {
  const date = new Date(builtAt).toUTCString().slice(5, 22).replace(':', '-');
  const header = Buffer.alloc(512, ' ');
  header.write(`ClamAV-VDB:${date} +0000:${version}:2048:90:0123456789abcdef0123456789abcdef:X:builder:${Math.floor(builtAt / 1000)}`, 'latin1');
  const archive = Buffer.from('daily.ndb\0'.padEnd(1024, '\0'));
  return Buffer.concat([header, kind === 'cvd' ? gzipSync(archive) : archive]);
}

let clamd: ClamdInstance;
test.before(async () => { clamd = await startClamd(); });
test.after.always(async () => { await clamd?.stop(); });

test('headers give version, count and build time; the newest database decides the age and staleness', async (t) => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  const parsed = parseHeader(database(27470, now - DAY, 'cvd'));
  t.deepEqual(parsed, { version: 27470, signatures: 2048, builtAt: new Date(Math.floor((now - DAY) / 1000) * 1000).toISOString() });
  t.regex(String(parseHeader(Buffer.from('PK\x03\x04 a zip'))), /does not start with a ClamAV database header/);
  t.regex(String(parseHeader(Buffer.from('ClamAV-VDB:x:y'))), /too few fields/);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-sigs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.like(await signatureStatus(dir, undefined, now), { databases: [], stale: true });
  await writeFile(path.join(dir, 'main.cvd'), database(62, now - 300 * DAY, 'cvd'));
  await writeFile(path.join(dir, 'daily.cld'), database(27470, now - 3 * DAY, 'cld'));
  await writeFile(path.join(dir, 'unrelated.txt'), 'x');
  const old = await signatureStatus(dir, 'ClamAV 1.0.7/27470/Fri Nov 27 12:00:00 2026', now);
  t.is(old.databases.length, 2);
  t.is(old.ageSeconds, 3 * 24 * 3600);
  t.true(old.stale, 'three days old');
  t.is(old.loaded, 'ClamAV 1.0.7/27470/Fri Nov 27 12:00:00 2026');
  await writeFile(path.join(dir, 'daily.cld'), database(27471, now - DAY, 'cld'));
  t.false((await signatureStatus(dir, undefined, now)).stale, 'one day old');
});

test('the staleness warning comes once when the signatures turn stale, and once when fresh again', (t) => {
  const watch = new StalenessWatch();
  const fresh = { databases: [], stale: false, newestAt: '2026-11-30T00:00:00.000Z', ageSeconds: 3600 };
  const stale = { databases: [], stale: true, newestAt: '2026-11-27T00:00:00.000Z', ageSeconds: 3 * 86400 };
  t.is(watch.update(fresh), undefined, 'nothing to say at start when fresh');
  t.deepEqual(watch.update(stale), { stale: true, message: 'virus signatures are 3.0 days old (newest built 2026-11-27T00:00:00.000Z): freshclam is failing or the box is offline; check its log, or upload current .cvd files in the console' });
  t.is(watch.update(stale), undefined, 'not again while it stays stale');
  t.like(watch.update(fresh), { stale: false });
  t.regex(new StalenessWatch().update({ databases: [], stale: true })!.message, /no virus signature database is installed/);
});

test('the console: admins read the status with clamd\'s loaded version and upload databases, checked and atomic', async (t) => {
  const h = await makeConsole(t, { deps: async (dir) => {
    await mkdir(path.join(dir, 'clamav'));
    return { clamav: { databaseDir: path.join(dir, 'clamav'), clamd: clamd.socket } };
  } });
  const { server } = h;
  const databaseDir = path.join(h.dataDir, 'clamav');
  const { root, alice } = await adminAndDomainAdmin(h);
  const upload = (file: string, body: Buffer, as = root) => server.app.inject({
    method: 'POST', url: `/api/system/signatures/${file}`, payload: body, headers: { ...as, 'content-type': 'application/octet-stream' },
  });

  const now = Date.now();
  t.is((await upload('daily.cvd', database(27470, now - DAY, 'cvd'), alice)).statusCode, 403);
  const ok = await upload('daily.cvd', database(27470, now - DAY, 'cvd'));
  t.is(ok.statusCode, 200, ok.body);
  t.like(ok.json(), { installed: { file: 'daily.cvd', version: 27470 }, reloaded: true });
  const notGzip = await upload('main.cvd', database(62, now, 'cld'));
  t.is(notGzip.statusCode, 400);
  t.regex(notGzip.json().error.message, /compressed archive/);
  const older = await upload('daily.cld', database(27000, now, 'cld'));
  t.is(older.statusCode, 400);
  t.regex(older.json().error.message, /older than the installed daily\.cvd \(version 27470\)/);
  t.is((await upload('evil.cvd', database(1, now, 'cvd'))).statusCode, 400);
  t.is((await upload('daily.cvd', Buffer.from('not a database at all'))).statusCode, 400);
  // A .cld of a newer version replaces the .cvd; no temporary file is left behind.
  t.is((await upload('daily.cld', database(27471, now, 'cld'))).statusCode, 200);
  t.deepEqual(await readdir(databaseDir), ['daily.cld']);
  t.true((await readFile(path.join(databaseDir, 'daily.cld'))).subarray(0, 11).equals(Buffer.from('ClamAV-VDB:')));

  const status = await server.app.inject({ method: 'GET', url: '/api/system/signatures', headers: root });
  t.is(status.statusCode, 200);
  t.like(status.json(), { stale: false, databases: [{ file: 'daily.cld', version: 27471 }] });
  t.regex(status.json().loaded, /^ClamAV \d+\.\d+/);
  const dashboard = await server.app.inject({ method: 'GET', url: '/api/dashboard', headers: root });
  t.like(dashboard.json().signatures, { stale: false, databases: [{ file: 'daily.cld' }] });
  t.is((await server.app.inject({ method: 'GET', url: '/api/dashboard', headers: alice })).json().signatures, null);
});
