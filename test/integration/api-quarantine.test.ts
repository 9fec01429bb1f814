// Quarantine through the console API with the real quarantine store and actions: each role sees
// and acts on only its own copies (mailbox user) or its domains' (domain admin); forwarding is the
// admin's; the preview can run no script and load nothing remote; the message log is scoped too.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { listsProvider } from '../../appliance/api/providers/lists.ts';
import { messageLogProvider } from '../../appliance/api/providers/message-log.ts';
import { quarantineProvider } from '../../appliance/api/providers/quarantine.ts';
import { MessageLog } from '../../appliance/logsearch/message-log.ts';
import { ListsStore } from '../../appliance/lists/lists-store.ts';
import { createQuarantineActions, type DeliveryRequest } from '../../appliance/quarantine/actions.ts';
import { Quarantine, type NewQuarantineRecord } from '../../appliance/quarantine/quarantine-store.ts';
import { openStore } from '../../appliance/store/store.ts';
import { makeConsole, PASSWORD, TWO_DOMAINS, type Caller } from '../helpers/console-api.ts';

const RAW = Buffer.from([
  'From: promo@shop.test', 'To: carol@a.example, dave@b.example', 'Subject: Big sale', 'Message-ID: <p1@shop.test>',
  'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '',
  '<p>Sale!</p><img src="https://tracker.test/pixel.gif"><script>parent.stolen = 1</script>', '',
].join('\r\n'));

async function setup(t: ExecutionContext, opts: { scanCap?: number } = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-qapi-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const quarantine = await Quarantine.open(store, dataDir);
  const lists = await ListsStore.open(store);
  const log = await MessageLog.open(store);
  const sent: DeliveryRequest[] = [];
  const actions = createQuarantineActions({ quarantine, lists, deliver: async (req) => { await readFile(req.rawPath); sent.push(req); } });
  await mkdir(path.join(dataDir, 'spool'));
  let n = 0;
  const put = async (over: Partial<NewQuarantineRecord> = {}) => {
    const file = path.join(dataDir, 'spool', `S${++n}.eml`);
    await writeFile(file, RAW);
    const copy = (address: string) => ({ address, domain: address.split('@')[1], mainClass: 'Spam' as const, headerEdits: { prepend: [] }, why: ['score 97 ≥ 90'] });
    return quarantine.put({
      queueId: `Q${n}`, receivedAt: Date.now(), direction: 'inbound', mailFrom: 'promo@shop.test', fromHeader: 'promo@shop.test', subject: 'Big sale',
      messageId: '<p1@shop.test>', size: RAW.length, mainClass: 'Spam', score: 97, reasons: [{ name: 'BAYES_SPAM', contribution: 4.2, detail: 'learnt spam words' }],
      clientIp: '192.0.2.1', recipients: [copy('carol@a.example'), copy('dave@b.example')], ...over,
    }, file);
  };
  const h = await makeConsole(t, { config: TWO_DOMAINS, providers: { quarantine: quarantineProvider(quarantine, actions, opts), lists: listsProvider(lists), log: messageLogProvider(log, opts) } });
  await h.addUser('root', 'admin');
  await h.addUser('alice', 'domain-admin', ['a.example']);
  await h.addUser('carol@a.example', 'user');
  await h.addUser('dave@b.example', 'user');
  return { h, quarantine, lists, log, sent, put, admin: await h.login('root'), domA: await h.login('alice'), carol: await h.login('carol@a.example'), dave: await h.login('dave@b.example') };
}

test('each role lists only the copies in its scope', async (t) => {
  const s = await setup(t);
  const rec = await s.put();
  await s.put({ recipients: [{ address: 'dave@b.example', domain: 'b.example', mainClass: 'Spam', headerEdits: { prepend: [] }, why: [] }], subject: 'Only for dave' });
  const list = async (as: typeof s.admin, query = '') => (await s.h.request('GET', `/api/quarantine${query}`, { as })).json;

  const admin = await list(s.admin);
  t.is(admin.items.length, 2);
  t.is(admin.next, undefined, 'one page holds everything');
  t.deepEqual(admin.items.find((i: { id: string }) => i.id === rec.id).recipients, ['carol@a.example', 'dave@b.example']);
  const domA = await list(s.domA);
  t.deepEqual(domA.items.map((i: { id: string; recipients: string[] }) => [i.id, i.recipients]), [[rec.id, ['carol@a.example']]]);
  const carol = await list(s.carol);
  t.deepEqual(carol.items.map((i: { recipients: string[] }) => i.recipients), [['carol@a.example']]);
  t.is((await list(s.carol, '?recipient=dave@b.example')).items.length, 0, 'asking for another mailbox finds nothing');
  t.is((await list(s.admin, '?subject=only')).items.length, 1);
  t.is((await list(s.admin, '?sender=nobody@x.test')).items.length, 0);
  t.is((await list(s.admin, `?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).items.length, 0);

  const detail = await s.h.request('GET', `/api/quarantine/${rec.id}`, { as: s.carol });
  t.is(detail.status, 200);
  t.deepEqual(detail.json.message.reasons, [{ name: 'BAYES_SPAM', score: 4.2, description: 'learnt spam words' }]);
  t.deepEqual(detail.json.message.recipients, ['carol@a.example']);
  t.false(detail.json.canForward);
});

test('the reasons of a score are told in the caller\'s language, from the catalog, to one decimal', async (t) => {
  const s = await setup(t);
  const rec = await s.put({ reasons: [
    { name: 'PHISH_LINK_TEXT_MISMATCH', contribution: 2.5, detail: 'the link text says paypal.com but it points to example.top', params: { shown: 'paypal.com', target: 'example.top' } },
    { name: 'from:no-name', contribution: 0.3456 },
    { name: 'MODEL_PRIOR', contribution: -1.04 },
    { name: 'BAYES_SPAM', contribution: 4.2, detail: 'learnt spam words' },
  ] });
  const inLang = async (language: 'ja' | 'en') => {
    await s.h.server.context.users.create({ username: `${language}-admin`, role: 'admin', password: PASSWORD, language });
    return (await s.h.request('GET', `/api/quarantine/${rec.id}`, { as: await s.h.login(`${language}-admin`) })).json.message.reasons;
  };
  const en = await inLang('en');
  t.deepEqual(en.map((r: { description: string }) => r.description), [
    'the link text says paypal.com but it points to example.top', 'the sender gives no name',
    'the share of spam and good mail in what was learned', 'learnt spam words',
  ]);
  t.deepEqual(en.map((r: { score: number }) => r.score), [2.5, 0.3, -1, 4.2]);
  const ja = await inLang('ja');
  t.deepEqual(ja.map((r: { description: string }) => r.description), [
    'リンクの表示は paypal.com ですが、実際のリンク先は example.top です', '送信者名がありません',
    '学習したメールに占めるスパムと正常なメールの割合', 'learnt spam words',
  ]);
});

test('a mailbox user cannot see or release another mailbox\'s message, and releasing releases only their own copy', async (t) => {
  const s = await setup(t);
  const shared = await s.put();
  const davesOnly = await s.put({ recipients: [{ address: 'dave@b.example', domain: 'b.example', mainClass: 'Spam', headerEdits: { prepend: [] }, why: [] }] });

  t.is((await s.h.request('GET', `/api/quarantine/${davesOnly.id}`, { as: s.carol })).status, 404);
  t.is((await s.h.request('GET', `/api/quarantine/${davesOnly.id}/preview`, { as: s.carol })).status, 404);
  t.is((await s.h.request('POST', `/api/quarantine/${davesOnly.id}/release`, { as: s.carol, body: {} })).status, 404);
  t.is((await s.h.request('POST', `/api/quarantine/${davesOnly.id}/delete`, { as: s.domA, body: {} })).status, 404, 'a domain admin cannot touch another domain\'s message');
  t.is(s.sent.length, 0);
  t.truthy(await s.quarantine.get(davesOnly.id));

  const res = await s.h.request('POST', `/api/quarantine/${shared.id}/release`, { as: s.carol, body: {} });
  t.is(res.status, 200);
  t.deepEqual(res.json.affected, ['carol@a.example']);
  t.deepEqual(s.sent.map((r) => r.recipients), [['carol@a.example']]);
  const after = await s.quarantine.get(shared.id);
  t.deepEqual(after?.recipients.map((r) => [r.address, r.state]), [['carol@a.example', 'released'], ['dave@b.example', 'held']]);
  t.is((await s.h.request('GET', `/api/quarantine/${shared.id}`, { as: s.carol })).status, 404, 'once released, it is gone from carol\'s view');
  t.is((await s.h.request('GET', `/api/quarantine/${shared.id}`, { as: s.dave })).status, 200, 'dave still has his copy');
});

test('forward is the admin\'s; bulk actions report per message; allow-list goes to the recipient\'s own list', async (t) => {
  const s = await setup(t);
  const one = await s.put();
  const two = await s.put();
  t.is((await s.h.request('POST', `/api/quarantine/${one.id}/forward`, { as: s.domA, body: { forwardTo: 'x@a.example' } })).status, 403);
  t.is((await s.h.request('POST', `/api/quarantine/${one.id}/forward`, { as: s.admin, body: { forwardTo: 'not an address' } })).status, 400);
  const fwd = await s.h.request('POST', `/api/quarantine/${one.id}/forward`, { as: s.admin, body: { forwardTo: 'analyst@a.example' } });
  t.is(fwd.status, 200);
  t.deepEqual(s.sent.at(-1)?.recipients, ['analyst@a.example']);

  const bulk = await s.h.request('POST', '/api/quarantine-bulk', { as: s.domA, body: { ids: [one.id, two.id, 'nope'], action: 'allow-release' } });
  t.is(bulk.status, 200);
  t.deepEqual(bulk.json.results.map((r: { ok: boolean }) => r.ok), [true, true, false]);
  t.deepEqual(s.lists.list({ direction: 'inbound', kind: 'sender-allow', scope: 'address', owner: 'carol@a.example' }).map((e) => e.value), ['promo@shop.test']);
  t.deepEqual((await s.quarantine.get(one.id))?.recipients.map((r) => r.state), ['released', 'held']);

  const train = await s.h.request('POST', `/api/quarantine/${two.id}/release-train`, { as: s.admin, body: {} });
  t.is(train.status, 409, 'no classifier here: the error says so');
  t.regex(train.json.error.message, /no classifier/);

  // The audit log names the domains of the recipients whose copies were acted on (what a domain
  // admin may read); a forward concerns no domain of its own, so only the admin reads it.
  const audit = (await s.h.server.context.audit.search({ limit: 10, visible: () => true })).items;
  t.deepEqual(audit.find((a) => a.action === 'POST /api/quarantine-bulk')?.domains, ['a.example']);
  t.is(audit.find((a) => a.action === 'POST /api/quarantine/:id/:action' && a.detail?.action === 'forward')?.domains, undefined);
});

test('the preview is sandboxed: no scripts, no remote images, framed only by the console', async (t) => {
  const s = await setup(t);
  const rec = await s.put();
  const res = await s.h.request('GET', `/api/quarantine/${rec.id}/preview`, { as: s.carol });
  t.is(res.status, 200);
  const csp = String(res.headers['content-security-policy']);
  t.regex(csp, /default-src 'none'/);
  t.regex(csp, /img-src data:(;|$)/);
  t.regex(csp, /\bsandbox\b/);
  t.notRegex(csp, /script-src/);
  t.is(res.headers['x-frame-options'], 'SAMEORIGIN');
  t.regex(String(res.json), /Sale!/);
});

test('message log search and record are scoped to the domain admin\'s domains', async (t) => {
  const s = await setup(t);
  const base = { direction: 'inbound' as const, size: 100, attempts: [], subject: 'hello' };
  await s.log.put({ ...base, id: '0001', receivedAt: Date.now() - 2000, mailFrom: 'x@ext.test', status: 'delivered',
    recipients: [{ address: 'carol@a.example', original: 'carol@a.example', status: 'delivered' }, { address: 'dave@b.example', original: 'dave@b.example', status: 'delivered' }],
    attempts: [
      { at: Date.now(), recipients: ['carol@a.example'], host: '127.0.0.1', port: 2525, code: 250, reply: '250 2.0.0 queued as A' },
      { at: Date.now(), recipients: ['dave@b.example'], host: '127.0.0.1', port: 2526, code: 250, reply: '250 2.0.0 queued as B' },
    ] });
  await s.log.put({ ...base, id: '0002', receivedAt: Date.now() - 1000, mailFrom: 'y@ext.test', status: 'bounced', subject: 'for b',
    recipients: [{ address: 'dave@b.example', original: 'dave@b.example', status: 'bounced' }] });

  const adminList = await s.h.request('GET', '/api/messages', { as: s.admin });
  t.deepEqual(adminList.json.items.map((i: { id: string }) => i.id), ['0002', '0001']);
  const domList = await s.h.request('GET', '/api/messages', { as: s.domA });
  t.deepEqual(domList.json.items.map((i: { id: string; recipients: { address: string }[] }) => [i.id, i.recipients.map((r) => r.address)]), [['0001', ['carol@a.example']]]);
  t.is((await s.h.request('GET', '/api/messages?status=bounced', { as: s.admin })).json.items.length, 1);
  t.is((await s.h.request('GET', '/api/messages/0002', { as: s.domA })).status, 404);
  const one = await s.h.request('GET', '/api/messages/0001', { as: s.domA });
  t.deepEqual(one.json.message.attempts.map((a: { reply: string }) => a.reply), ['250 2.0.0 queued as A'], 'only the attempts for their recipients');
  // A mailbox user searches their own mail only: the message to carol, with herself its only recipient.
  const own = await s.h.request('GET', '/api/messages', { as: s.carol });
  t.deepEqual(own.json.items.map((i: { id: string; recipients: { address: string }[] }) => [i.id, i.recipients.map((r) => r.address)]), [['0001', ['carol@a.example']]]);
  t.is((await s.h.request('GET', '/api/messages/0002', { as: s.carol })).status, 404);
});

type Page = { items: { id: string; recipients: string[] }[]; next?: string };

/** Every page of a search, following `next` until there is none. */
async function allPages(s: Awaited<ReturnType<typeof setup>>, as: Caller, url: string): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | undefined;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res = await s.h.request('GET', `${url}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`, { as });
    if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.json)}`);
    pages.push(res.json);
    cursor = res.json.next;
    if (pages.length > 100) throw new Error('the cursor does not advance');
  } while (cursor);
  return pages;
}

async function heldMix(s: Awaited<ReturnType<typeof setup>>) {
  const copy = (address: string) => ({ address, domain: address.split('@')[1], mainClass: 'Spam' as const, headerEdits: { prepend: [] }, why: [] });
  const ids: Record<'carol' | 'dave' | 'both', string[]> = { carol: [], dave: [], both: [] };
  for (let i = 0; i < 21; i++) {
    const who = (['carol', 'dave', 'both'] as const)[i % 3];
    const recipients = who === 'both' ? [copy('carol@a.example'), copy('dave@b.example')] : [copy(`${who}@${who === 'carol' ? 'a' : 'b'}.example`)];
    ids[who].push((await s.put({ recipients, subject: `message ${i}` })).id);
  }
  return ids;
}

for (const scanCap of [undefined, 3]) {
  test(`quarantine pages cover every visible message exactly once, newest first, within each scope${scanCap ? ' (a scan cap smaller than a page)' : ''}`, async (t) => {
    const s = await setup(t, { scanCap });
    const ids = await heldMix(s);
    const newestFirst = (await s.quarantine.search({ limit: 100 })).map((r) => r.id);
    const check = async (as: Caller, want: string[], visible: (recipients: string[]) => boolean, label: string) => {
      const pages = await allPages(s, as, '/api/quarantine?limit=4');
      const got = pages.flatMap((p) => p.items.map((i) => i.id));
      t.deepEqual(got, newestFirst.filter((id) => want.includes(id)), `${label}: each once, newest first`);
      t.true(pages.flatMap((p) => p.items).every((i) => visible(i.recipients)), `${label}: only copies in scope`);
      if (!scanCap) t.true(pages.slice(0, -1).every((p) => p.items.length === 4) && pages.at(-1)!.items.length > 0, `${label}: full pages, no empty last page`);
    };
    await check(s.admin, [...ids.carol, ...ids.dave, ...ids.both], () => true, 'admin');
    await check(s.domA, [...ids.carol, ...ids.both], (r) => r.join() === 'carol@a.example', 'domain admin of a.example');
    await check(s.carol, [...ids.carol, ...ids.both], (r) => r.join() === 'carol@a.example', 'mailbox user');
    await check(s.dave, [...ids.dave, ...ids.both], (r) => r.join() === 'dave@b.example', 'other mailbox user');
  });
}

test('a cursor is only a position: another caller\'s cursor still shows only the caller\'s own copies', async (t) => {
  const s = await setup(t);
  const ids = await heldMix(s);
  const adminFirst = (await s.h.request('GET', '/api/quarantine?limit=2', { as: s.admin })).json as Page;
  t.truthy(adminFirst.next);
  const carol = (await s.h.request('GET', `/api/quarantine?limit=500&cursor=${adminFirst.next}`, { as: s.carol })).json as Page;
  t.true(carol.items.length > 0);
  t.true(carol.items.every((i) => [...ids.carol, ...ids.both].includes(i.id) && i.recipients.join() === 'carol@a.example'));
  const forged = Buffer.from(`quarantine:9999999999999!${ids.dave[0]}`).toString('base64url');
  const viaForged = (await s.h.request('GET', `/api/quarantine?cursor=${forged}&limit=500`, { as: s.carol })).json as Page;
  t.false(viaForged.items.some((i) => ids.dave.includes(i.id)), 'a forged position reveals nothing outside the scope');
});

test('a malformed cursor is a 400 with a clear error, on both searches', async (t) => {
  const s = await setup(t);
  const bad = ['not a cursor', '%%%', Buffer.from('log:0001').toString('base64url'), Buffer.from('quarantine:1!../../etc').toString('base64url'), Buffer.from('quarantine:').toString('base64url')];
  for (const cursor of bad) {
    const res = await s.h.request('GET', `/api/quarantine?cursor=${encodeURIComponent(cursor)}`, { as: s.admin });
    t.is(res.status, 400, cursor);
    t.is(res.json.error.code, 'bad-cursor');
    t.regex(res.json.error.message, /cursor/);
  }
  const quarantineCursor = Buffer.from('quarantine:0000000000001!Q1').toString('base64url');
  for (const cursor of ['not a cursor', quarantineCursor]) {
    const res = await s.h.request('GET', `/api/messages?cursor=${encodeURIComponent(cursor)}`, { as: s.admin });
    t.is(res.status, 400, cursor);
    t.is(res.json.error.code, 'bad-cursor');
  }
  t.is((await s.h.request('GET', '/api/quarantine?limit=501', { as: s.admin })).status, 400, 'a page holds at most 500');
});

for (const scanCap of [undefined, 4]) {
  test(`message log pages cover every visible record exactly once, newest first${scanCap ? ' (a scan cap smaller than a page)' : ''}`, async (t) => {
    const s = await setup(t, { scanCap });
    const base = { direction: 'inbound' as const, size: 100, attempts: [], subject: 'hello', status: 'delivered' as const, mailFrom: 'x@ext.test' };
    const now = Date.now();
    const aIds: string[] = [];
    const all: string[] = [];
    for (let i = 0; i < 25; i++) {
      const id = String(i).padStart(4, '0');
      const address = i % 2 ? 'dave@b.example' : 'carol@a.example';
      await s.log.put({ ...base, id, receivedAt: now - (100 - i) * 1000, recipients: [{ address, original: address, status: 'delivered' }] });
      all.unshift(id);
      if (i % 2 === 0) aIds.unshift(id);
    }
    const ids = (pages: Page[]) => pages.flatMap((p) => p.items.map((i) => i.id));
    t.deepEqual(ids(await allPages(s, s.admin, '/api/messages?limit=5')), all);
    const dom = await allPages(s, s.domA, '/api/messages?limit=5');
    t.deepEqual(ids(dom), aIds);
    if (!scanCap) t.is(dom.length, 3, '13 records in pages of 5, no empty page');
    t.deepEqual(ids(await allPages(s, s.admin, `/api/messages?limit=3&recipient=dave&to=${encodeURIComponent(new Date(now - 90_000).toISOString())}`)),
      all.filter((id) => Number(id) % 2 === 1 && Number(id) < 10), 'filters hold across pages');
  });
}

// "Every message matching the search", across pages, done by the search in the caller's scope.
const only = (address: string) => [{ address, domain: address.split('@')[1], mainClass: 'Spam' as const, headerEdits: { prepend: [] }, why: [] }];

test('acting on every match: counted, then done by the search in the caller\'s scope; a domain admin never reaches another domain', async (t) => {
  // A scan cap of 2 cuts every search page short, so the matches are gathered across many pages.
  const s = await setup(t, { scanCap: 2 });
  const carols = [await s.put({ recipients: only('carol@a.example') }), await s.put({ recipients: only('carol@a.example') }), await s.put({ recipients: only('carol@a.example') })];
  const daves = [await s.put({ recipients: only('dave@b.example') }), await s.put({ recipients: only('dave@b.example') })];
  const shared = await s.put();
  const other = await s.put({ recipients: only('carol@a.example'), subject: 'Minutes of the meeting' });

  const count = async (as: Caller, query: string) => (await s.h.request('GET', `/api/quarantine-matching?${query}`, { as })).json;
  const alice = await count(s.domA, 'subject=Big%20sale');
  t.like(alice, { count: 4, more: false }, 'carol\'s three and the shared one: dave\'s are not in alice\'s domain');
  t.is((await count(s.admin, 'subject=Big%20sale')).count, 6);
  t.is((await count(s.carol, '')).count, 5);

  // Asking for dave's messages by his address finds nothing in alice's scope, whatever she claims.
  const reach = await s.h.request('POST', '/api/quarantine-matching', { as: s.domA, body: { query: { recipient: 'dave@b.example' }, action: 'delete', asOf: new Date().toISOString(), expected: 2 } });
  t.is(reach.status, 200);
  t.deepEqual(reach.json.results, []);

  // More matches than confirmed (the count was old): refused, nothing done.
  const stale = await s.h.request('POST', '/api/quarantine-matching', { as: s.domA, body: { query: { subject: 'Big sale' }, action: 'delete', asOf: alice.asOf, expected: 3 } });
  t.is(stale.status, 409);
  t.is(stale.json.error.code, 'quarantine-matching-changed');
  t.is((await count(s.domA, 'subject=Big%20sale')).count, 4);

  // A message arriving after the count is not part of what was confirmed.
  const late = await s.put({ recipients: only('carol@a.example'), receivedAt: Date.parse(alice.asOf) + 60_000 });
  const done = await s.h.request('POST', '/api/quarantine-matching', { as: s.domA, body: { query: { subject: 'Big sale' }, action: 'delete', asOf: alice.asOf, expected: 4 } });
  t.is(done.status, 200);
  t.is(done.json.results.length, 4);
  t.true(done.json.results.every((r: { ok: boolean }) => r.ok));
  for (const c of carols) t.falsy(await s.quarantine.get(c.id), 'carol\'s messages are deleted');
  for (const d of daves) t.deepEqual((await s.quarantine.get(d.id))?.recipients.map((r) => r.state), ['held'], 'dave\'s stay held');
  t.deepEqual((await s.quarantine.get(shared.id))?.recipients.map((r) => [r.address, r.state]), [['carol@a.example', 'deleted'], ['dave@b.example', 'held']]);
  t.truthy(await s.quarantine.get(other.id), 'a message not matching the search stays');
  t.truthy(await s.quarantine.get(late.id), 'a message received after the count stays');
  t.is(s.sent.length, 0);

  // A mailbox user's "every match" releases only their own copies.
  const mine = await count(s.dave, '');
  t.is(mine.count, 3);
  const released = await s.h.request('POST', '/api/quarantine-matching', { as: s.dave, body: { query: {}, action: 'release', asOf: mine.asOf, expected: 3 } });
  t.is(released.status, 200);
  t.deepEqual(s.sent.map((r) => r.recipients), [['dave@b.example'], ['dave@b.example'], ['dave@b.example']]);
  t.deepEqual((await s.quarantine.get(late.id))?.recipients.map((r) => r.state), ['held'], 'carol\'s late message is not dave\'s to release');

  // Forwarding stays the admin's; the audit log says what was matched, with the domains concerned.
  t.is((await s.h.request('POST', '/api/quarantine-matching', { as: s.domA, body: { query: {}, action: 'forward', forwardTo: 'x@a.example', asOf: alice.asOf, expected: 1 } })).status, 403);
  const audit = (await s.h.server.context.audit.search({ limit: 20, visible: () => true })).items.filter((a) => a.action === 'POST /api/quarantine-matching');
  t.deepEqual(audit.map((a) => a.domains), [['b.example'], ['a.example'], ['a.example']], 'dave\'s release; alice\'s delete and her search that found nothing');
  t.like(audit[1].detail, { action: 'delete', matching: { subject: 'Big sale' }, count: 4 });
});

test('acting on every match refuses more than it may take, and an instant that is not one', async (t) => {
  const s = await setup(t);
  await s.put();
  const bad = await s.h.request('POST', '/api/quarantine-matching', { as: s.admin, body: { query: {}, action: 'delete', asOf: 'yesterday', expected: 1 } });
  t.is(bad.status, 400);
  const many = await s.h.request('POST', '/api/quarantine-matching', { as: s.admin, body: { query: {}, action: 'delete', asOf: new Date().toISOString(), expected: 5001 } });
  t.is(many.status, 400);
  t.truthy((await s.quarantine.search({}))[0], 'nothing was deleted');
});
