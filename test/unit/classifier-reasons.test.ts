// The reasons behind a score in words, Japanese and English, from the reasons catalog: every entry
// in both languages with the same placeholders, every structural fact the features can find has
// words, feature tokens read by their prefix, and every reason the classifier gives on the
// hand-written fixtures reads as a sentence in both languages rather than as a raw token.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Classifier } from '../../appliance/classifier/index.ts';
import { reasonCatalog, reasonText } from '../../appliance/i18n/reasons.ts';
import { openStore } from '../../appliance/store/store.ts';

const FIXTURES = new URL('../fixtures/classifier/', import.meta.url);
const placeholders = (text: string) => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9fff]/;

test('every reason text is in Japanese too, with the same placeholders as the English', (t) => {
  const keys = Object.keys(reasonCatalog.en) as (keyof typeof reasonCatalog.en)[];
  t.true(keys.length > 60);
  for (const key of keys) {
    t.regex(reasonCatalog.ja[key], JAPANESE, `${key} is written in Japanese`);
    t.deepEqual(placeholders(reasonCatalog.ja[key]), placeholders(reasonCatalog.en[key]), `${key}: same placeholders`);
  }
});

test('every structural fact the features can find has words of its own', async (t) => {
  const source = await readFile(new URL('../../appliance/classifier/features.ts', import.meta.url), 'utf8');
  const facts = [...source.matchAll(/facts\.push\('([a-z0-9-]+)'\)/g)].map((m) => m[1]);
  t.true(facts.length > 20);
  for (const fact of new Set(facts)) {
    t.true(`reason.fact.${fact}` in reasonCatalog.en, `fact:${fact} has no entry`);
    t.not(reasonText('en', { name: `fact:${fact}` }), reasonText('en', { name: 'fact:no-such-fact' }));
  }
});

test('feature tokens read as what was seen, in both languages', (t) => {
  const both = (name: string) => [reasonText('en', { name }), reasonText('ja', { name })];
  t.deepEqual(both('from:no-name'), ['the sender gives no name', '送信者名がありません']);
  t.deepEqual(both('MODEL_PRIOR'), ['the share of spam and good mail in what was learned', '学習したメールに占めるスパムと正常なメールの割合']);
  t.deepEqual(both('subject:cheap 2 pills'), ['the subject has the words “cheap … pills”', '件名に「cheap … pills」という語があります']);
  t.deepEqual(both('click 1 here'), ['the text has the words “click here”', '本文に「click here」という語があります']);
  t.deepEqual(both('url:dom:example.top'), ['a link goes to example.top', 'リンク先が example.top です']);
  t.deepEqual(both('body:len:0'), ['the length of its text (under 50 characters)', '本文の長さ（50 文字未満）']);
  t.deepEqual(both('list-id:<dev.example.org>'), ['its list-id header field says “<dev.example.org>”', 'list-id ヘッダーに「<dev.example.org>」とあります']);
  t.deepEqual(both('fact:html-only'), ['it is HTML only, with no plain text', 'テキスト部分がなく HTML だけです']);
  t.is(reasonText('ja', { name: 'PHISH_LINK_TEXT_MISMATCH', params: { shown: 'paypal.com', target: 'example.top' } }),
    'リンクの表示は paypal.com ですが、実際のリンク先は example.top です');
  t.is(reasonText('ja', { name: 'BLOCKLIST_HIT', detail: 'the sender is on the block list' }), 'the sender is on the block list', 'a rule the catalog does not know keeps its sentence');
});

test('every reason the classifier gives on the fixtures reads as a sentence in Japanese and English', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-reasons-'));
  const store = await openStore(dir);
  try {
    const c = await Classifier.open(store);
    await c.installStarterModel();
    const files: URL[] = [new URL('spam-pills.eml', FIXTURES), new URL('ham-meeting.eml', FIXTURES)];
    for (const sub of ['phish/', 'day-one-ham/']) {
      for (const f of (await readdir(new URL(sub, FIXTURES))).filter((x) => x.endsWith('.eml'))) files.push(new URL(sub + f, FIXTURES));
    }
    let seen = 0;
    for (const file of files) {
      const r = await c.score({ raw: await readFile(file), auth: { spf: 'fail', dkim: 'none', dmarc: 'fail', fromDomain: 'example.org' } });
      for (const reason of r.reasons) {
        seen++;
        const en = reasonText('en', reason);
        const ja = reasonText('ja', reason);
        t.truthy(en, `${reason.name} has English words`);
        t.not(en, reason.name, `${reason.name} is not shown raw`);
        t.notRegex(en!, /\{\w+\}|undefined/, `${reason.name}: ${en}`);
        t.regex(ja!, JAPANESE, `${reason.name} in Japanese: ${ja}`);
        t.notRegex(ja!, /\{\w+\}|undefined/, `${reason.name}: ${ja}`);
        if (reason.detail) t.is(reason.detail, en ?? '', `${reason.name}: the stored sentence is the catalog's English`);
      }
    }
    t.true(seen > 100);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
