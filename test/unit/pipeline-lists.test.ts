// The lists: storage (add/remove/list/search/import/export, the 300-entry limit, persistence in
// LevelDB) and matching (every kind, every scope, both priority modes, inbound and outbound).
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../appliance/store/store.ts';
import { ListsStore, ListError, MAX_ENTRIES_PER_LIST, type ListEntryInput } from '../../appliance/lists/lists-store.ts';
import { decideLists, type MessageFacts, type PriorityMode } from '../../appliance/pipeline/lists.ts';

async function fresh(t: { teardown(fn: () => Promise<void>): void }): Promise<{ store: Store; lists: ListsStore; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-lists-'));
  const store = await openStore(dir);
  t.teardown(async () => { await store.close().catch(() => {}); await rm(dir, { recursive: true, force: true }); });
  return { store, lists: await ListsStore.open(store), dir };
}

function facts(p: Partial<{ envelopeFrom: string; fromHeader: string; subject: string; headers: Record<string, string[]> }>): MessageFacts {
  return {
    envelopeFrom: p.envelopeFrom ?? 'sender@spam.test',
    fromHeader: p.fromHeader ?? 'sender@spam.test',
    subject: p.subject ?? 'hello',
    header: (name) => p.headers?.[name] ?? [],
  };
}

const inbound = (recipient: string, priority: PriorityMode = 'address-first') =>
  ({ direction: 'inbound' as const, recipient, recipientDomain: recipient.split('@')[1], priority });

const dom = (kind: ListEntryInput['kind'], value: string, extra: Partial<ListEntryInput> = {}): ListEntryInput =>
  ({ direction: 'inbound', kind, scope: 'domain', owner: 'example.com', value, ...extra });
const addr = (kind: ListEntryInput['kind'], value: string, extra: Partial<ListEntryInput> = {}): ListEntryInput =>
  ({ direction: 'inbound', kind, scope: 'address', owner: 'bob@example.com', value, ...extra });

test('entries are stored, listed, found, removed, and survive reopening the store', async (t) => {
  const { store, lists, dir } = await fresh(t);
  const a = await lists.add(dom('sender-block', 'Spammer@Spam.test', { note: '迷惑' }));
  await lists.add(dom('sender-allow', '@partner.test'));
  t.is(a.value, 'spammer@spam.test');
  t.deepEqual(lists.list({ direction: 'inbound', kind: 'sender-allow', scope: 'domain', owner: 'EXAMPLE.com' }).map((e) => e.value), ['partner.test']);
  t.deepEqual(lists.search({ text: 'spam' }).map((e) => e.id), [a.id]);
  t.deepEqual(lists.search({ text: '迷惑' }).map((e) => e.id), [a.id]);
  await store.close();
  const reopened = await openStore(dir);
  t.teardown(() => reopened.close());
  const again = await ListsStore.open(reopened);
  t.is(again.search({}).length, 2);
  t.true(await again.remove(a.id));
  t.false(await again.remove(a.id));
  t.deepEqual(again.search({}).map((e) => e.value), ['partner.test']);
});

test('invalid entries are refused with an error saying what to fix', async (t) => {
  const { lists } = await fresh(t);
  await t.throwsAsync(lists.add(dom('sender-block', 'not an address')), { instanceOf: ListError, message: /neither an address/ });
  await t.throwsAsync(lists.add({ ...dom('sender-block', 'a@b.test'), owner: 'nodomain' }), { message: /not a domain name/ });
  await t.throwsAsync(lists.add(dom('condition-block', 'x')), { message: /needs a field/ });
  await t.throwsAsync(lists.add(dom('condition-block', 'x', { field: 'header' })), { message: /header's name/ });
  await lists.add(dom('sender-block', 'a@b.test'));
  await t.throwsAsync(lists.add(dom('sender-block', 'A@B.test')), { message: /already in this list/ });
});

test(`a list holds ${MAX_ENTRIES_PER_LIST} entries per scope; the next is refused clearly`, async (t) => {
  const { lists } = await fresh(t);
  const text = Array.from({ length: MAX_ENTRIES_PER_LIST }, (_, i) => `user${i}@spam.test`).join('\n');
  const ref = { direction: 'inbound' as const, kind: 'sender-block' as const, scope: 'domain' as const, owner: 'example.com' };
  const r = await lists.import(ref, text);
  t.is(r.added, MAX_ENTRIES_PER_LIST);
  const err = await t.throwsAsync(lists.add(dom('sender-block', 'one-more@spam.test')));
  t.regex(err!.message, /already holds 300 entries/);
  // Another scope, and another list, are separate.
  await t.notThrowsAsync(lists.add(addr('sender-block', 'one-more@spam.test')));
  await t.notThrowsAsync(lists.add(dom('sender-allow', 'one-more@spam.test')));
});

test('import reports bad and duplicate lines; export round-trips condition lists', async (t) => {
  const { lists } = await fresh(t);
  const ref = { direction: 'inbound' as const, kind: 'condition-quarantine' as const, scope: 'domain' as const, owner: 'example.com' };
  const r = await lists.import(ref, [
    '# comment', '',
    'subject\t未承諾広告\tpartial',
    'header\tbulk\texact\tPrecedence',
    'from-header\tpromo.test',
    'subject\t未承諾広告\tpartial',
    'nonsense\tx',
  ].join('\n'));
  t.is(r.added, 3);
  t.deepEqual(r.skipped.map((s) => s.line), [6, 7]);
  const text = lists.export(ref);
  t.true(text.startsWith('field,value,mode,header,note\r\n'), 'CSV with a header row');
  const { lists: other } = await fresh(t);
  const r2 = await other.import(ref, text);
  t.is(r2.added, 3);
  t.deepEqual(other.export(ref), text);
});

test('sender block and allow match the envelope sender by address or domain (with subdomains)', async (t) => {
  const { lists } = await fresh(t);
  await lists.add(dom('sender-block', 'spam.test'));
  await lists.add(dom('sender-allow', 'friend@spam.test'));
  t.is(decideLists(lists, facts({ envelopeFrom: 'x@mail.spam.test' }), inbound('bob@example.com'))?.effect, 'block');
  // Same level: block is tried before allow.
  t.is(decideLists(lists, facts({ envelopeFrom: 'friend@spam.test' }), inbound('bob@example.com'))?.effect, 'block');
  t.is(decideLists(lists, facts({ envelopeFrom: 'x@ham.test' }), inbound('bob@example.com')), undefined);
  t.is(decideLists(lists, facts({ envelopeFrom: '' }), inbound('bob@example.com')), undefined, 'the null sender matches no sender entry');
});

test('priority modes: address-first lets the address level win, domain-first the domain level', async (t) => {
  const { lists } = await fresh(t);
  await lists.add(dom('sender-block', 'spam.test'));
  await lists.add(addr('sender-allow', 'spam.test'));
  const f = facts({ envelopeFrom: 'x@spam.test' });
  const a = decideLists(lists, f, inbound('bob@example.com', 'address-first'));
  t.is(a?.effect, 'allow');
  t.is(a?.hit.scope, 'address');
  const d = decideLists(lists, f, inbound('bob@example.com', 'domain-first'));
  t.is(d?.effect, 'block');
  t.is(d?.hit.scope, 'domain');
  // Another recipient of the domain has no address-level list.
  t.is(decideLists(lists, f, inbound('carol@example.com', 'address-first'))?.effect, 'block');
});

test('recipient allow and recipient block match the recipient', async (t) => {
  const { lists } = await fresh(t);
  await lists.add(dom('recipient-allow', 'abuse@example.com'));
  await lists.add(dom('recipient-block', 'gone@example.com'));
  t.is(decideLists(lists, facts({}), inbound('abuse@example.com'))?.effect, 'allow');
  t.is(decideLists(lists, facts({}), inbound('gone@example.com'))?.effect, 'refuse');
  t.is(decideLists(lists, facts({}), inbound('bob@example.com')), undefined);
});

test('condition lists: envelope-from, From header, subject and named header, exact and partial', async (t) => {
  const { lists } = await fresh(t);
  await lists.add(dom('condition-block', 'bad.test', { field: 'envelope-from' }));
  await lists.add(dom('condition-quarantine', 'ceo@example.com', { field: 'from-header' }));
  await lists.add(dom('condition-quarantine', '未承諾広告', { field: 'subject', mode: 'partial' }));
  await lists.add(dom('condition-allow', 'Weekly report', { field: 'subject', mode: 'exact' }));
  await lists.add(dom('condition-block', 'bulk', { field: 'header', header: 'Precedence', mode: 'exact' }));
  await lists.add(dom('condition-allow', 'trusted-mailer', { field: 'header', header: 'X-Mailer', mode: 'partial' }));
  const q = inbound('bob@example.com');
  t.is(decideLists(lists, facts({ envelopeFrom: 'a@bad.test' }), q)?.effect, 'delete');
  t.is(decideLists(lists, facts({ fromHeader: 'ceo@example.com' }), q)?.effect, 'quarantine');
  t.is(decideLists(lists, facts({ subject: 'ご案内【未承諾広告】' }), q)?.effect, 'quarantine');
  // NFKC: half-width katakana in the subject matches a full-width entry.
  await lists.add(dom('condition-quarantine', 'セール', { field: 'subject', mode: 'partial' }));
  t.is(decideLists(lists, facts({ subject: 'ｾｰﾙ開催中' }), q)?.effect, 'quarantine');
  t.is(decideLists(lists, facts({ subject: 'weekly REPORT' }), q)?.effect, 'allow');
  t.is(decideLists(lists, facts({ subject: 'Weekly report (late)' }), q), undefined, 'exact does not match a longer subject');
  t.is(decideLists(lists, facts({ headers: { precedence: ['bulk'] } }), q)?.effect, 'delete');
  t.is(decideLists(lists, facts({ headers: { precedence: ['bulky'] } }), q), undefined);
  t.is(decideLists(lists, facts({ headers: { 'x-mailer': ['Trusted-Mailer 2.0'] } }), q)?.effect, 'allow');
});

test('outbound lists belong to the sender (our user) and are separate from inbound ones', async (t) => {
  const { lists } = await fresh(t);
  await lists.add({ direction: 'outbound', kind: 'sender-block', scope: 'domain', owner: 'example.com', value: 'intern@example.com' });
  await lists.add({ direction: 'outbound', kind: 'sender-allow', scope: 'address', owner: 'ceo@example.com', value: 'ceo@example.com' });
  const out = (from: string) => decideLists(lists, facts({ envelopeFrom: from }), { direction: 'outbound', recipient: 'someone@far.test', recipientDomain: '', priority: 'address-first' });
  t.is(out('intern@example.com')?.effect, 'block');
  t.is(out('ceo@example.com')?.effect, 'allow');
  t.is(out('other@example.com'), undefined);
  // The inbound direction sees none of these.
  t.is(decideLists(lists, facts({ envelopeFrom: 'intern@example.com' }), inbound('bob@example.com')), undefined);
});

test('CSV import handles quoting, commas, a byte-order mark and a header row; TSV still reads', async (t) => {
  const { lists } = await fresh(t);
  const ref = { direction: 'inbound' as const, kind: 'condition-block' as const, scope: 'domain' as const, owner: 'example.com' };
  const csv = '\uFEFFfield,value,mode,header,note\r\nsubject,"Sale, today only",partial,,"said ""hi"""\r\nsubject,"two\nlines",exact,,\r\n';
  const r = await lists.import(ref, csv);
  t.is(r.added, 2, JSON.stringify(r.skipped));
  const values = lists.list(ref).map((e) => [e.value, e.mode, e.note ?? '']);
  t.true(values.some(([v, m, n]) => v === 'Sale, today only' && m === 'partial' && n === 'said "hi"'), JSON.stringify(values));
  t.true(values.some(([v]) => v === 'two\nlines'), JSON.stringify(values));
  const tsv = await lists.import({ ...ref, kind: 'condition-allow' }, 'subject\tnewsletter\tpartial\n');
  t.is(tsv.added, 1);
});

test('appliance-wide lists apply to every domain, after the domain and mailbox levels, whatever owner is given', async (t) => {
  const { lists } = await fresh(t);
  const wide = await lists.add({ direction: 'inbound', kind: 'sender-block', scope: 'appliance', owner: 'ignored.example', value: 'spam.test' });
  t.is(wide.owner, '*');
  const f = facts({ envelopeFrom: 'x@spam.test' });
  for (const to of ['bob@example.com', 'someone@other.example']) {
    const d = decideLists(lists, f, inbound(to));
    t.is(d?.effect, 'block', to);
    t.deepEqual([d?.hit.scope, d?.hit.owner], ['appliance', '*']);
  }
  // A domain's own allow (or a mailbox's) is its exception to the appliance-wide block, in either priority mode.
  await lists.add(dom('sender-allow', 'spam.test'));
  t.is(decideLists(lists, f, inbound('bob@example.com', 'domain-first'))?.effect, 'allow');
  t.is(decideLists(lists, f, inbound('bob@example.com', 'address-first'))?.hit.scope, 'domain');
  t.is(decideLists(lists, f, inbound('someone@other.example'))?.effect, 'block');
  // Outbound appliance-wide lists are separate, and listing one needs no owner.
  t.is(decideLists(lists, f, { direction: 'outbound', recipient: 'r@far.test', recipientDomain: '', priority: 'address-first' }), undefined);
  t.deepEqual(lists.list({ direction: 'inbound', kind: 'sender-block', scope: 'appliance', owner: '' }).map((e) => e.id), [wide.id]);
  await t.throwsAsync(lists.add({ ...dom('sender-block', 'a@b.test'), scope: 'global' as 'domain' }), { message: /"address", "domain" or "appliance"/ });
});
