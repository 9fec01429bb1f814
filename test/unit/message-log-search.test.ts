// The message log's indexed search against the plain definition of a match: for every field,
// exact and partial, all and any, with and without a scope, the indexes give exactly the records
// a walk through all of them gives, newest first and across pages. Updates delete the index keys
// a record no longer has, retention deletes a record with its keys, and a rebuild from the
// records gives the same keys and the same answers.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStore, putOp, type Store, type SublevelName } from '../../appliance/store/store.ts';
import { MessageLog, type MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { indexKeys, LOG_FIELDS, matches, withDictionary, words, type LogCondition, type LogSearchQuery } from '../../appliance/logsearch/log-index.ts';

const T0 = Date.UTC(2026, 10, 1, 9, 0);
const MIN = 60_000;

async function openLog(t: { teardown(fn: () => Promise<void>): void }): Promise<{ store: Store; log: MessageLog; dataDir: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-logsearch-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  return { store, log: await MessageLog.open(store), dataDir };
}

/** Varied records one minute apart: two domains, aliases, classes, statuses, attempts, Japanese subjects. */
function fixture(count = 40): MessageLogRecord[] {
  const subjects = ['ご請求書の送付について', 'Weekly report 2026-11', 'Re: 見積もり依頼', 'Invoice #4471 overdue', '会議室の予約', 'hello world'];
  const senders = ['tanaka@ext.test', 'billing@shop.test', 'Sato.Hanako@partner.test', '', 'noreply@ext.test'];
  const out: MessageLogRecord[] = [];
  for (let i = 0; i < count; i++) {
    const at = T0 + i * MIN;
    const domain = i % 3 === 0 ? 'b.example' : 'a.example';
    const user = ['carol', 'dave', 'erin', 'sales'][i % 4];
    const address = `${user}@${domain}`;
    const original = user === 'sales' ? `info@${domain}` : address;
    const status = (['delivered', 'quarantined', 'rejected', 'deferred', 'bounced', 'rejected at RCPT'] as const)[i % 6];
    const delivered = status === 'delivered';
    out.push({
      id: MessageLog.newId(at), receivedAt: at, server: i % 2 ? 'mx1.mailmoat.test' : 'mx2.mailmoat.test', direction: 'inbound',
      client: { ip: `192.0.2.${10 + (i % 7)}`, hostname: `mail${i % 7}.sender.test`, helo: 'x', tls: true },
      mailFrom: senders[i % senders.length], from: `"送信者 ${i}" <${senders[(i + 1) % senders.length] || 'someone@ext.test'}>`,
      subject: subjects[i % subjects.length], messageId: `<${i}.abc${i % 5}@ext.test>`, size: 1000 + i,
      recipients: [{ address, original, status: status === 'rejected at RCPT' ? 'rejected' : delivered ? 'delivered' : status === 'quarantined' ? 'quarantined' : status === 'bounced' ? 'bounced' : status === 'rejected' ? 'rejected' : 'pending', mainClass: ['Spam', 'NotSpam', 'Virus'][i % 3] }],
      attempts: delivered || status === 'bounced' || status === 'deferred' ? [{
        at: at + 30_000, recipients: [address], host: i % 2 ? `mx.${domain} [198.51.100.${i % 4}]` : '203.0.113.5', port: i % 2 ? 25 : 2525,
        code: delivered ? 250 : status === 'bounced' ? 550 : 451, reply: delivered ? `250 ok ${1503388459 + i} qp ${9583 + i}` : status === 'bounced' ? '550 5.1.1 user unknown' : '451 4.7.1 try later',
      }] : [],
      status, reply: status === 'rejected at RCPT' ? '550 5.1.1 Recipient address rejected: no such user here' : '250 2.0.0 Ok',
    });
  }
  return out;
}

function reference(records: MessageLogRecord[], q: LogSearchQuery): string[] {
  return records.filter((r) => q.visible(r) && matches(r, q)).map((r) => r.id).sort().reverse();
}

async function allPages(log: MessageLog, q: Omit<LogSearchQuery, 'before'>): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await log.search({ ...q, before });
    ids.push(...page.records.map((r) => r.id));
    if (!page.resume) return ids;
    before = page.resume;
  }
  throw new Error('more than 100 pages');
}

const everyone = () => true;
const base = { match: 'all' as const, mode: 'exact' as const, visible: everyone, limit: 7, scanCap: 20_000 };

/** Queries over every field: whole values of the fixture, parts of them, and values nobody has. */
function queries(records: MessageLogRecord[]): { label: string; q: Omit<LogSearchQuery, 'before'> }[] {
  const list: { label: string; q: Omit<LogSearchQuery, 'before'> }[] = [];
  const sample: Record<string, string[]> = {
    server: ['mx1.mailmoat.test', 'MX2.mailmoat.TEST', 'mx1', 'mailmoat'],
    queueId: [records[5].id, 'nope'],
    messageId: ['7.abc2@ext.test', '<7.abc2@ext.test>', 'abc2', 'bc2@ext', '7.abc', 'ext.test'],
    subject: ['ご請求書の送付について', '請求書', '請', 'report', 'eport 2026', 'INVOICE #4471', '4471 over', 'について', 'x'],
    sender: ['tanaka@ext.test', 'sato.hanako@partner.test', 'TANAKA', 'partner.test', '@ext', 'nobody@x.test'],
    recipient: ['info@a.example', 'sales@a.example', 'carol@b.example', 'rol@', 'a.example'],
    clientIp: ['192.0.2.12', '192.0.2.1', '0.2.1'],
    clientHost: ['mail3.sender.test', 'mail3', 'sender'],
    deliveryStatus: ['250 ok 1503388459 qp 9583', '1503388461', 'qp 958', '5.1.1', 'try later'],
    destIp: ['198.51.100.1', '203.0.113.5', '198.51'],
    destHost: ['mx.a.example', 'mx.b', 'example'],
    destPort: ['25', '2525', '52'],
    class: ['spam', 'NotSpam', 'virus', 'spa'],
    status: ['delivered', 'rejected', 'rejected at RCPT', 'at rcpt', 'pending', 'quarantined'],
  };
  for (const field of LOG_FIELDS) {
    for (const value of sample[field]) {
      for (const mode of ['exact', 'contains'] as const) list.push({ label: `${field} ${mode} "${value}"`, q: { ...base, mode, conditions: [{ field, value }] } });
    }
  }
  const three: LogCondition[] = [{ field: 'recipient', value: 'a.example' }, { field: 'status', value: 'delivered' }, { field: 'subject', value: 'report' }];
  for (const match of ['all', 'any'] as const) {
    list.push({ label: `three fields ${match}`, q: { ...base, mode: 'contains', match, conditions: three } });
    list.push({ label: `two exact ${match}`, q: { ...base, match, conditions: [{ field: 'class', value: 'Spam' }, { field: 'sender', value: 'tanaka@ext.test' }] } });
    list.push({ label: `with a broad partial ${match}`, q: { ...base, mode: 'contains', match, conditions: [{ field: 'subject', value: 'e' }, { field: 'sender', value: 'tanaka' }] } });
  }
  list.push({ label: 'time range', q: { ...base, conditions: [], since: T0 + 5 * MIN, until: T0 + 17 * MIN } });
  list.push({ label: 'time range with a field', q: { ...base, mode: 'contains', conditions: [{ field: 'recipient', value: 'carol' }], since: T0 + 3 * MIN, until: T0 + 30 * MIN } });
  list.push({ label: 'delivered range', q: { ...base, conditions: [], deliveredAfter: T0 + 10 * MIN, deliveredBefore: T0 + 25 * MIN } });
  list.push({ label: 'domain scope', q: { ...base, conditions: [], scope: { domains: ['b.example'] }, visible: (r) => r.recipients.some((x) => x.address.endsWith('@b.example')) } });
  list.push({ label: 'domain scope and field', q: { ...base, mode: 'contains', conditions: [{ field: 'subject', value: '請求' }], scope: { domains: ['a.example'] }, visible: (r) => r.recipients.some((x) => x.address.endsWith('@a.example')) } });
  list.push({ label: 'mailbox scope', q: { ...base, conditions: [], scope: { address: 'dave@a.example' }, visible: (r) => r.recipients.some((x) => x.address === 'dave@a.example') } });
  return list;
}

test('every field, exact and partial, all and any, scoped: the indexes give what a walk of all records gives, across pages', async (t) => {
  const { log } = await openLog(t);
  const records = fixture();
  for (const r of records) await log.put(r);
  t.true(log.indexed);
  let nonEmpty = 0;
  for (const { label, q } of queries(records)) {
    const want = reference(records, q);
    if (want.length) nonEmpty++;
    t.deepEqual(await allPages(log, q), want, label);
  }
  t.true(nonEmpty > 80, `two in three queries find something (${nonEmpty})`);
});

test('exact is the whole value, contains any part; sender is envelope or From, recipient original or resolved', async (t) => {
  const { log } = await openLog(t);
  const records = fixture();
  for (const r of records) await log.put(r);
  const find = async (mode: 'exact' | 'contains', conditions: LogCondition[], match: 'all' | 'any' = 'all') =>
    (await allPages(log, { ...base, mode, match, conditions })).length;
  t.is(await find('exact', [{ field: 'sender', value: 'tanaka' }]), 0);
  t.true(await find('contains', [{ field: 'sender', value: 'tanaka' }]) > 0);
  // Envelope senders and From addresses are both the sender.
  const fromOnly = records.filter((r) => r.from?.includes('someone@ext.test')).length;
  t.is(await find('exact', [{ field: 'sender', value: 'someone@ext.test' }]), fromOnly);
  t.is(await find('exact', [{ field: 'recipient', value: 'info@a.example' }]), records.filter((r) => r.recipients[0].original === 'info@a.example').length);
  t.is(await find('exact', [{ field: 'recipient', value: 'sales@a.example' }]), records.filter((r) => r.recipients[0].address === 'sales@a.example').length);
  const spam = await find('exact', [{ field: 'class', value: 'Spam' }]);
  const tanaka = await find('exact', [{ field: 'sender', value: 'tanaka@ext.test' }]);
  const both = await find('exact', [{ field: 'class', value: 'Spam' }, { field: 'sender', value: 'tanaka@ext.test' }]);
  const either = await find('exact', [{ field: 'class', value: 'Spam' }, { field: 'sender', value: 'tanaka@ext.test' }], 'any');
  t.true(both < Math.min(spam, tanaka) && either > Math.max(spam, tanaka));
  t.is(either, spam + tanaka - both);
});

test('a page stops at the scan cap and says where to resume, never returning an empty page before the end', async (t) => {
  const { log } = await openLog(t);
  const records = fixture();
  for (const r of records) await log.put(r);
  const q = { ...base, mode: 'contains' as const, conditions: [{ field: 'subject' as const, value: 'e' }], scanCap: 3, limit: 2 };
  t.deepEqual(await allPages(log, q), reference(records, q));
});

test('an update deletes the index keys the record no longer has; retention deletes records with their keys', async (t) => {
  const { log } = await openLog(t);
  const records = fixture();
  for (const r of records) await log.put(r);
  // The queue's way: the same record object, changed and written again.
  const r = records[3];
  r.status = 'delivered';
  r.recipients[0].status = 'delivered';
  r.attempts.push({ at: r.receivedAt + 90_000, recipients: [r.recipients[0].address], host: 'mx.b.example [198.51.100.9]', port: 25, code: 250, reply: '250 ok later' });
  await log.put(r);
  /** The keys the records need: their postings and the dictionary of their terms, nothing else. */
  const keysOf = (list: MessageLogRecord[]) => [...withDictionary(list.flatMap((x) => [...indexKeys(x)]))].sort();
  const expected = () => keysOf(records);
  t.deepEqual(await log.indexKeysStored(), expected());
  t.deepEqual((await allPages(log, { ...base, conditions: [{ field: 'status', value: 'deferred' }] })).includes(r.id), false);
  t.deepEqual(await allPages(log, { ...base, conditions: [{ field: 'destIp', value: '198.51.100.9' }] }), [r.id]);

  // A record read back (after a restart) is updated the same way.
  const again = (await log.get(records[4].id))!;
  again.status = 'delivered';
  await log.put(again);
  records[4] = again;
  t.deepEqual(await log.indexKeysStored(), expected());

  const pruned = await log.prune(T0 + 10 * MIN);
  t.is(pruned, 10);
  const kept = records.slice(10);
  t.deepEqual(await log.indexKeysStored(), keysOf(kept), 'postings and dictionary terms of the pruned records are gone');
  for (const { label, q } of queries(kept)) t.deepEqual(await allPages(log, q), reference(kept, q), `after pruning: ${label}`);
});

test('rebuilding the indexes from the records gives the same keys and the same answers; a store without indexes is rebuilt at open', async (t) => {
  const { store, log } = await openLog(t);
  const records = fixture();
  for (const r of records) await log.put(r);
  const before = await log.indexKeysStored();
  const answers = await Promise.all(queries(records).map(({ q }) => allPages(log, q)));
  t.is(await log.rebuildIndex(), records.length);
  t.deepEqual(await log.indexKeysStored(), before);
  t.deepEqual(await Promise.all(queries(records).map(({ q }) => allPages(log, q))), answers);

  // As an older store: records, no index keys, no version. Searches walk the records until rebuilt.
  const plain = new MessageLog(store);
  await plain.rebuildIndex();
  const level = store.sublevel<number>('log-index');
  await level.clear();
  let rebuilt!: (n: { records: number } | Error) => void;
  const done = new Promise<{ records: number } | Error>((resolve) => { rebuilt = resolve; });
  const reopened = await MessageLog.open(store, rebuilt);
  t.deepEqual(await done, { records: records.length });
  t.true(reopened.indexed);
  t.deepEqual(await reopened.indexKeysStored(), before);
  t.deepEqual(await Promise.all(queries(records).map(({ q }) => allPages(reopened, q))), answers);
});

test('words: Latin words whole, CJK as bigrams, NFKC and case folded', (t) => {
  t.deepEqual(words('re: ご請求書 invoice#12'), ['re', 'ご請', '請求', '求書', 'invoice', '12']);
  t.deepEqual(words('株'), ['株']);
});

test('RFC 2047 encoded words: UTF-8 and ISO-2022-JP, B and Q, split multi-byte sequences joined, unknown charsets kept', async (t) => {
  const { decodeEncodedWords: d } = await import('../../appliance/message/encoded-words.ts');
  t.is(d('=?UTF-8?B?44GU6KuL5rGC5pu4?= =?UTF-8?B?44Gu6YCB5LuY?='), 'ご請求書の送付');
  const jis = Buffer.from('GyRCJDMkcyRLJEEkTxsoQg==', 'base64');
  t.is(d(`Re: =?ISO-2022-JP?B?${jis.subarray(0, 5).toString('base64')}?=\r\n =?iso-2022-jp?B?${jis.subarray(5).toString('base64')}?= ok`), 'Re: こんにちは ok');
  t.is(d('=?utf-8?Q?caf=C3=A9_au_lait?= (=?Shift_JIS?B?k/qWe4zq?=)'), 'café au lait (日本語)');
  t.is(d('=?x-unknown?B?YQ==?= plain'), '=?x-unknown?B?YQ==?= plain');
  t.is(d('no words here'), 'no words here');
});

test('intersections and unions over streams longer than a read batch, with seeks beyond it', async (t) => {
  const { log } = await openLog(t);
  const records = fixture(1500);
  for (let i = 0; i < records.length; i += 100) await Promise.all(records.slice(i, i + 100).map((r) => log.put(r)));
  const cases: Omit<LogSearchQuery, 'before'>[] = [
    { ...base, limit: 50, conditions: [{ field: 'status', value: 'delivered' }, { field: 'clientHost', value: 'mail3.sender.test' }] },
    { ...base, limit: 50, conditions: [{ field: 'sender', value: 'tanaka@ext.test' }, { field: 'recipient', value: 'sales@b.example' }, { field: 'server', value: 'mx1.mailmoat.test' }] },
    { ...base, limit: 50, match: 'any', conditions: [{ field: 'clientIp', value: '192.0.2.12' }, { field: 'destPort', value: '25' }] },
    { ...base, limit: 50, conditions: [{ field: 'status', value: 'deferred' }], scope: { domains: ['b.example'] }, visible: (r) => r.recipients.some((x) => x.address.endsWith('@b.example')) },
  ];
  for (const q of cases) {
    const want = reference(records, q);
    t.true(want.length > 10);
    t.deepEqual(await allPages(log, q), want, JSON.stringify(q.conditions));
  }
});

test('a term\'s dictionary key is written with the first record using it, not again with each later one', async (t) => {
  const { log } = await openLog(t);
  const [first] = fixture(1);
  const twin: MessageLogRecord = { ...structuredClone(first), id: MessageLog.newId(first.receivedAt + 1) };
  t.is(log.writeOps(first).length, 1 + withDictionary(indexKeys(first)).size);
  t.is(log.writeOps(twin).length, 1 + indexKeys(twin).size, 'the twin needs only its record and its postings');
});

/** Every posting stored has its term's dictionary key (what partial search enumerates). */
async function dictionaryComplete(log: MessageLog): Promise<string[]> {
  const stored = new Set(await log.indexKeysStored());
  return [...withDictionary([...stored].filter((k) => !k.startsWith('#')))].filter((k) => !stored.has(k));
}

test('a failed batch that carried dictionary keys: the next write puts them again, so the postings others wrote stay findable', async (t) => {
  const { store, log } = await openLog(t);
  const [first, second, third] = fixture(3).map((r) => ({ ...r, mailFrom: 'someone.rare@lonely.test', subject: 'quarterly figures' }));
  // Two writes built before either commits, the way the queue builds its batches: the second leaves
  // out the keys the first carries, and the first then fails (a value JSON cannot hold).
  const carrying = log.writeOps(first);
  const relying = log.writeOps(second);
  await t.throwsAsync(store.batch([...carrying, putOp(store.sublevel<bigint>('log'), 'unencodable', 1n)]));
  await store.batch(relying);
  t.true((await dictionaryComplete(log)).length > 0, 'the failed batch took dictionary keys the stored postings need');
  await log.put(third);
  await store.settled();
  t.deepEqual(await dictionaryComplete(log), []);
  const q = { ...base, mode: 'contains' as const, conditions: [{ field: 'sender' as const, value: 'rare@lonely' }] };
  t.deepEqual(await allPages(log, q), [third.id, second.id]);
});

test('a store that keeps failing is not sent the remembered dictionary with every write: one repair, then the next once a write commits', async (t) => {
  const { store: real } = await openLog(t);
  let failing = false;
  let failed = 0;
  let committed = 0;
  // Each batch sent: whether it is a repair (dictionary keys only) or a message's write.
  const sent: ('repair' | 'write')[] = [];
  const store: Store = {
    ...real,
    batch(ops, options) {
      sent.push((ops as unknown as { key: string }[]).every((o) => o.key.startsWith('#')) ? 'repair' : 'write');
      const done = failing ? Promise.reject(new Error('disk full')) : real.batch(ops, options);
      return done.then(() => { committed++; }, (err: unknown) => { failed++; throw err; });
    },
    get failedBatches() { return failed; },
    get committedBatches() { return committed; },
    settled: () => real.settled(),
  };
  const log = await MessageLog.open(store);
  const records = fixture(8);
  for (const r of records.slice(0, 3)) await log.put(r);
  failing = true;
  sent.length = 0;
  for (const r of records.slice(3, 7)) await t.throwsAsync(log.put(r));
  // The first failed write is noticed by the second, which starts one repair; it fails too, and
  // the writes after it wait for the store to take a write before trying again.
  const repairs = () => sent.filter((s) => s === 'repair').length;
  t.is(repairs(), 1, `batches sent: ${sent}`);
  failing = false;
  await log.put(records[7]);
  await store.settled();
  t.is(repairs(), 1, 'the write that finds the store working again is not held back');
  await log.put({ ...records[0], id: MessageLog.newId() });
  await store.settled();
  t.is(repairs(), 2, `batches sent: ${sent}`);
  t.deepEqual(await dictionaryComplete(log), []);
});

/**
 * The store as a slow disk shows it: the batch sent after `holdNext` waits before reaching LevelDB
 * until released. `settled` (the promise that every batch sent has committed) lets it through, as a
 * disk finishes its writes.
 */
function slowDisk(real: Store): { store: Store; holdNext(): void; release(): void } {
  let holding = false;
  let release = () => {};
  const waiting = new Set<Promise<void>>();
  const store: Store = {
    dir: real.dir,
    sublevel: <V>(name: SublevelName) => real.sublevel<V>(name),
    batch(ops, options) {
      const gate = holding ? new Promise<void>((resolve) => { release = resolve; }) : Promise.resolve();
      holding = false;
      const done = gate.then(() => real.batch(ops, options));
      waiting.add(done);
      done.then(() => waiting.delete(done), () => waiting.delete(done));
      return done;
    },
    get failedBatches() { return real.failedBatches; },
    get committedBatches() { return real.committedBatches; },
    async settled() { release(); await Promise.allSettled([...waiting]); await real.settled(); },
    approximateSize: (name, range) => real.approximateSize(name, range),
    compact: (name) => real.compact(name),
    rawEntries: (names) => real.rawEntries(names),
    putRaw: (entries, options) => real.putRaw(entries, options),
    close: () => real.close(),
  };
  return { store, holdNext() { holding = true; }, release: () => release() };
}

test('retention while a write that left a remembered dictionary key out is still on its way to disk: the key stays for its posting', async (t) => {
  const { store: real } = await openLog(t);
  const disk = slowDisk(real);
  const log = await MessageLog.open(disk.store);
  const [old, young] = fixture(2).map((r) => ({ ...r, mailFrom: 'only@race.test' }));
  await log.put(old);
  // The young record's write leaves the sender's key out (the old record's write put it) and is
  // slow to reach the disk; meanwhile retention removes the old record, the key's only posting.
  disk.holdNext();
  const writing = disk.store.batch(log.writeOps(young));
  await log.prune(old.receivedAt + 1);
  disk.release();
  await writing;
  t.deepEqual(await dictionaryComplete(log), []);
  t.deepEqual(await allPages(log, { ...base, mode: 'contains', conditions: [{ field: 'sender', value: 'only@race' }] }), [young.id]);
});
