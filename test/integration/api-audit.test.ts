// The audit log API: the admin reads every record, a domain admin only the records about their own
// domains and users (never one that also concerns another domain, nor the appliance's own), a
// mailbox user none; filters by actor, action text and date range; cursor paging.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../appliance/api/audit.ts';
import { encodeCursor } from '../../appliance/api/providers/cursor.ts';
import { openStore } from '../../appliance/store/store.ts';
import { withPeople, type Caller, type Harness } from '../helpers/console-api.ts';

interface Item { at: string; actor: string; action: string; domains?: string[]; detail?: Record<string, unknown> }

async function all(h: Harness, as: Caller, filters = ''): Promise<Item[]> {
  const items: Item[] = [];
  let next: string | undefined;
  do {
    const res = await h.request('GET', `/api/audit?limit=2${filters}${next ? `&cursor=${next}` : ''}`, { as });
    if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.json)}`);
    items.push(...res.json.items);
    next = res.json.next;
  } while (next);
  return items;
}

const route = (port: number, name: string) => ({ name, routes: [{ host: '127.0.0.1', port }] });

test('scope: the admin reads everything, a domain admin their domains and users only, a mailbox user nothing', async (t) => {
  const { h, root, alice, carol } = await withPeople(t);
  t.is((await h.request('PUT', '/api/domains/a.example', { as: root, body: route(2700, 'a.example') })).status, 200);
  t.is((await h.request('PUT', '/api/domains/b.example', { as: root, body: route(2701, 'b.example') })).status, 200);
  // A domain admin of both domains: a record about a.example and b.example together.
  t.is((await h.request('POST', '/api/users', { as: root, body: { username: 'both', role: 'domain-admin', domains: ['a.example', 'b.example'], password: 'another long password' } })).status, 201);
  // The admin's own token concerns no domain: admin only.
  t.is((await h.request('POST', '/api/tokens', { as: root, body: { name: 'root-token', access: 'read' } })).status, 201);
  // Carol's own token concerns her mailbox's domain.
  t.is((await h.request('POST', '/api/tokens', { as: carol, body: { name: 'carol-token', access: 'read' } })).status, 201);

  const admin = await all(h, root);
  t.true(admin.some((i) => i.action === 'PUT /api/domains/:name' && i.domains?.includes('b.example')));
  t.true(admin.some((i) => i.action === 'POST /api/tokens' && i.actor === 'root'));
  t.true(admin.some((i) => i.action === 'login' && i.actor === 'dave@b.example'));

  const mine = await all(h, alice);
  t.true(mine.length > 0);
  for (const i of mine) t.deepEqual(i.domains, ['a.example'], JSON.stringify(i));
  t.true(mine.some((i) => i.action === 'PUT /api/domains/:name'));
  t.true(mine.some((i) => i.action === 'login' && i.actor === 'carol@a.example'));
  t.true(mine.some((i) => i.action === 'POST /api/tokens' && i.actor === 'carol@a.example'));
  t.false(mine.some((i) => i.actor === 'dave@b.example' || i.actor === 'bob'));
  t.false(mine.some((i) => i.action === 'POST /api/users'), 'the account spanning b.example is not shown');
  t.false(mine.some((i) => i.detail?.token === 'root-token'));

  t.is((await h.request('GET', '/api/audit', { as: carol })).status, 403);
  t.is((await h.request('GET', '/api/audit')).status, 401);
});

test('filters: actor, action text (also in details) and a date range', async (t) => {
  const { h, root, alice } = await withPeople(t);
  await h.request('PUT', '/api/domains/a.example', { as: alice, body: route(2702, 'a.example') });
  await h.request('POST', '/api/tokens', { as: root, body: { name: 'nightly-export', access: 'read' } });

  const byAlice = await all(h, root, '&actor=ALI');
  t.true(byAlice.length >= 2);
  t.true(byAlice.every((i) => i.actor === 'alice'));
  const exports = await all(h, root, '&action=nightly-export');
  t.is(exports.length, 1);
  t.is(exports[0].action, 'POST /api/tokens');
  t.is((await all(h, root, '&action=put%20/api/domains')).length, 1);

  const now = Date.now();
  const today = await all(h, root, `&from=${new Date(now - 60_000).toISOString()}&to=${new Date(now + 60_000).toISOString()}`);
  t.is(today.length, (await all(h, root)).length);
  t.deepEqual(await all(h, root, `&to=${new Date(now - 3_600_000).toISOString()}`), []);
  t.deepEqual(await all(h, root, `&from=${new Date(now + 3_600_000).toISOString()}`), []);
  const bad = await h.request('GET', '/api/audit?from=yesterday', { as: root });
  t.is(bad.status, 400);
  t.is(bad.json.problems[0].path, '/from');
});

test('paging: pages follow each other without gaps or repeats, and a cursor cannot widen the scope', async (t) => {
  const { h, root, alice } = await withPeople(t);
  for (let i = 0; i < 5; i++) {
    await h.request('PUT', '/api/domains/a.example', { as: root, body: route(2710 + i, 'a.example') });
    await h.request('PUT', '/api/domains/b.example', { as: root, body: route(2720 + i, 'b.example') });
  }
  const whole = (await h.request('GET', '/api/audit?limit=500', { as: root })).json;
  t.is(whole.next, undefined);
  const paged = await all(h, root);
  t.deepEqual(paged, whole.items);
  t.true(paged.every((x, i) => i === 0 || paged[i - 1].at >= x.at), 'newest first');

  // Alice's pages, resumed from the admin's cursor, still show only a.example.
  const first = (await h.request('GET', '/api/audit?limit=1', { as: root })).json;
  const resumed = await h.request('GET', `/api/audit?limit=500&cursor=${first.next}`, { as: alice });
  t.is(resumed.status, 200);
  t.true(resumed.json.items.length >= 5);
  t.true(resumed.json.items.every((i: Item) => i.domains?.every((d) => d === 'a.example')));

  for (const cursor of ['nonsense!', encodeCursor('log', 'abc'), Buffer.from('audit:2026-01-01').toString('base64url')]) {
    const res = await h.request('GET', `/api/audit?cursor=${encodeURIComponent(cursor)}`, { as: root });
    t.is(res.status, 400, cursor);
    t.is(res.json.error.code, 'bad-cursor');
  }
});

test('a search that matches little stops after its scan cap and says where to resume', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-audit-'));
  const store = await openStore(dir);
  t.teardown(async () => { await store.close(); await rm(dir, { recursive: true, force: true }); });
  const log = new AuditLog(store, { scanCap: 4 });
  for (let i = 0; i < 10; i++) await log.record({ actor: i === 0 ? 'needle' : 'hay', ip: '127.0.0.1', action: `change ${i}` });
  const seen: string[] = [];
  let after: string | undefined;
  let requests = 0;
  do {
    const page = await log.search({ limit: 10, after, actor: 'needle', visible: () => true });
    seen.push(...page.items.map((i) => i.action));
    after = page.resume;
    requests++;
  } while (after);
  t.deepEqual(seen, ['change 0']);
  t.is(requests, 3);
});
