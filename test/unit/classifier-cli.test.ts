// `mailmoat train` and `mailmoat classify` as the admin runs them: real processes on a real
// store, with .eml, mbox and Outlook .msg input, and the errors an admin can act on.
import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import burner from '@kenjiuno/msgreader/lib/Burner.js';
import { openStore } from '../../appliance/store/store.ts';
import { runMailmoat as mailmoat } from '../helpers/cli.ts';

const FIX = fileURLToPath(new URL('../fixtures/classifier/', import.meta.url));
const SPAM = path.join(FIX, 'spam-pills.eml');
const HAM = path.join(FIX, 'ham-meeting.eml');
const NOT_MAIL = path.join(FIX, 'not-mail.txt');


async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'mailmoat-cli-'));
}

/** A minimal real Outlook .msg (a compound file with subject, sender and body streams). */
function outlookMsg(subject: string, body: string): Buffer {
  const u16 = (s: string) => Uint8Array.from(Buffer.from(s, 'utf16le'));
  const streams: [string, Uint8Array][] = [
    ['__substg1.0_0037001F', u16(subject)],
    ['__substg1.0_1000001F', u16(body)],
    ['__substg1.0_0C1F001F', u16('deals@cheap-meds-online.biz')],
    ['__substg1.0_0C1A001F', u16('Best Deals')],
    ['__properties_version1.0', new Uint8Array(32)],
  ];
  return Buffer.from(burner.burn([
    { name: 'Root Entry', type: 5, length: 0, children: streams.map((_, i) => i + 1) },
    ...streams.map(([name, data]) => ({ name, type: 2, length: data.length, binaryProvider: () => data })),
  ]));
}

const LINE = /^(.+)\t(\d{1,3}\.\d{2})\t(Spam|Phish|Unsure|Not Spam)\t(.+)$/;

test('train then classify: one TSV line per message, with reasons', async (t) => {
  const data = await tempDir();
  try {
    const trained = await mailmoat(['train', '--data', data, '--spam', SPAM, '--ham', HAM]);
    t.is(trained.code, 0, trained.stderr);
    t.regex(trained.stdout, /learned 1 spam and 1 ham/);
    const again = await mailmoat(['train', '--data', data, '--spam', SPAM]);
    t.regex(again.stdout, /learned 0 spam and 0 ham; 1 unchanged/);
    const out = await mailmoat(['classify', '--data', data, SPAM, HAM]);
    t.is(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split('\n').map((l) => LINE.exec(l));
    t.is(lines.length, 2);
    t.is(lines[0]?.[1], SPAM);
    t.is(lines[1]?.[1], HAM);
    t.true(Number(lines[0]?.[2]) > Number(lines[1]?.[2]));
    t.regex(lines[0]?.[4] ?? '', /=[+-]\d+\.\d{3}/);
    const untrained = await mailmoat(['train', '--data', data, '--untrain', '--spam', SPAM]);
    t.regex(untrained.stdout, /untrained 1 spam and 0 ham/);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

test('a fresh data folder starts from an empty model; --starter installs the shipped one once', async (t) => {
  const data = await tempDir();
  try {
    const blank = await mailmoat(['classify', '--data', data, HAM]);
    t.is(blank.code, 0, blank.stderr);
    t.is(LINE.exec(blank.stdout.trim())?.[2], '50.00');
    t.regex(blank.stdout, /MODEL_EMPTY/);
    const starter = await mailmoat(['train', '--data', data, '--starter']);
    t.is(starter.code, 0, starter.stderr);
    t.regex(starter.stdout, /installed the starter model/);
    t.regex((await mailmoat(['train', '--data', data, '--starter'])).stdout, /a model exists already/);
    const scored = await mailmoat(['classify', '--data', data, SPAM, HAM]);
    const [spam, ham] = scored.stdout.trim().split('\n').map((l) => Number(LINE.exec(l)?.[2]));
    t.true(spam > ham, scored.stdout);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

test('mbox files, folders and Outlook .msg files are read', async (t) => {
  const data = await tempDir();
  const input = await tempDir();
  try {
    const spam = await readFile(SPAM);
    const ham = await readFile(HAM);
    await writeFile(path.join(input, 'box.mbox'), Buffer.concat([
      Buffer.from('From deals@cheap Mon Sep  2 10:00:00 2024\n'), spam, Buffer.from('\nFrom alice@example.org Tue Sep  3 10:15:00 2024\n'), ham,
    ]));
    await writeFile(path.join(input, 'report.msg'), outlookMsg('Cheap pills offer', 'Buy cheap pills now, no prescription, click here'));
    const trained = await mailmoat(['train', '--data', data, '--spam', path.join(input, 'report.msg'), '--ham', HAM]);
    t.is(trained.code, 0, trained.stderr);
    t.regex(trained.stdout, /learned 1 spam and 1 ham/);
    const out = await mailmoat(['classify', '--data', data, input]);
    t.is(out.code, 0, out.stderr);
    const paths = out.stdout.trim().split('\n').map((l) => LINE.exec(l)?.[1]);
    t.deepEqual(paths, [path.join(input, 'box.mbox#1'), path.join(input, 'box.mbox#2'), path.join(input, 'report.msg')]);
  } finally {
    await rm(data, { recursive: true, force: true });
    await rm(input, { recursive: true, force: true });
  }
});

test('unreadable or non-mail input: an error per file, the rest processed, non-zero exit', async (t) => {
  const data = await tempDir();
  try {
    const missing = path.join(data, 'no-such.eml');
    const out = await mailmoat(['classify', '--data', data, missing, NOT_MAIL, HAM]);
    t.is(out.code, 1);
    t.regex(out.stderr, new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read: no such file or folder`));
    t.regex(out.stderr, /not-mail\.txt: not a mail message/);
    t.is(out.stdout.trim().split('\n').length, 1);
    t.regex(out.stdout, /ham-meeting\.eml\t/);
    const train = await mailmoat(['train', '--data', data, '--spam', NOT_MAIL, SPAM]);
    t.is(train.code, 1);
    t.regex(train.stderr, /not-mail\.txt: this is not a mail message/);
    t.regex(train.stdout, /learned 1 spam/);
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

test('while another process holds the store, both commands say so', async (t) => {
  const data = await tempDir();
  const store = await openStore(data);
  try {
    for (const args of [['classify', '--data', data, HAM], ['train', '--data', data, '--ham', HAM]]) {
      const out = await mailmoat(args);
      t.is(out.code, 1);
      t.regex(out.stderr, /in use by another process \(is the mailmoat daemon running\?\)/);
    }
  } finally {
    await store.close();
    await rm(data, { recursive: true, force: true });
  }
});

test('usage errors exit with status 2 and show the usage', async (t) => {
  for (const args of [['train', '--data', '/tmp/x'], ['train', '--starter', '--spam', 'x'], ['classify'], ['train', 'stray']]) {
    const out = await mailmoat(args);
    t.is(out.code, 2, args.join(' '));
    t.regex(out.stderr, /usage: mailmoat (train|classify)/);
  }
});
