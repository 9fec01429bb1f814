// Training uploads and the per-domain filtering setting through the console API: a real
// classifier learns an uploaded .eml once (the second upload says nothing changed), a file that is
// not mail gets an error naming it, each result in the caller's language; mailbox users may not train; a domain admin sets which list
// level decides first for their own domain only; the training status says what was learnt and what
// the thresholds mean, in the caller's language.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { trainingProvider } from '../../appliance/api/providers/training.ts';
import { Classifier } from '../../appliance/classifier/index.ts';
import { openStore } from '../../appliance/store/store.ts';
import { makeConsole, TWO_DOMAINS } from '../helpers/console-api.ts';

const EML = 'From: promo@shop.test\r\nTo: carol@a.example\r\nSubject: cheap pills\r\nMessage-ID: <t1@shop.test>\r\n\r\nBuy cheap pills now, limited offer.\r\n';

test('training: learnt once per file, errors per file, admins only; list priority per own domain', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-tapi-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const classifier = await Classifier.open(store);
  const h = await makeConsole(t, { config: TWO_DOMAINS, providers: { training: trainingProvider(classifier) } });
  await h.addUser('alice', 'domain-admin', ['a.example']);
  await h.addUser('carol@a.example', 'user');
  const alice = await h.login('alice');
  const carol = await h.login('carol@a.example');
  const upload = (as: typeof alice, name: string, body: string) => h.request('POST', `/api/training?as=spam&filename=${encodeURIComponent(name)}`,
    { as, body: Buffer.from(body), headers: { 'content-type': 'application/octet-stream' } });

  const first = await upload(alice, 'pills.eml', EML);
  t.deepEqual(first.json, { ok: true, message: 'pills.eml: learnt as spam', key: 'training-result.learnt-spam', params: { file: 'pills.eml' } });
  t.is((await upload(alice, 'pills.eml', EML)).json.message, 'pills.eml: already learnt as spam; nothing changed');
  const bad = await upload(alice, 'notes.txt', 'just some words without any header\n');
  t.false(bad.json.ok);
  t.is(bad.json.key, 'training-result.not-mail');
  t.regex(bad.json.message, /^notes\.txt: this is not a mail message/);
  // In the caller's language: Alice switches to Japanese.
  await h.request('PATCH', '/api/me', { as: alice, body: { language: 'ja' } });
  t.is((await upload(alice, 'pills.eml', EML)).json.message, 'pills.eml: すでにスパムとして学習済みです（変更はありません）');
  const badJa = await upload(alice, 'notes.txt', 'no headers here\n');
  t.regex(badJa.json.message, /^notes\.txt: メールではありません/);
  const brokenMsg = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(100)]);
  const msg = await h.request('POST', '/api/training?as=ham&filename=mail.msg', { as: alice, body: brokenMsg, headers: { 'content-type': 'application/octet-stream' } });
  t.false(msg.json.ok);
  t.is(msg.json.key, 'training-result.unreadable-msg');
  t.regex(msg.json.message, /^mail\.msg: この Outlook \.msg ファイルを読み取れません（.+）$/);
  const ham = await h.request('POST', '/api/training?as=ham&filename=hello.eml', { as: alice, headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from('From: friend@example.org\r\nSubject: lunch\r\n\r\nSee you at noon.\r\n') });
  t.is(ham.json.message, 'hello.eml: 非スパムとして学習しました');
  t.is((await upload(carol, 'pills.eml', EML)).status, 403);

  t.is((await h.request('PUT', '/api/filtering/domains/b.example', { as: alice, body: { listPriority: 'domain-first' } })).status, 403);
  const own = await h.request('PUT', '/api/filtering/domains/a.example', { as: alice, body: { listPriority: 'domain-first' } });
  t.is(own.status, 200);
  t.deepEqual(h.server.context.config.current.filtering.listPriority.domains, { 'a.example': 'domain-first' });
  const listed = await h.request('GET', '/api/filtering/domains', { as: alice });
  t.deepEqual(listed.json.items, [{ name: 'a.example', listPriority: 'domain-first' }]);
  t.is((await h.request('PUT', '/api/filtering/domains/a.example', { as: alice, body: { listPriority: 'sideways' } })).status, 400);
});

test('training status: how much was learnt and what the thresholds mean, in the caller\'s language', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-tapi-'));
  const store = await openStore(dataDir);
  t.teardown(async () => { await store.close(); await rm(dataDir, { recursive: true, force: true }); });
  const classifier = await Classifier.open(store);
  await classifier.installStarterModel();
  const h = await makeConsole(t, { config: TWO_DOMAINS, providers: { training: trainingProvider(classifier) } });
  await h.addUser('alice', 'domain-admin', ['a.example']);
  await h.addUser('carol@a.example', 'user');
  const alice = await h.login('alice');
  const en = await h.request('GET', '/api/training', { as: alice });
  t.is(en.status, 200);
  t.like(en.json, { spam: 0, ham: 0 });
  t.regex(en.json.calibration, /^at 90 %: .+ good messages would be held and [\d.]+ % of spam caught; .+ judged on the starter model's corpus/);
  await h.request('PATCH', '/api/me', { as: alice, body: { language: 'ja' } });
  const ja = await h.request('GET', '/api/training', { as: alice });
  t.regex(ja.json.calibration, /^90 % では正常なメールの.+が保留され、スパムの [\d.]+ % を捕捉します。.+スターターモデルのコーパスで/);
  t.is((await h.request('GET', '/api/training', { as: await h.login('carol@a.example') })).status, 403);
});
