// Lists through the console API with the real ListsStore: a domain admin reaches only their
// domains' lists and their mailboxes' lists, a mailbox user only their own address-level lists;
// search, add (with the store's own errors next to the field), delete, import and export; the
// appliance-wide lists are the appliance admin's alone.
import test, { type ExecutionContext } from 'ava';
import { listsProvider } from '../../appliance/api/providers/lists.ts';
import { ListsStore } from '../../appliance/lists/lists-store.ts';
import { openStore } from '../../appliance/store/store.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeConsole, TWO_DOMAINS } from '../helpers/console-api.ts';

async function setup(t: ExecutionContext) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-lapi-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const lists = await ListsStore.open(store);
  const h = await makeConsole(t, { config: TWO_DOMAINS, providers: { lists: listsProvider(lists) } });
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', ['a.example']);
  await h.addUser('carol@a.example', 'user');
  return { h, lists, admin: await h.login('root'), domA: await h.login('alice'), carol: await h.login('carol@a.example') };
}

const entry = (scope: 'domain' | 'address' | 'appliance', owner: string, value: string, kind = 'sender-block') => ({ direction: 'inbound', kind, scope, owner, value });

test('a domain admin cannot touch another domain\'s lists', async (t) => {
  const s = await setup(t);
  const bEntry = (await s.h.request('POST', '/api/lists', { as: s.admin, body: entry('domain', 'b.example', 'spam@x.test') })).json.entry;
  t.truthy(bEntry?.id);
  t.is((await s.h.request('POST', '/api/lists', { as: s.domA, body: entry('domain', 'b.example', 'evil@x.test') })).status, 403);
  t.is((await s.h.request('POST', '/api/lists', { as: s.domA, body: entry('address', 'dave@b.example', 'evil@x.test') })).status, 403);
  t.is((await s.h.request('DELETE', `/api/lists/${bEntry.id}`, { as: s.domA })).status, 403);
  t.is((await s.h.request('GET', '/api/lists/export?direction=inbound&kind=sender-block&scope=domain&owner=b.example', { as: s.domA })).status, 403);
  t.is((await s.h.request('POST', '/api/lists/import', { as: s.domA, body: { ...entry('domain', 'b.example', ''), text: 'x@y.test\n' } })).status, 403);
  t.deepEqual((await s.h.request('GET', '/api/lists', { as: s.domA })).json.items, [], 'b.example\'s entries are not listed to alice');
  t.is(s.lists.search({}).length, 1);

  t.is((await s.h.request('POST', '/api/lists', { as: s.domA, body: entry('domain', 'a.example', 'spam@x.test') })).status, 201);
  t.is((await s.h.request('POST', '/api/lists', { as: s.domA, body: entry('address', 'carol@a.example', 'promo@x.test', 'sender-allow') })).status, 201);
  t.is((await s.h.request('GET', '/api/lists', { as: s.domA })).json.total, 2);
});

test('a mailbox user manages only their own address-level lists', async (t) => {
  const s = await setup(t);
  await s.h.request('POST', '/api/lists', { as: s.admin, body: entry('domain', 'a.example', 'dom@x.test') });
  t.is((await s.h.request('POST', '/api/lists', { as: s.carol, body: entry('domain', 'a.example', 'x@x.test') })).status, 403);
  t.is((await s.h.request('POST', '/api/lists', { as: s.carol, body: entry('address', 'erin@a.example', 'x@x.test') })).status, 403);
  const mine = await s.h.request('POST', '/api/lists', { as: s.carol, body: entry('address', 'carol@a.example', 'Friend@Mail.test', 'sender-allow') });
  t.is(mine.status, 201);
  t.is(mine.json.entry.value, 'friend@mail.test');
  const seen = (await s.h.request('GET', '/api/lists', { as: s.carol })).json;
  t.deepEqual(seen.items.map((e: { value: string }) => e.value), ['friend@mail.test'], 'the domain list is not shown to a mailbox user');
  t.true(seen.kinds.includes('condition-quarantine'));

  const dup = await s.h.request('POST', '/api/lists', { as: s.carol, body: entry('address', 'carol@a.example', 'friend@mail.test', 'sender-allow') });
  t.is(dup.status, 400);
  t.is(dup.json.problems[0].path, '/value');
  t.regex(dup.json.problems[0].message, /already in this list/);
  t.is((await s.h.request('DELETE', `/api/lists/${mine.json.entry.id}`, { as: s.carol })).status, 200);
  t.is((await s.h.request('DELETE', `/api/lists/${mine.json.entry.id}`, { as: s.carol })).status, 404);
});

test('search, import with per-line errors, export in the import format', async (t) => {
  const s = await setup(t);
  const ref = { direction: 'outbound', kind: 'condition-quarantine', scope: 'domain', owner: 'a.example' };
  const imported = await s.h.request('POST', '/api/lists/import', { as: s.domA, body: { ...ref, text: '# subjects\nsubject\t請求書\tpartial\nheader\tbulk\texact\tx-mailer\nnonsense\n' } });
  t.is(imported.status, 200);
  t.is(imported.json.added, 2);
  t.deepEqual(imported.json.skipped.map((x: { line: number }) => x.line), [4]);
  const found = await s.h.request('GET', '/api/lists?text=請求&direction=outbound', { as: s.domA });
  t.deepEqual(found.json.items.map((e: { value: string }) => e.value), ['請求書']);
  const exported = await s.h.request('GET', '/api/lists/export?direction=outbound&kind=condition-quarantine&scope=domain&owner=a.example', { as: s.domA });
  t.is(exported.status, 200);
  t.regex(String(exported.headers['content-disposition']), /attachment; filename="outbound-condition-quarantine-a\.example\.csv"/);
  t.regex(String(exported.headers['content-type']), /^text\/csv/);
  t.is(exported.json, 'field,value,mode,header,note\r\nsubject,請求書,partial,,\r\nheader,bulk,exact,x-mailer,\r\n');
});

test('one CSV format out and in: template, export, import back elsewhere, per-row errors, formulas kept neutral', async (t) => {
  const s = await setup(t);
  const template = await s.h.request('GET', '/api/lists/template?kind=condition-block', { as: s.carol });
  t.is(template.status, 200);
  t.regex(String(template.headers['content-disposition']), /attachment; filename="list-template-condition-block\.csv"/);
  t.is(template.json, 'field,value,mode,header,note\r\n');
  t.is((await s.h.request('GET', '/api/lists/template?kind=sender-allow', { as: s.domA })).json, 'value,note\r\n');
  t.is((await s.h.request('GET', '/api/lists/template?kind=nonsense', { as: s.domA })).status, 400);

  // The template, filled in as a spreadsheet would: quoting, a comma in a note, a formula-like
  // subject, and bad rows, each reported with its line and what is wrong.
  const from = { direction: 'inbound', kind: 'condition-block', scope: 'domain', owner: 'a.example' };
  const text = `${template.json}subject,"Invoice, overdue",partial,,"from the CFO, twice"\r\nsubject,"=HYPERLINK(""x"")",exact,,\r\nnowhere,x,exact,,\r\nheader,bulk,exact,,\r\nenvelope-from,spam@shop.test,,,\r\n`;
  const imported = await s.h.request('POST', '/api/lists/import', { as: s.domA, body: { ...from, text } });
  t.is(imported.status, 200);
  t.is(imported.json.added, 3);
  t.deepEqual(imported.json.skipped.map((x: { line: number; text: string }) => [x.line, x.text]), [[4, 'nowhere,x,exact,,'], [5, 'header,bulk,exact,,']]);
  t.true(imported.json.skipped.every((x: { error: string }) => x.error.length > 0), 'each skipped row says what is wrong');

  const out = await s.h.request('GET', '/api/lists/export?direction=inbound&kind=condition-block&scope=domain&owner=a.example', { as: s.domA });
  t.is(out.json, 'field,value,mode,header,note\r\nsubject,"Invoice, overdue",partial,,"from the CFO, twice"\r\nsubject,"\'=HYPERLINK(""x"")",exact,,\r\nenvelope-from,spam@shop.test,,,\r\n');

  // The export imports into another owner unchanged (the admin may write anywhere).
  const to = { ...from, owner: 'b.example' };
  const again = await s.h.request('POST', '/api/lists/import', { as: s.admin, body: { ...to, text: out.json } });
  t.deepEqual([again.json.added, again.json.skipped], [3, []]);
  const values = (owner: string) => s.lists.list({ ...from, owner } as Parameters<typeof s.lists.list>[0]).map((e) => [e.field, e.value, e.mode ?? '', e.note ?? '']);
  t.deepEqual(values('b.example'), values('a.example'));
  t.deepEqual(values('b.example')[1], ['subject', '=HYPERLINK("x")', 'exact', '']);
  // A domain admin cannot import into another domain's list.
  t.is((await s.h.request('POST', '/api/lists/import', { as: s.domA, body: { ...to, text: out.json } })).status, 403);
});

test('appliance-wide lists: the admin keeps them; domain admins and mailbox users neither change nor see them', async (t) => {
  const s = await setup(t);
  const wide = await s.h.request('POST', '/api/lists', { as: s.admin, body: entry('appliance', '*', 'bulk@x.test') });
  t.is(wide.status, 201);
  t.is(wide.json.entry.owner, '*');
  for (const who of [s.domA, s.carol]) {
    t.is((await s.h.request('POST', '/api/lists', { as: who, body: entry('appliance', '*', 'evil@x.test') })).status, 403);
    t.is((await s.h.request('DELETE', `/api/lists/${wide.json.entry.id}`, { as: who })).status, 403);
    t.is((await s.h.request('GET', '/api/lists/export?direction=inbound&kind=sender-block&scope=appliance&owner=*', { as: who })).status, 403);
    t.is((await s.h.request('POST', '/api/lists/import', { as: who, body: { ...entry('appliance', '*', ''), text: 'x@y.test\n' } })).status, 403);
    t.deepEqual((await s.h.request('GET', '/api/lists?level=appliance', { as: who })).json.items, []);
  }
  const imported = await s.h.request('POST', '/api/lists/import', { as: s.admin, body: { ...entry('appliance', '*', ''), text: 'x@y.test\n' } });
  t.is(imported.json.added, 1);
  const exported = await s.h.request('GET', '/api/lists/export?direction=inbound&kind=sender-block&scope=appliance&owner=*', { as: s.admin });
  t.regex(String(exported.headers['content-disposition']), /inbound-sender-block-appliance\.csv/);
  t.deepEqual((await s.h.request('GET', '/api/lists?level=appliance', { as: s.admin })).json.items.map((e: { value: string }) => e.value).sort(), ['bulk@x.test', 'x@y.test']);
});
