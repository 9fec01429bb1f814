// The support bundle (appliance/system/support-bundle.ts): every secret the configuration schema
// can hold is set to a marker, and no marker reaches the archive, while the settings around them
// do; the archive is a real .tar.gz (read back with the system's tar); the console's download is
// for admins only and audited; the serial menu's item writes it into a given folder through the
// daemon's local API socket (a real appliance), and refuses a folder that is not there.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AuditLog } from '../../appliance/api/audit.ts';
import { ConfigSchema } from '../../appliance/config/schema.ts';
import { validateConfig } from '../../appliance/config/validate.ts';
import { supportBundleTo } from '../../appliance/console/api-client.ts';
import { REMOVED, supportBundle, withoutSecrets } from '../../appliance/system/support-bundle.ts';
import { startTestAppliance } from '../helpers/appliance.ts';
import { makeConsole } from '../helpers/console-api.ts';

const M = (n: number) => `SECRET-MARKER-${n}-zq`;
/** A configuration with every secret the schema has set, each to its own marker. */
const SECRET_CONFIG = {
  hostname: 'mx1.example.jp',
  domains: [{ name: 'example.jp', routes: [{ host: '192.0.2.10', port: 25 }] }],
  relay: {
    users: [{ username: 'scanner', passwordHash: `scrypt$${M(1)}` }],
    smarthost: { host: 'smarthost.example', port: 587, username: 'relayuser', password: M(2) },
  },
  system: {
    snmp: { communities: [{ name: M(3), source: '192.0.2.0/24' }], users: [{ name: 'nms', authPassword: M(4), privPassword: M(5) }], trapSinks: [{ host: '192.0.2.9', community: M(6) }] },
    freshclam: { source: 'private', mirrorUrl: `http://mirroruser:${M(7)}@192.0.2.5/clamav`, proxy: { host: 'proxy.example', username: 'fred', password: M(8) } },
    remoteBackup: { enabled: true, host: 'backup.example', username: 'box', password: M(9), privateKey: M(10), passphrase: M(11) },
  },
};

function untar(gz: Buffer): Record<string, string> {
  const tar = gunzipSync(gz);
  const files: Record<string, string> = {};
  for (let at = 0; at + 512 <= tar.length;) {
    const name = tar.subarray(at, at + 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('latin1'), 8);
    files[name.split('/').slice(1).join('/')] = tar.subarray(at + 512, at + 512 + size).toString('utf8');
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

test('no secret of the configuration reaches the bundle; the settings around them do', async (t) => {
  const checked = validateConfig(SECRET_CONFIG);
  if (!checked.ok) return t.fail(JSON.stringify(checked.problems));
  // The test covers the schema: every field named like a secret (and an SNMP community's name) holds a marker above.
  const secretPaths: string[] = [];
  const walk = (schema: Record<string, unknown>, at: string, parent: string) => {
    const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
    if (props) for (const [k, v] of Object.entries(props)) {
      if (/password|passphrase|privatekey|secret|token|community/i.test(k) || (parent === 'communities' && k === 'name')) secretPaths.push(`${at}/${k}`);
      walk(v, `${at}/${k}`, k);
    }
    if (schema.items) walk(schema.items as Record<string, unknown>, `${at}/0`, parent);
    if (Array.isArray(schema.anyOf)) for (const x of schema.anyOf as Record<string, unknown>[]) walk(x, at, parent);
  };
  walk(ConfigSchema as unknown as Record<string, unknown>, '', '');
  t.true(secretPaths.length >= 10, secretPaths.join(' '));
  for (const p of secretPaths) {
    const value = p.split('/').slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], checked.config);
    t.regex(String(value), /SECRET-MARKER-\d+-zq/, `${p} is not covered by this test`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-support-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  await writeFile(path.join(dataDir, 'freshclam.log'), 'Mon Nov 30 10:00:00 2026 -> ClamAV update process started at Mon Nov 30 10:00:00 2026\n');
  const { name, archive } = await supportBundle({ config: checked.config, dataDir, databaseDir: dataDir, queue: { messages: 3, deferred: 1 }, journal: false, now: new Date('2026-11-30T10:15:00Z') });
  t.is(name, 'mailmoat-support-mx1.example.jp-20261130T101500Z.tar.gz');
  const raw = gunzipSync(archive).toString('latin1');
  for (let n = 1; n <= 11; n++) t.false(raw.includes(M(n)), `marker ${n} leaked`);
  const files = untar(archive);
  t.deepEqual(Object.keys(files).sort(), ['README.txt', 'config.json', 'logs/freshclam.log', 'state.json', 'versions.txt']);
  const config = JSON.parse(files['config.json']);
  t.is(config.relay.users[0].passwordHash, REMOVED);
  t.is(config.relay.users[0].username, 'scanner');
  t.is(config.system.snmp.communities[0].name, REMOVED);
  t.is(config.system.snmp.communities[0].source, '192.0.2.0/24');
  t.is(config.system.snmp.users[0].name, 'nms', 'a v3 user name is not a secret');
  t.is(config.system.freshclam.mirrorUrl, `http://${REMOVED}@192.0.2.5/clamav`);
  t.like(config.system.remoteBackup, { host: 'backup.example', username: 'box', password: REMOVED, privateKey: REMOVED, passphrase: REMOVED });
  t.is(config.hostname, 'mx1.example.jp');
  t.like(JSON.parse(files['state.json']), { queue: { messages: 3, deferred: 1 }, freshclam: { lastRun: { ok: true } } });
  t.regex(files['versions.txt'], /^mailmoat \d+\.\d+\.\d+\nnode v24\./);

  // Any key named like a secret anywhere is covered, including ones added later.
  t.deepEqual(withoutSecrets({ a: { apiToken: 'x', nested: [{ clientSecret: 'y', keep: 'z' }] }, empty: { password: '' } }),
    { a: { apiToken: REMOVED, nested: [{ clientSecret: REMOVED, keep: 'z' }] }, empty: { password: '' } });

  // The system's tar reads it.
  const out = path.join(dataDir, 'x');
  await writeFile(path.join(dataDir, name), archive);
  execFileSync('mkdir', [out]);
  execFileSync('tar', ['-xzf', path.join(dataDir, name), '-C', out]);
  t.deepEqual((await readdir(path.join(out, name.replace('.tar.gz', '')))).sort(), ['README.txt', 'config.json', 'logs', 'state.json', 'versions.txt']);
});

test('the console download is for admins only and audited', async (t) => {
  const h = await makeConsole(t, { config: SECRET_CONFIG });
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', ['example.jp']);
  const root = await h.login('root');
  const alice = await h.login('alice');
  t.is((await h.request('POST', '/api/system/support-bundle', { as: alice })).status, 403);
  const res = await h.server.app.inject({ method: 'POST', url: '/api/system/support-bundle', headers: { cookie: root.cookie!, 'x-csrf-token': root.csrf! } });
  t.is(res.statusCode, 200);
  t.is(res.headers['content-type'], 'application/gzip');
  t.regex(String(res.headers['content-disposition']), /attachment; filename="mailmoat-support-mx1\.example\.jp-\d{8}T\d{6}Z\.tar\.gz"/);
  const files = untar(res.rawPayload);
  t.false(JSON.stringify(files).includes('SECRET-MARKER'));
  const audit = (await h.request('GET', '/api/audit?limit=50', { as: root })).json as { items: { action: string; actor: string }[] };
  t.true(audit.items.some((i) => i.action === 'POST /api/system/support-bundle' && i.actor === 'root'));
});

test('the serial menu\'s item writes the bundle into the given folder through the local API', async (t) => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-support-menu-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const socket = path.join(work, 'api.sock');
  const a = await startTestAppliance({ ...SECRET_CONFIG, filtering: { antivirus: { enabled: false } } }, { localSocket: socket });
  t.teardown(() => a.cleanup());
  const usb = path.join(work, 'usb');
  execFileSync('mkdir', [usb]);
  const written = await supportBundleTo(usb, socket);
  t.regex(written.file, new RegExp(`^${usb}/mailmoat-support-mx1\\.example\\.jp-\\d{8}T\\d{6}Z\\.tar\\.gz$`));
  const archive = await readFile(written.file);
  t.is(archive.length, written.bytes);
  const files = untar(archive);
  t.like(JSON.parse(files['state.json']), { queue: { messages: 0 } });
  t.false(JSON.stringify(files).includes('SECRET-MARKER'));
  await t.throwsAsync(supportBundleTo(path.join(work, 'not-mounted'), socket), { message: /is not a folder: mount the USB disk/ });
  const audit = await new AuditLog(a.app.store).search({ limit: 50, visible: () => true });
  t.true(audit.items.some((i) => i.action === 'support bundle' && i.ip === 'serial console'), 'the menu\'s bundle is audited');
});
