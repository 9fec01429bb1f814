// Setup mode: only the wizard is reachable, it needs the setup code, finishing it configures the
// appliance and logs the new admin in, and afterwards the wizard is gone for good.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { makeConsole } from '../helpers/console-api.ts';

const wizard = (port: number) => ({
  language: 'ja',
  admin: { username: 'admin', password: 'a very long secret' },
  hostname: 'mx.customer.example',
  timezone: 'Asia/Tokyo',
  ntpServers: ['ntp.nict.jp'],
  domain: { name: 'customer.example', host: '127.0.0.1', port },
  tls: { mode: 'generated' },
  contact: 'postmaster@customer.example',
});

test('setup mode: claim with the code, preview, finish; the wizard is gone afterwards', async (t) => {
  const h = await makeConsole(t, { setupDone: false });
  // A fake customer mail server for the live route test.
  const smtp = net.createServer((s) => {
    s.write('220 sink ESMTP\r\n');
    s.on('data', (d) => s.write(/^QUIT/i.test(d.toString()) ? '221 bye\r\n' : '250 ok\r\n'));
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  t.teardown(() => smtp.close());
  const port = (smtp.address() as net.AddressInfo).port;

  t.deepEqual((await h.request('GET', '/api/status')).json, { setup: true, language: 'ja' });
  t.is((await h.request('GET', '/api/domains')).status, 409);
  t.is((await h.request('GET', '/api/setup/defaults')).status, 401);

  const fresh = await h.server.context.setup.ensureCode();
  const code = (await readFile(path.join(h.dataDir, 'setup-code'), 'utf8')).trim();
  t.is(fresh, code);
  t.is((await h.request('POST', '/api/setup/claim', { body: { code: 'WRONG-CODE' } })).status, 401);
  const claim = await h.server.app.inject({ method: 'POST', url: '/api/setup/claim', payload: { code: code.toLowerCase() } });
  t.is(claim.statusCode, 200);
  const wiz = { cookie: `mm_session=${claim.cookies[0].value}`, csrf: claim.json().csrfToken };

  const defaults = await h.request('GET', '/api/setup/defaults', { as: wiz });
  t.is(defaults.json.timezone, 'Asia/Tokyo');
  t.true(defaults.json.timezones.includes('Asia/Tokyo'));
  t.regex(defaults.json.certificate.fingerprint256, /:/);

  const good = await h.request('POST', '/api/setup/test-route', { as: wiz, body: { host: '127.0.0.1', port } });
  t.true(good.json.ok);
  t.regex(good.json.greeting, /sink ESMTP/);
  // What went wrong comes in the wizard's language (its Accept-Language), with its key.
  const closed = await h.request('POST', '/api/setup/test-route', { as: wiz, body: { host: '127.0.0.1', port: 1 } });
  t.false(closed.json.ok);
  t.deepEqual(closed.json.problem, { key: 'route-test.refused', message: 'connection refused (nothing listens on that port)' });
  const closedJa = await h.request('POST', '/api/setup/test-route', { as: wiz, body: { host: '127.0.0.1', port: 1 }, headers: { 'accept-language': 'ja' } });
  t.is(closedJa.json.problem.message, '接続を拒否されました（そのポートで待ち受けているものがありません）');
  // A server that refuses the session: its reply is quoted inside the localized text.
  const refusing = net.createServer((s) => { s.end('554 5.7.1 no service here\r\n'); });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
  t.teardown(() => refusing.close());
  const refusedJa = await h.request('POST', '/api/setup/test-route', { as: wiz, headers: { 'accept-language': 'ja,en;q=0.5' },
    body: { host: '127.0.0.1', port: (refusing.address() as net.AddressInfo).port } });
  t.false(refusedJa.json.ok);
  t.is(refusedJa.json.problem.key, 'route-test.session-refused');
  t.is(refusedJa.json.problem.message, 'サーバーがセッションを拒否しました: 554 5.7.1 no service here');
  t.regex(refusedJa.json.greeting, /^554 /);

  const bad = await h.request('POST', '/api/setup/preview', { as: wiz, body: { ...wizard(port), hostname: '', contact: 'nobody', admin: { username: 'admin', password: 'short' }, domain: { name: 'not a domain', host: 'x', port } } });
  t.is(bad.status, 400);
  const paths = bad.json.problems.map((p: { path: string }) => p.path);
  for (const p of ['/admin/password', '/contact', '/domain/name']) t.true(paths.includes(p), `${p} in ${paths}`);

  const preview = await h.request('POST', '/api/setup/preview', { as: wiz, body: wizard(port) });
  t.is(preview.status, 200);
  t.true(preview.json.dns.some((r: { type: string; name: string; value: string }) => r.type === 'MX' && r.name === 'customer.example.' && r.value === '10 mx.customer.example.'));
  t.true(preview.json.dns.some((r: { value: string }) => r.value === 'v=spf1 include:mx.customer.example ~all'));

  const finish = await h.server.app.inject({ method: 'POST', url: '/api/setup/finish', payload: wizard(port), headers: { cookie: wiz.cookie, 'x-csrf-token': wiz.csrf } });
  t.is(finish.statusCode, 200, finish.body);
  const cfg = h.server.context.config.current;
  t.is(cfg.hostname, 'mx.customer.example');
  t.is(cfg.domains[0].routes[0].port, port);
  t.is(cfg.postmaster, 'postmaster@customer.example');
  t.is(cfg.console.language, 'ja');
  t.deepEqual(cfg.time, { timezone: 'Asia/Tokyo', ntpServers: ['ntp.nict.jp'] });
  const admin = { cookie: `mm_session=${finish.cookies[0].value}`, csrf: finish.json().csrfToken };
  t.is((await h.request('GET', '/api/session', { as: admin })).json.user.role, 'admin');
  t.is((await h.request('GET', '/api/domains', { as: admin })).json.items.length, 1);

  // The wizard cannot be reached again, not even with the old setup session or the old code.
  t.false((await h.request('GET', '/api/status')).json.setup);
  t.is((await h.request('GET', '/api/setup/defaults', { as: wiz })).status, 410);
  t.is((await h.request('POST', '/api/setup/claim', { body: { code } })).status, 410);
  await t.throwsAsync(readFile(path.join(h.dataDir, 'setup-code')));
});
