// The quarantine: storing once (hard link or copy) with per-recipient records and indexes, search,
// every admin action, and retention. `deliver` is the delivery queue's entry point, injected; here
// it records what it was asked to send and checks the file is readable at that moment.
import test from 'ava';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../appliance/store/store.ts';
import { Quarantine, QuarantineError, type NewQuarantineRecord } from '../../appliance/quarantine/quarantine-store.ts';
import { createQuarantineActions, type DeliveryRequest } from '../../appliance/quarantine/actions.ts';
import { purgeExpired } from '../../appliance/quarantine/retention.ts';
import { ListsStore } from '../../appliance/lists/lists-store.ts';
import { Classifier } from '../../appliance/classifier/index.ts';

const RAW = Buffer.from('From: promo@shop.test\r\nTo: bob@example.com\r\nSubject: =?UTF-8?B?5aSn54m55aOy?=\r\nMessage-ID: <p1@shop.test>\r\n\r\nBig sale today only\r\n');

interface Env { store: Store; dataDir: string; quarantine: Quarantine; lists: ListsStore; spool(name?: string): Promise<string> }

async function env(t: { teardown(fn: () => Promise<void>): void }): Promise<Env> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-q-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  await mkdir(path.join(dataDir, 'spool'));
  let n = 0;
  return {
    store, dataDir,
    quarantine: await Quarantine.open(store, dataDir),
    lists: await ListsStore.open(store),
    async spool(name = `S${++n}`) {
      const p = path.join(dataDir, 'spool', `${name}.eml`);
      await writeFile(p, RAW);
      return p;
    },
  };
}

function input(over: Partial<NewQuarantineRecord> = {}): NewQuarantineRecord {
  return {
    queueId: 'Q1', receivedAt: 1_700_000_000_000, direction: 'inbound', mailFrom: 'promo@shop.test', fromHeader: 'promo@shop.test',
    subject: '大特売', messageId: '<p1@shop.test>', size: RAW.length, mainClass: 'Spam', score: 97.5, reasons: [{ name: 'BAYES', contribution: 4 }],
    clientIp: '192.0.2.1',
    recipients: [
      { address: 'bob@example.com', domain: 'example.com', mainClass: 'Spam', headerEdits: { prepend: [['X-Mailmoat-Class', 'Spam']] }, why: ['score'] },
      { address: 'carol@example.com', domain: 'example.com', mainClass: 'Spam', headerEdits: { prepend: [['X-Mailmoat-Class', 'Spam']] }, why: ['score'] },
    ],
    ...over,
  };
}

function recorder() {
  const sent: (DeliveryRequest & { body: Buffer })[] = [];
  return {
    sent,
    deliver: async (req: DeliveryRequest) => { sent.push({ ...req, body: await readFile(req.rawPath) }); },
  };
}

test('a message is stored once (hard link of the spool file) with its record, readable after the spool file is gone', async (t) => {
  const e = await env(t);
  const spool = await e.spool();
  const rec = await e.quarantine.put(input(), spool);
  t.is(statSync(e.quarantine.blobPath(rec)).ino, statSync(spool).ino, 'a hard link, not a copy');
  await rm(spool);
  t.deepEqual(await e.quarantine.readRaw(rec), RAW);
  const got = await e.quarantine.get(rec.id);
  t.like(got, { mailFrom: 'promo@shop.test', subject: '大特売', mainClass: 'Spam', score: 97.5, direction: 'inbound' });
  t.deepEqual(got?.recipients.map((r) => r.state), ['held', 'held']);
});

test('search by recipient, sender, class, domain, text and time, newest first', async (t) => {
  const e = await env(t);
  await e.quarantine.put(input({ queueId: 'A' }), await e.spool(), 1000);
  await e.quarantine.put(input({ queueId: 'B', mailFrom: 'x@virus.test', mainClass: 'Virus', virus: 'Eicar', subject: 'invoice', recipients: [input().recipients[0]] }), await e.spool(), 2000);
  await e.quarantine.put(input({ queueId: 'C', recipients: [{ ...input().recipients[1], address: 'dan@other.test', domain: 'other.test' }] }), await e.spool(), 3000);
  const ids = async (q: Parameters<Quarantine['search']>[0]) => (await e.quarantine.search(q)).map((r) => r.id);
  t.deepEqual(await ids({}), ['C', 'B', 'A']);
  t.deepEqual(await ids({ recipient: 'BOB@example.com' }), ['B', 'A']);
  t.deepEqual(await ids({ sender: 'x@virus.test' }), ['B']);
  t.deepEqual(await ids({ mainClass: 'Virus' }), ['B']);
  t.deepEqual(await ids({ domain: 'other.test' }), ['C']);
  t.deepEqual(await ids({ text: '特売' }), ['C', 'A']);
  t.deepEqual(await ids({ since: 1500, until: 2500 }), ['B']);
  t.deepEqual(await ids({ limit: 1 }), ['C']);
});

test('release delivers the held copies through the delivery path, then the message is gone', async (t) => {
  const e = await env(t);
  const rec = await e.quarantine.put(input(), await e.spool());
  const r = recorder();
  const actions = createQuarantineActions({ quarantine: e.quarantine, deliver: r.deliver, lists: e.lists });
  t.deepEqual(await actions.release(rec.id, ['carol@example.com']), ['carol@example.com']);
  t.is(r.sent.length, 1);
  t.deepEqual(r.sent[0].recipients, ['carol@example.com']);
  t.is(r.sent[0].mailFrom, 'promo@shop.test');
  t.deepEqual(r.sent[0].body, RAW);
  t.deepEqual(r.sent[0].headerEdits.prepend.map(([n]) => n), ['X-Mailmoat-Quarantine', 'X-Mailmoat-Class']);
  t.deepEqual((await e.quarantine.get(rec.id))?.recipients.map((x) => x.state), ['held', 'released']);
  await t.throwsAsync(actions.release(rec.id, ['carol@example.com']), { instanceOf: QuarantineError, message: /holds no copy/ });
  await actions.release(rec.id);
  t.is(await e.quarantine.get(rec.id), undefined);
  t.false(existsSync(e.quarantine.blobPath(rec)));
  t.deepEqual(await e.quarantine.search({ recipient: 'bob@example.com' }), []);
});

test('a failing delivery keeps the message held', async (t) => {
  const e = await env(t);
  const rec = await e.quarantine.put(input(), await e.spool());
  const actions = createQuarantineActions({ quarantine: e.quarantine, deliver: async () => { throw new Error('queue full'); }, lists: e.lists });
  await t.throwsAsync(actions.release(rec.id), { message: 'queue full' });
  t.deepEqual((await e.quarantine.get(rec.id))?.recipients.map((x) => x.state), ['held', 'held']);
});

test('release and train teaches the real classifier the message as ham', async (t) => {
  const e = await env(t);
  const classifier = await Classifier.open(e.store);
  const rec = await e.quarantine.put(input(), await e.spool());
  const r = recorder();
  const actions = createQuarantineActions({ quarantine: e.quarantine, deliver: r.deliver, lists: e.lists, scorer: classifier });
  t.is(classifier.counts.ham, 0);
  await actions.releaseAndTrain(rec.id);
  t.is(classifier.counts.ham, 1);
  t.is(r.sent.length, 1);
  const noScorer = createQuarantineActions({ quarantine: e.quarantine, deliver: r.deliver, lists: e.lists });
  const rec2 = await e.quarantine.put(input({ queueId: 'Q2' }), await e.spool());
  await t.throwsAsync(noScorer.releaseAndTrain(rec2.id), { message: /no classifier/ });
});

test('allow-list sender and release; block-list sender and delete', async (t) => {
  const e = await env(t);
  const r = recorder();
  const actions = createQuarantineActions({ quarantine: e.quarantine, deliver: r.deliver, lists: e.lists });
  const a = await e.quarantine.put(input({ queueId: 'A' }), await e.spool());
  await actions.allowSenderAndRelease(a.id, ['bob@example.com']);
  t.deepEqual(e.lists.list({ direction: 'inbound', kind: 'sender-allow', scope: 'address', owner: 'bob@example.com' }).map((x) => x.value), ['promo@shop.test']);
  t.deepEqual(r.sent.map((s) => s.recipients), [['bob@example.com']]);
  const b = await e.quarantine.put(input({ queueId: 'B' }), await e.spool());
  t.deepEqual(await actions.blockSenderAndDelete(b.id), ['bob@example.com', 'carol@example.com']);
  t.deepEqual(e.lists.search({ kind: 'sender-block' }).map((x) => x.owner).sort(), ['bob@example.com', 'carol@example.com']);
  t.is(await e.quarantine.get(b.id), undefined);
  t.is(r.sent.length, 1, 'nothing delivered by block-and-delete');
});

test('delete removes the copies; forward sends a copy to the admin and keeps the message', async (t) => {
  const e = await env(t);
  const r = recorder();
  const actions = createQuarantineActions({ quarantine: e.quarantine, deliver: r.deliver, lists: e.lists });
  const rec = await e.quarantine.put(input(), await e.spool());
  await actions.forward(rec.id, 'admin@example.com');
  t.deepEqual(r.sent[0].recipients, ['admin@example.com']);
  t.regex(r.sent[0].headerEdits.prepend[0][1], /^forwarded .* \(held for bob@example.com, carol@example.com\)$/);
  t.truthy(await e.quarantine.get(rec.id));
  await t.throwsAsync(actions.forward(rec.id, 'not-an-address'), { message: /not an address/ });
  await actions.delete(rec.id, ['bob@example.com']);
  t.deepEqual((await e.quarantine.get(rec.id))?.recipients.map((x) => x.state), ['deleted', 'held']);
  await actions.delete(rec.id);
  t.is(await e.quarantine.get(rec.id), undefined);
  await t.throwsAsync(actions.delete(rec.id), { message: /no quarantined message/ });
});

test('retention deletes expired messages and their files, keeps recent ones, and sweeps orphan files', async (t) => {
  const e = await env(t);
  const day = 24 * 3600 * 1000;
  const now = 100 * day;
  const old = await e.quarantine.put(input({ queueId: 'OLD' }), await e.spool(), now - 31 * day);
  const recent = await e.quarantine.put(input({ queueId: 'NEW' }), await e.spool(), now - 2 * day);
  const orphan = path.join(e.quarantine.dir, 'ORPHAN.eml');
  await writeFile(orphan, RAW);
  await utimes(orphan, new Date(now - 3 * day), new Date(now - 3 * day));
  const r = await purgeExpired(e.quarantine, 30, now);
  t.deepEqual(r, { messages: 1, orphans: 1 });
  t.is(await e.quarantine.get(old.id), undefined);
  t.truthy(await e.quarantine.get(recent.id));
  t.deepEqual((await readdir(e.quarantine.dir)).sort(), ['NEW.eml']);
  t.deepEqual(await purgeExpired(e.quarantine, 1, now), { messages: 1, orphans: 0 });
});

test('a release note outlives a restart, restores the message from the queued copy, and is dropped once the copy left the queue', async (t) => {
  const e = await env(t);
  const rec = await e.quarantine.put(input(), await e.spool());
  const copyFile = await e.spool('COPY');
  const copies = ['C1', 'C2'];
  const actions = createQuarantineActions({ quarantine: e.quarantine, lists: e.lists, deliver: async () => copies.shift() });
  await actions.release(rec.id, ['bob@example.com']);
  await actions.release(rec.id, ['carol@example.com']);
  t.is(await e.quarantine.get(rec.id), undefined, 'every copy released: the message left the quarantine');
  t.false(existsSync(e.quarantine.blobPath(rec)));

  // The daemon restarts: the notes are read again; the queue no longer has C2 (delivered meanwhile).
  const reopened = await Quarantine.open(e.store, e.dataDir);
  t.deepEqual(reopened.copiesOf(rec.id).sort(), ['C1', 'C2']);
  t.is(await reopened.pruneReleases((copy) => copy === 'C1'), 1);
  t.deepEqual(reopened.copiesOf(rec.id), ['C1']);
  t.is(await reopened.releaseNote('C2'), undefined);

  // Taking C1 back: bob's copy held again, from the queued copy's file; carol's stays released.
  const back = await reopened.restore('C1', ['bob@example.com'], copyFile);
  t.deepEqual(back.recipients.map((r) => [r.address, r.state]), [['bob@example.com', 'held'], ['carol@example.com', 'released']]);
  t.like(back, { id: rec.id, reasons: rec.reasons, quarantinedAt: rec.quarantinedAt });
  t.deepEqual(await reopened.readRaw(back), RAW);
  t.deepEqual((await reopened.search({ recipient: 'bob@example.com' })).map((r) => r.id), [rec.id], 'found by its indexes again');
  t.deepEqual(reopened.usage('mailbox', 'bob@example.com'), { bytes: RAW.length, messages: 1 });
  await t.throwsAsync(reopened.restore('C1', ['bob@example.com'], copyFile), { instanceOf: QuarantineError, message: /can no longer be undone/ }, 'used up');
});
