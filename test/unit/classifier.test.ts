// The classifier over a real LevelDB store: learning and unlearning, a model independent of the
// order of its lessons, calibration on held-back lessons, persistence across a restart,
// explainable results, the starter model on short ordinary mail, DNS trouble, and the phishing
// rules on hand-written mail.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Classifier, type AuthFindings } from '../../appliance/classifier/index.ts';
import { describeCalibration } from '../../appliance/classifier/calibration.ts';
import { loadSpamAssassinCorpus } from '../../appliance/classifier/sa-corpus.ts';
import { openStore, type Store } from '../../appliance/store/store.ts';

const FIXTURES = new URL('../fixtures/classifier/', import.meta.url);

async function tempStore(): Promise<{ store: Store; dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-classifier-'));
  const store = await openStore(dir);
  return { store, dir, cleanup: async () => { await store.close().catch(() => undefined); await rm(dir, { recursive: true, force: true }); } };
}

function mail(subject: string, body: string, extra = ''): Buffer {
  return Buffer.from(`From: sender@example.org\r\nTo: you@example.net\r\nSubject: ${subject}\r\n${extra}` +
    `Date: Tue, 3 Sep 2024 10:15:00 +0900\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);
}

const spams = [
  mail('Cheap pills, 90% off', 'Buy cheap pills online now, no prescription, limited offer, click here'),
  mail('Make money fast', 'Earn money from home, cash offer, click here now, limited time'),
  mail('You won a prize', 'Claim your cash prize now, click here, offer ends today'),
];
const hams = [
  mail('Design review agenda', 'Please bring the benchmark numbers to the design review on Thursday'),
  mail('Re: queue retry policy', 'I think the retry policy should back off after the third attempt, see the design notes'),
  mail('Lunch on Friday?', 'Shall we have lunch after the review on Friday? The new place near the office'),
];

const weightsOf = (c: Classifier) => Float64Array.from(c.shared().weights);

function sameWeights(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

test('training moves scores towards the label; untraining takes it back exactly', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    const probe = mail('Cheap offer', 'click here now for cheap pills');
    const before = (await c.score({ raw: probe })).score;
    t.is(before, 50, 'an empty model has no opinion');
    for (let i = 0; i < 3; i++) { await c.train(spams[i], 'spam'); await c.train(hams[i], 'ham'); }
    const trained = (await c.score({ raw: probe })).score;
    t.true(trained > 60, `spam-like probe scores ${trained}`);
    t.true((await c.score({ raw: mail('Review notes', 'the design review benchmark numbers') })).score < 40);
    await c.refit();
    const refitted = (await c.score({ raw: probe })).score;
    t.true(refitted > 60, `after the refit too: ${refitted}`);
    const snapshot = weightsOf(c);
    const extra = mail('Free cash', 'click here for free cash now');
    t.true(await c.train(extra, 'spam'));
    t.false(await c.train(extra, 'spam'), 'the same message is learned once');
    t.true(await c.untrain(extra, 'spam'));
    t.false(await c.untrain(extra, 'spam'), 'nothing left to untrain');
    await c.refit();
    t.true(sameWeights(weightsOf(c), snapshot), 'untraining removed exactly that one lesson');
    t.is((await c.score({ raw: probe })).score, refitted);
    t.deepEqual({ spam: c.counts.spam, ham: c.counts.ham }, { spam: 3, ham: 3 });
  } finally {
    await cleanup();
  }
});

test('retraining a message with the other label replaces its earlier training', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    for (let i = 0; i < 3; i++) { await c.train(spams[i], 'spam'); await c.train(hams[i], 'ham'); }
    const msg = mail('Cash offer for the design review', 'click here now for the benchmark numbers');
    await c.train(msg, 'spam');
    const asSpam = (await c.score({ raw: msg })).score;
    await c.train(msg, 'ham');
    t.true((await c.score({ raw: msg })).score < asSpam);
    t.deepEqual({ spam: c.counts.spam, ham: c.counts.ham }, { spam: 3, ham: 4 });
    t.false(await c.untrain(msg, 'spam'), 'its spam training was already replaced');
  } finally {
    await cleanup();
  }
});

test('the model persists across a restart', async (t) => {
  const { store, dir, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    for (let i = 0; i < 3; i++) { await c.train(spams[i], 'spam'); await c.train(hams[i], 'ham'); }
    await c.refit();
    const probe = mail('Cheap offer', 'click here now for cheap pills');
    const before = await c.score({ raw: probe });
    await store.close();
    const reopened = await openStore(dir);
    try {
      const c2 = await Classifier.open(reopened);
      t.deepEqual(await c2.score({ raw: probe }), before);
      t.deepEqual({ spam: c2.counts.spam, ham: c2.counts.ham }, { spam: 3, ham: 3 });
      t.true(await c2.untrain(spams[0], 'spam'), 'training records survive too');
    } finally {
      await reopened.close();
    }
  } finally {
    await cleanup();
  }
});

test('the model after a set of lessons does not depend on their order', async (t) => {
  const one = await tempStore();
  const two = await tempStore();
  try {
    // One folder at a time (all spam, then all ham, as two `mailmoat train` runs) …
    const a = await Classifier.open(one.store);
    for (const m of spams) await a.train(m, 'spam');
    await a.refit();
    for (const m of hams) await a.train(m, 'ham');
    await a.refit();
    // … or interleaved the other way round, with a lesson given and taken back on the way.
    const b = await Classifier.open(two.store);
    const extra = mail('Free cash', 'click here for free cash now');
    for (let i = 2; i >= 0; i--) { await b.train(hams[i], 'ham'); await b.train(spams[i], 'spam'); }
    await b.train(extra, 'spam');
    await b.untrain(extra, 'spam');
    await b.refit();
    t.true(sameWeights(weightsOf(a), weightsOf(b)));
    const probe = mail('Cheap offer', 'click here now for cheap pills');
    t.deepEqual(await a.score({ raw: probe }), await b.score({ raw: probe }));
  } finally {
    await one.cleanup();
    await two.cleanup();
  }
});

test('the score is calibrated on held-back lessons once there are enough of them', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    for (let i = 0; i < 3; i++) { await c.train(spams[i], 'spam'); await c.train(hams[i], 'ham'); }
    t.is((await c.refit()).basis, 'default', 'six lessons are too few to judge a threshold by');
    const corpus = loadSpamAssassinCorpus().filter((m) => m.split === 'train');
    for (const m of [...corpus.filter((x) => x.spam).slice(0, 30), ...corpus.filter((x) => !x.spam).slice(0, 60)]) await c.train(m.raw, m.spam ? 'spam' : 'ham');
    const cal = await c.refit();
    t.is(cal.basis, 'store');
    t.like(cal.heldOut, { ham: 63, spam: 33 });
    t.true(cal.heldOut!.hamAt90 === 0, 'with fewer than 1000 ham, none of them reaches 90 %');
    t.true(cal.slope > 0);
    t.regex(describeCalibration(cal), /^at 90 %: none of 63 good messages would be held and [\d.]+ % of spam caught; .* your own training data/);
  } finally {
    await cleanup();
  }
});

test('results explain themselves: top tokens and rules with contributions', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    for (let i = 0; i < 3; i++) { await c.train(spams[i], 'spam'); await c.train(hams[i], 'ham'); }
    const r = await c.score({ raw: mail('Cheap pills', 'click here now'), auth: { spf: 'fail', dkim: 'none', dmarc: 'fail', fromDomain: 'example.org' } });
    t.true(r.reasons.length > 3);
    t.true(r.reasons.length <= 10);
    const names = r.reasons.map((x) => x.name);
    t.true(names.includes('AUTH_SPF_FAIL'));
    t.true(names.includes('AUTH_DMARC_FAIL'));
    t.true(r.reasons.some((x) => x.name === 'subject:cheap' && x.contribution > 0), names.join(', '));
    for (const x of r.reasons) t.true(Number.isFinite(x.contribution) && x.contribution !== 0);
    t.true(r.score >= 0 && r.score <= 100);
    const withoutAuth = await c.score({ raw: mail('Cheap pills', 'click here now') });
    t.true(r.score > withoutAuth.score, 'failing authentication raises the score');
  } finally {
    await cleanup();
  }
});

test('the starter model installs once, on an empty store, and recognises obvious spam', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    t.true(await c.installStarterModel());
    t.false(await c.installStarterModel(), 'a model exists now');
    t.truthy(c.counts.starter);
    const spam = await c.score({ raw: await readFile(new URL('spam-pills.eml', FIXTURES)) });
    const ham = await c.score({ raw: await readFile(new URL('ham-meeting.eml', FIXTURES)) });
    t.true(spam.score > ham.score, `spam ${spam.score} vs ham ${ham.score}`);
    t.is(ham.classHint, 'Not Spam');
    const trainedFirst = await tempStore();
    try {
      const c2 = await Classifier.open(trainedFirst.store);
      await c2.train(hams[0], 'ham');
      t.false(await c2.installStarterModel(), 'a store trained by the admin keeps its own model');
    } finally {
      await trainedFirst.cleanup();
    }
  } finally {
    await cleanup();
  }
});

test('day one: short ordinary mail scores low with the starter model alone', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    await c.installStarterModel();
    t.is(c.calibration.basis, 'starter');
    const dir = new URL('day-one-ham/', FIXTURES);
    // The shipping notice is HTML-only and worded like an offer: statistics alone leave it Unsure;
    // the DMARC pass the pipeline finds for amazon.co.jp is what clears it, as it would on the box.
    const auth: Record<string, AuthFindings | undefined> = {
      'shipping-notice.eml': { spf: 'pass', dkim: 'pass', dmarc: 'pass', fromDomain: 'amazon.co.jp' },
    };
    const files = (await readdir(dir)).filter((f) => f.endsWith('.eml')).sort();
    t.deepEqual(files, ['calendar.eml', 'event-ticket.eml', 'japanese-iso-2022-jp.eml', 'note.eml', 'notification.eml', 'shipping-notice.eml']);
    for (const f of files) {
      const r = await c.score({ raw: await readFile(new URL(f, dir)), auth: auth[f] });
      t.true(r.score < (auth[f] ? 50 : 20), `${f} scores ${r.score}`);
      t.is(r.classHint, 'Not Spam', f);
    }
  } finally {
    await cleanup();
  }
});

test('day one: the hand-written phishing set is held as Phish, with reasons in plain words', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    await c.installStarterModel();
    const dir = new URL('phish/', FIXTURES);
    const results = new Map<string, Awaited<ReturnType<Classifier['score']>>>();
    for (const f of (await readdir(dir)).filter((x) => x.endsWith('.eml'))) results.set(f, await c.score({ raw: await readFile(new URL(f, dir)) }));
    const missed = [...results].filter(([, r]) => !(r.classHint === 'Phish' && r.score >= 90)).map(([f, r]) => `${f} (${r.score.toFixed(1)} ${r.classHint})`);
    t.is(results.size, 13);
    t.deepEqual(missed, [], 'every message of the set is held as Phish');
    const reason = (f: string, name: string) => results.get(f)?.reasons.find((r) => r.name === name)?.detail;
    t.is(reason('netflix-billing.eml', 'PHISH_LINK_TEXT_MISMATCH'), 'the link text says netflix.com but it points to netflix-billing.help');
    t.is(reason('microsoft-punycode.eml', 'PHISH_LOOKALIKE_DOMAIN'), 'xn--mcrosoft-account-9vn.com is made to look like microsoft\'s address but is not');
    t.is(reason('html-attachment-login.eml', 'PHISH_ATTACHED_LOGIN_PAGE'), 'the attached page INV-20931.html opens a login form in the browser');
    t.truthy(reason('data-url.eml', 'PHISH_DATA_URL'));
    t.is(reason('dropbox-shared.eml', 'URL_ABUSED_TLD'), 'a link goes to dropbox.secure-files.top; .top is among the top-level domains most used for spam and phishing');
    t.truthy(reason('javascript-link.eml', 'PHISH_JAVASCRIPT_URL'));
    t.is(reason('javascript-link.eml', 'URL_ABUSED_TLD'), 'a link goes to vm-listen.example-cdn.top; .top is among the top-level domains most used for spam and phishing',
      'the address inside a javascript: link is read like any link');
    t.truthy(reason('qr-code-only.eml', 'PHISH_QR_CODE_ONLY'));
    t.is(reason('smbc-shortener.eml', 'PHISH_BRAND_IN_SENDER_DOMAIN'), 'the sender\'s domain smbc-card-info.xyz has smbc in its name but does not belong to smbc');
  } finally {
    await cleanup();
  }
});

test('DNS trouble never raises the score: temperror results are not counted, and say so', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    await c.installStarterModel();
    const raw = mail('Thursday', 'See you on Thursday at ten.\r\nBring the printed slides, please.');
    const plain = await c.score({ raw });
    const trouble = await c.score({ raw, auth: { spf: 'temperror', dkim: 'temperror', dmarc: 'fail', fromDomain: 'example.org' } });
    t.is(trouble.score, plain.score);
    t.is(trouble.classHint, 'Not Spam');
    t.like(trouble.reasons.find((r) => r.name === 'AUTH_DNS_TEMPERROR'), { contribution: 0 });
    t.false(trouble.reasons.some((r) => r.name.startsWith('AUTH_') && r.contribution > 0));
  } finally {
    await cleanup();
  }
});

test('a store of the old format (online weights, no lessons) is cleared and starts again', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const db = store.sublevel<unknown>('bayes');
    await db.put('meta', { format: 1, hashBits: 22, featureVersion: 1, spam: 3, ham: 3 });
    await db.put('w!12345', 0.5);
    const c = await Classifier.open(store);
    t.deepEqual({ spam: c.counts.spam, ham: c.counts.ham }, { spam: 0, ham: 0 });
    t.is(c.shared().weights[12345], 0);
    t.is(await db.get('w!12345'), undefined);
    t.true(await c.installStarterModel());
  } finally {
    await cleanup();
  }
});

function html(from: string, body: string, subject = 'Account notice'): Buffer {
  return Buffer.from(`From: ${from}\r\nTo: you@example.net\r\nSubject: ${subject}\r\nDate: Tue, 3 Sep 2024 10:15:00 +0900\r\n` +
    `MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>${body}</body></html>\r\n`);
}

async function rulesOf(c: Classifier, raw: Buffer, auth?: { dmarc?: string }) {
  const r = await c.score({ raw, auth });
  return { r, names: r.reasons.map((x) => x.name).filter((n) => n.startsWith('PHISH_')) };
}

test('phishing rules fire on hand-written phish and make the class Phish', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    const mismatch = await rulesOf(c, html('"PayPal" <service@paypa1-secure.example>',
      '<p>Your account is limited. Sign in at <a href="http://paypa1-secure.example/login">www.paypal.com</a></p>' +
      '<form action="http://paypa1-secure.example/post"><input type="password" name="p"></form>'));
    t.true(mismatch.names.includes('PHISH_LINK_TEXT_MISMATCH'), mismatch.names.join());
    t.true(mismatch.names.includes('PHISH_LOOKALIKE_DOMAIN'));
    t.true(mismatch.names.includes('PHISH_CREDENTIAL_FORM'));
    t.true(mismatch.names.includes('PHISH_BRAND_NAME_OTHER_DOMAIN'));
    t.is(mismatch.r.classHint, 'Phish');
    const detail = mismatch.r.reasons.find((x) => x.name === 'PHISH_LINK_TEXT_MISMATCH')?.detail;
    t.is(detail, 'the link text says www.paypal.com but it points to paypa1-secure.example');

    const japanese = await rulesOf(c, html('=?UTF-8?B?' + Buffer.from('三井住友カード').toString('base64') + '?= <info@smbc.co.jp>',
      '<p>ご利用確認のお願い <a href="https://bit.ly/3abcd">こちら</a> <a href="http://xn--smb-xyz.example/">確認</a></p>'), { dmarc: 'fail' });
    t.true(japanese.names.includes('PHISH_BRAND_NAME_DMARC_FAIL'), japanese.names.join());
    t.true(japanese.names.includes('PHISH_URL_SHORTENER'));
    t.true(japanese.names.includes('PHISH_PUNYCODE_DOMAIN'));
    t.is(japanese.r.classHint, 'Phish');
  } finally {
    await cleanup();
  }
});

test('content rules: the Japanese unsolicited-advertising label counts; a code to scan inside a full message does not', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    await c.installStarterModel();
    const jp = (subject: string) => Buffer.from(`From: info@shop.example\r\nTo: you@example.net\r\nSubject: =?UTF-8?B?${Buffer.from(subject).toString('base64')}?=\r\n` +
      'Date: Tue, 3 Sep 2024 10:15:00 +0900\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n今月のおすすめ商品のご案内です。\r\n');
    const names = async (raw: Buffer) => (await c.score({ raw })).reasons.map((r) => r.name);
    t.true((await names(jp('※未承諾広告※ 今月の特価'))).includes('JP_UNSOLICITED_AD'));
    t.true((await names(jp('【未承諾広告】今月の特価'))).includes('JP_UNSOLICITED_AD'));
    t.false((await names(jp('今月の特価のご案内'))).includes('JP_UNSOLICITED_AD'));
    const ticket = await c.score({ raw: await readFile(new URL('day-one-ham/event-ticket.eml', FIXTURES)) });
    t.false(ticket.reasons.some((r) => r.name === 'PHISH_QR_CODE_ONLY'), 'a ticket says more around its code');
    t.is(ticket.classHint, 'Not Spam');
  } finally {
    await cleanup();
  }
});

test('phishing rules stay quiet on the brand\'s own, authenticated mail', async (t) => {
  const { store, cleanup } = await tempStore();
  try {
    const c = await Classifier.open(store);
    const genuine = await rulesOf(c, html('"PayPal" <service@paypal.com>',
      '<p>Your receipt. See <a href="https://www.paypal.com/activity">www.paypal.com</a></p>'), { dmarc: 'pass' });
    t.deepEqual(genuine.names, []);
    t.not(genuine.r.classHint, 'Phish');
    const plain = await rulesOf(c, html('Alice <alice@example.org>', '<p>Slides: <a href="https://docs.example.org/x">docs.example.org</a></p>'));
    t.deepEqual(plain.names, []);
    const template = await rulesOf(c, html('News <news@example.org>', '<p>This month <a href="javascript:void(0)">Menu</a> <a href="javascript:;">Top</a></p>'));
    t.deepEqual(template.names, [], 'do-nothing javascript: placeholders of a template are no sign');
  } finally {
    await cleanup();
  }
});
