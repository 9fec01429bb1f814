// Role and scope rules of the console API: every route admits only its roles, and a domain admin
// or mailbox user can never reach another domain's or mailbox's data, however the request is made.
import test from 'ava';
import { makeConsole, TWO_DOMAINS, withPeople, type Caller, type Harness } from '../helpers/console-api.ts';

const domainBody = (name: string, port = 2600) => ({ name, routes: [{ host: '127.0.0.1', port }] });

test('every API route declares an access rule (undeclared routes are refused at start)', async (t) => {
  const h = await makeConsole(t);
  await t.throwsAsync(async () => {
    const { default: Fastify } = await import('fastify');
    const { installGuard } = await import('../../appliance/api/guard.ts');
    const app = Fastify();
    installGuard(app, h.server.context);
    app.get('/api/undeclared', async () => 'open');
    await app.ready();
  }, { message: /declares no access rule/ });
});

test('anonymous callers get 401 on every non-public route', async (t) => {
  const { h } = await withPeople(t);
  for (const [method, url] of [['GET', '/api/session'], ['GET', '/api/users'], ['GET', '/api/domains'], ['GET', '/api/domains/a.example'],
    ['PUT', '/api/domains/a.example'], ['GET', '/api/audit'], ['GET', '/api/tokens'], ['POST', '/api/users']] as const) {
    const res = await h.request(method, url, { body: method === 'GET' ? undefined : {} });
    t.is(res.status, 401, `${method} ${url}`);
  }
});

test('role matrix: who may call what', async (t) => {
  const { h, root: admin, alice: domA, carol: userA } = await withPeople(t);
  type Row = [method: string, url: string, body: unknown, allowed: { admin: boolean; domA: boolean; userA: boolean }];
  const rows: Row[] = [
    ['GET', '/api/users', undefined, { admin: true, domA: true, userA: false }],
    ['GET', '/api/domains', undefined, { admin: true, domA: true, userA: false }],
    ['GET', '/api/domains/a.example', undefined, { admin: true, domA: true, userA: false }],
    ['GET', '/api/domains/b.example', undefined, { admin: true, domA: false, userA: false }],
    ['PUT', '/api/domains/b.example', domainBody('b.example', 2601), { admin: true, domA: false, userA: false }],
    ['POST', '/api/domains', domainBody('c.example'), { admin: true, domA: false, userA: false }],
    ['POST', '/api/domains/b.example/test-route', { host: '127.0.0.1', port: 9 }, { admin: true, domA: false, userA: false }],
    ['GET', '/api/audit', undefined, { admin: true, domA: true, userA: false }],
    ['GET', '/api/session', undefined, { admin: true, domA: true, userA: true }],
    ['GET', '/api/tokens', undefined, { admin: true, domA: true, userA: true }],
  ];
  const callers: Record<'admin' | 'domA' | 'userA', Caller> = { admin, domA, userA };
  for (const [method, url, body, allowed] of rows) {
    for (const who of ['userA', 'domA', 'admin'] as const) {
      const res = await h.request(method, url, { body, as: callers[who] });
      if (allowed[who]) t.true(res.status < 400, `${who} ${method} ${url} → ${res.status} ${JSON.stringify(res.json)}`);
      else t.is(res.status, 403, `${who} ${method} ${url} → ${res.status}`);
    }
  }
});

test('a domain admin sees and edits only their own domains', async (t) => {
  const { h, alice: domA } = await withPeople(t);
  const list = await h.request('GET', '/api/domains', { as: domA });
  t.deepEqual(list.json.items.map((d: { name: string }) => d.name), ['a.example']);
  const ok = await h.request('PUT', '/api/domains/a.example', { as: domA, body: domainBody('a.example', 2700) });
  t.is(ok.status, 200);
  t.is(ok.json.domain.routes[0].port, 2700);
  // Renaming a domain into another scope is refused, as is adding or deleting domains.
  t.is((await h.request('PUT', '/api/domains/a.example', { as: domA, body: domainBody('b.example') })).status, 403);
  t.is((await h.request('DELETE', '/api/domains/a.example', { as: domA })).status, 403);
  t.is(h.server.context.config.current.domains.length, 2);
});

test('users: a domain admin manages only users of their domains and never admins', async (t) => {
  const { h, alice: domA } = await withPeople(t);
  const list = await h.request('GET', '/api/users', { as: domA });
  t.deepEqual(list.json.items.map((u: { username: string }) => u.username).sort(), ['alice', 'carol@a.example']);
  const create = (body: unknown) => h.request('POST', '/api/users', { as: domA, body });
  t.is((await create({ username: 'erin@a.example', role: 'user', password: 'a long password 1' })).status, 201);
  t.is((await create({ username: 'frank@b.example', role: 'user', password: 'a long password 1' })).status, 403);
  t.is((await create({ username: 'gina', role: 'admin', password: 'a long password 1' })).status, 403);
  t.is((await create({ username: 'hank', role: 'domain-admin', domains: ['b.example'], password: 'a long password 1' })).status, 403);
  t.is((await create({ username: 'ivan', role: 'domain-admin', domains: ['a.example', 'b.example'], password: 'a long password 1' })).status, 403);
  const all = await h.server.context.users.all();
  const byName = (n: string) => all.find((u) => u.username === n)!;
  t.is((await h.request('PATCH', `/api/users/${byName('dave@b.example').id}`, { as: domA, body: { disabled: true } })).status, 403);
  t.is((await h.request('PATCH', `/api/users/${byName('root').id}`, { as: domA, body: { password: 'another long one' } })).status, 403);
  t.is((await h.request('DELETE', `/api/users/${byName('bob').id}`, { as: domA })).status, 403);
  // Widening a user's domains beyond one's own is refused too.
  t.is((await h.request('PATCH', `/api/users/${byName('alice').id}`, { as: domA, body: { domains: ['a.example', 'b.example'] } })).status, 403);
  t.is((await h.request('PATCH', `/api/users/${byName('carol@a.example').id}`, { as: domA, body: { disabled: true } })).status, 200);
});

test('a disabled user loses their session at once', async (t) => {
  const { h, root: admin } = await withPeople(t);
  const carol = await h.login('carol@a.example');
  const id = (await h.server.context.users.byName('carol@a.example'))!.id;
  t.is((await h.request('PATCH', `/api/users/${id}`, { as: admin, body: { disabled: true } })).status, 200);
  t.is((await h.request('GET', '/api/session', { as: carol })).status, 401);
  const again = await h.request('POST', '/api/session', { body: { username: 'carol@a.example', password: 'correct horse battery' } });
  t.is(again.status, 403);
  t.is(again.json.error.code, 'account-disabled');
});

test('API tokens: scoped, read-only enforced, revocable, cannot mint tokens', async (t) => {
  const { h, root: admin, alice: domA } = await withPeople(t);
  const read = await h.request('POST', '/api/tokens', { as: admin, body: { name: 'monitoring', access: 'read' } });
  t.is(read.status, 201);
  const readToken: Caller = { token: read.json.secret };
  t.is((await h.request('GET', '/api/domains', { as: readToken })).json.items.length, 2);
  t.is((await h.request('PUT', '/api/domains/a.example', { as: readToken, body: domainBody('a.example') })).status, 403);

  // An admin token limited to a.example acts as a domain admin of a.example only.
  const limited = await h.request('POST', '/api/tokens', { as: admin, body: { name: 'a only', access: 'write', domains: ['a.example'] } });
  const limitedToken: Caller = { token: limited.json.secret };
  t.is((await h.request('GET', '/api/domains/b.example', { as: limitedToken })).status, 403);
  t.is((await h.request('PUT', '/api/domains/a.example', { as: limitedToken, body: domainBody('a.example', 2800) })).status, 200);
  t.is((await h.request('POST', '/api/tokens', { as: limitedToken, body: { name: 'child', access: 'write' } })).status, 403);

  // A domain admin cannot make a token for a domain that is not theirs.
  const wider = await h.request('POST', '/api/tokens', { as: domA, body: { name: 'x', access: 'write', domains: ['b.example'] } });
  t.is(wider.status, 400);
  t.is(wider.json.problems[0].path, '/domains/0');

  // Another user cannot revoke the admin's token; the admin can, and it stops working.
  t.is((await h.request('DELETE', `/api/tokens/${limited.json.token.id}`, { as: domA })).status, 403);
  t.is((await h.request('DELETE', `/api/tokens/${limited.json.token.id}`, { as: admin })).status, 200);
  t.is((await h.request('GET', '/api/domains', { as: limitedToken })).status, 401);
  t.is((await h.request('GET', '/api/domains', { as: { token: 'mmt_made-up' } })).status, 401);
});

test('CSRF: cookie sessions must echo the CSRF token; cross-origin writes are refused', async (t) => {
  const { h, root: admin } = await withPeople(t);
  const body = domainBody('a.example', 2900);
  const noCsrf = await h.request('PUT', '/api/domains/a.example', { as: { cookie: admin.cookie }, body });
  t.is(noCsrf.status, 403);
  t.is(noCsrf.json.error.code, 'csrf');
  const wrong = await h.request('PUT', '/api/domains/a.example', { as: { cookie: admin.cookie, csrf: 'guess' }, body });
  t.is(wrong.json.error.code, 'csrf');
  const foreign = await h.request('PUT', '/api/domains/a.example', { as: admin, body, headers: { origin: 'https://evil.example', host: 'mx.test.example' } });
  t.is(foreign.json.error.code, 'bad-origin');
  const same = await h.request('PUT', '/api/domains/a.example', { as: admin, body, headers: { origin: 'https://mx.test.example', host: 'mx.test.example' } });
  t.is(same.status, 200);
});

test('login: wrong passwords lock the account; too many attempts from one address are slowed', async (t) => {
  const h: Harness = await makeConsole(t, { config: { ...TWO_DOMAINS, console: { lockoutAttempts: 3, lockoutMinutes: 10 } } });
  await h.addUser('root', 'admin');
  const attempt = (password: string) => h.request('POST', '/api/session', { body: { username: 'root', password } });
  for (let i = 0; i < 3; i++) t.is((await attempt('wrong')).status, 401);
  const locked = await attempt('correct horse battery');
  t.is(locked.status, 423);
  t.is(locked.json.error.code, 'account-locked');
  // The admin could unlock it; here the counter of the whole address runs out instead.
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await attempt('wrong')).status);
  t.is(statuses.at(-1), 429);
  const audit = await (await h.server.context.audit.search({ limit: 50, visible: () => true })).items;
  t.true(audit.some((a) => a.action === 'login failed' && a.detail?.reason === 'wrong password; account locked'));
});

test('sessions end after the idle time', async (t) => {
  const { h, root: admin } = await withPeople(t);
  t.is((await h.request('GET', '/api/session', { as: admin })).status, 200);
  const sessions = h.server.context.store.sublevel<{ lastSeenAt: number }>('sessions');
  for await (const [key, value] of sessions.iterator()) await sessions.put(key, { ...value, lastSeenAt: Date.now() - 31 * 60_000 });
  t.is((await h.request('GET', '/api/session', { as: admin })).status, 401);
});

test('security headers and audit records', async (t) => {
  const { h, root: admin } = await withPeople(t);
  const res = await h.request('GET', '/api/status');
  t.regex(String(res.headers['content-security-policy']), /default-src 'self'/);
  t.is(res.headers['x-frame-options'], 'DENY');
  t.is(res.headers['x-content-type-options'], 'nosniff');
  t.truthy(res.headers['strict-transport-security']);
  await h.request('PUT', '/api/domains/b.example', { as: admin, body: domainBody('b.example', 3000) });
  const [latest] = (await h.server.context.audit.search({ limit: 1, visible: () => true })).items;
  t.is(latest.actor, 'root');
  t.is(latest.action, 'PUT /api/domains/:name');
  t.deepEqual(latest.domains, ['b.example']);
  const domAudit = await h.request('GET', '/api/audit', { as: await h.login('alice') });
  t.false(domAudit.json.items.some((a: { domains?: string[] }) => a.domains?.includes('b.example')));
});
