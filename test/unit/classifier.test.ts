// The classifier over a real LevelDB store: learning and unlearning, persistence across a
// restart, explainable results, the starter model, and the phishing rules on hand-written mail.
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Classifier } from '../../appliance/classifier/index.ts';
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

async function weights(store: Store): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for await (const [k, v] of store.sublevel<unknown>('bayes').iterator()) if (k.startsWith('w!')) out.set(k, v);
  return out;
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
    const snapshot = await weights(store);
    const extra = mail('Free cash', 'click here for free cash now');
    t.true(await c.train(extra, 'spam'));
    t.false(await c.train(extra, 'spam'), 'the same message is learned once');
    t.true(await c.untrain(extra, 'spam'));
    t.false(await c.untrain(extra, 'spam'), 'nothing left to untrain');
    const after = await weights(store);
    t.is(after.size, snapshot.size);
    for (const [k, v] of snapshot) t.true(Math.abs((after.get(k) as number) - (v as number)) < 1e-12, k);
    t.is((await c.score({ raw: probe })).score, trained);
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
    t.is(detail, 'shows www.paypal.com, links to paypa1-secure.example');

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
  } finally {
    await cleanup();
  }
});
