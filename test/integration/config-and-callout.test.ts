// Configuration as code (a bad file is refused whole, listing every problem, and the stored
// configuration stays) and recipient verification by callout to the domain's own server.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import test from 'ava';
import { ConfigError, ConfigService } from '../../appliance/config/config-service.ts';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { openStore } from '../../appliance/store/store.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { rawSession, sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

test('a bad configuration file is refused with every problem listed and the stored one is kept', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const good = path.join(dir, 'good.yaml');
  await writeFile(good, 'hostname: mx.example.com\ndomains:\n  - name: example.com\n    routes: [{ host: 10.0.0.5, port: 25 }]\n');
  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, [
    'hostname: mx.example.com',
    'listeners: { inbound: { port: 70000 } }',
    'domains:',
    '  - name: not_a_domain',
    '    routes: []',
    'limits: { maxMessageBytes: 9999999999 }',
    'colour: blue',
  ].join('\n'));

  const store = await openStore(dir);
  await ConfigService.open(store, good);
  const err = await t.throwsAsync(ConfigService.open(store, bad), { instanceOf: ConfigError });
  const paths = (err as ConfigError).problems.map((p) => p.path);
  for (const expected of ['/listeners/inbound/port', '/domains/0/name', '/domains/0/routes', '/limits/maxMessageBytes', '/']) {
    t.true(paths.includes(expected), `problem reported at ${expected}: ${paths.join(', ')}`);
  }
  t.regex(err!.message, /unknown key\(s\): colour/);
  t.regex(err!.message, /Nothing was changed/);
  const kept = await ConfigService.open(store);
  t.is(kept.current.domains[0].name, 'example.com', 'the stored configuration is untouched');
  t.is(kept.current.domains[0].routes[0].host, '10.0.0.5');
  await store.close();

  // The same through the command line: non-zero exit, problems on stderr.
  const node = path.join(root, 'node_modules/.bin/node');
  const check = await run(node, [path.join(root, 'bin/mailmoat.js'), 'check-config', bad]).catch((e: { code: number; stderr: string }) => e);
  t.is((check as { code: number }).code, 1);
  t.regex((check as { stderr: string }).stderr, /\/domains\/0\/name: has the wrong form/);
  const ok = await run(node, [path.join(root, 'bin/mailmoat.js'), 'check-config', good]);
  t.regex(ok.stdout, /valid \(1 domain/);
});

test('YAML syntax errors and unreadable files are reported, not thrown as stack traces', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const broken = path.join(dir, 'broken.yaml');
  await writeFile(broken, 'domains: [ { name: example.com\n');
  const store = await openStore(dir);
  t.teardown(() => store.close());
  const e1 = await t.throwsAsync(ConfigService.open(store, broken), { instanceOf: ConfigError });
  t.regex(e1!.message, /is not valid YAML or JSON/);
  const e2 = await t.throwsAsync(ConfigService.open(store, path.join(dir, 'missing.yaml')), { instanceOf: ConfigError });
  t.regex(e2!.message, /cannot be read: ENOENT/);
});

test('callout verification asks the route, caches the answer, and tempfails when the route is down', async (t) => {
  const sink = await startSink({ rcptReply: (address) => (address.startsWith('ghost@') ? '550 5.1.1 unknown mailbox' : undefined) });
  const a = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }], recipients: { mode: 'callout' } }],
  }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const known = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['real@example.com'], raw: message() });
  t.true(known.ok, known.response);
  const ghost = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['ghost@example.com'], raw: message() });
  t.is(ghost.code, 550);
  t.regex(ghost.response, /5\.1\.1/);
  await sink.waitFor(1);
  await sink.stop();
  // Cached answers keep working while the route is down; a new address cannot be verified: 451.
  const cached = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['real@example.com'], raw: message() });
  t.true(cached.ok, cached.response);
  const cachedGhost = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['ghost@example.com'], raw: message() });
  t.is(cachedGhost.code, 550);
  const unverifiable = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['new@example.com'], raw: message() });
  t.is(unverifiable.code, 451);
});

/** The names in the certificate the listener offers after STARTTLS. */
async function starttlsNames(port: number): Promise<string | undefined> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let text = '';
  const reply = () => new Promise<void>((resolve, reject) => {
    const check = () => { if (/^\d{3} [^\n]*\n/m.test(text)) { socket.off('data', onData); text = ''; resolve(); } };
    const onData = (d: Buffer) => { text += d.toString('latin1'); check(); };
    socket.on('data', onData);
    socket.once('error', reject);
    check();
  });
  await reply();
  socket.write('EHLO client.test\r\n');
  await reply();
  socket.write('STARTTLS\r\n');
  await reply();
  const secure = tls.connect({ socket, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
  const names = secure.getPeerCertificate().subjectaltname;
  secure.destroy();
  return names;
}

test('a new host name reaches the greeting, our Received header, the EHLO of outgoing mail and the STARTTLS certificate without a restart', async (t) => {
  const sink = await startSink();
  const a = await startTestAppliance({ domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }] }, { filter: deliverAll });
  t.teardown(async () => { await a.cleanup(); await sink.stop(); });
  const { app } = a;
  t.true((await sendMail({ port: app.ports().inbound, from: 's@sender.test', to: ['bob@example.com'], raw: message() })).ok);
  const [first] = await sink.waitFor(1);
  t.is(first.helo, 'mx.mailmoat.test');
  t.is(await starttlsNames(app.ports().inbound), 'DNS:mx.mailmoat.test');

  await app.config.replace({ ...app.config.current, hostname: 'mx2.example.test' });
  // The listeners restart for it (on new ports here, as the test configuration asks for port 0).
  const inboundPort = () => { try { return app.ports().inbound; } catch { return undefined; } }; // none while closing
  const greeting = await eventually(async () => {
    const port = inboundPort();
    const [banner] = port ? await rawSession(port, ['QUIT']) : [];
    return banner?.includes('mx2.example.test') ? banner : undefined;
  });
  t.is(greeting, '220 mx2.example.test ESMTP Mailmoat');
  // The generated certificate is made again for the new name (a client checking names would refuse the old one).
  t.is(await starttlsNames(app.ports().inbound), 'DNS:mx2.example.test');
  t.true((await sendMail({ port: app.ports().inbound, from: 's@sender.test', to: ['bob@example.com'], raw: message() })).ok);
  const [, second] = await sink.waitFor(2);
  t.is(second.helo, 'mx2.example.test', 'delivery greets with the new name (no connection of the old one reused)');
  t.regex(second.raw.toString(), /^Received: from client\.test [^\n]*\n\tby mx2\.example\.test \(Mailmoat\)/);
});
