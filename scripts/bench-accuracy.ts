// Accuracy benchmark of the classifier on the SpamAssassin public corpus, with exactly the split
// the peer measurements used (see appliance/classifier/sa-corpus.ts): trains a fresh model in a
// temporary store on the train split — one message at a time through Classifier.train, as the
// admin's feedback would — then scores the test split and prints the figures of
// ../shared/peers/RESULTS.md. The starter model is never used.
//   node scripts/bench-accuracy.ts          train on train, score test
//   node scripts/bench-accuracy.ts --cv [--grid RATE:MARGIN,...]
//                                           5-fold cross-validation of model parameters inside
//                                           the train split (how the defaults were chosen)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Classifier, DEFAULT_SPAM_THRESHOLD } from '../appliance/classifier/index.ts';
import { extractFeatures } from '../appliance/classifier/features.ts';
import { DEFAULT_PARAMS, LinearModel, vectorize, type FeatureVector, type ModelParams } from '../appliance/classifier/model.ts';
import { loadSpamAssassinCorpus, trainingOrder, type CorpusMessage } from '../appliance/classifier/sa-corpus.ts';
import { openStore } from '../appliance/store/store.ts';

interface Scored { score: number; spam: boolean; group: string; id: string }

/** ROC AUC with ties counted half (Mann–Whitney). */
function auc(s: Scored[]): number {
  const sorted = [...s].sort((a, b) => a.score - b.score);
  let rankSum = 0; let pos = 0; let neg = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j].score === sorted[i].score) j++;
    const rank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (sorted[k].spam) { rankSum += rank; pos++; } else neg++;
    i = j;
  }
  return (rankSum - pos * (pos + 1) / 2) / (pos * neg);
}

/** Best spam-caught rate over thresholds whose false positives stay within `rate` of the ham. */
function caughtAtFp(s: Scored[], rate: number): { caught: number; threshold: number; fps: number } {
  const hams = s.filter((x) => !x.spam).map((x) => x.score).sort((a, b) => b - a);
  const spams = s.filter((x) => x.spam);
  const allowed = Math.floor(hams.length * rate + 1e-9);
  // Threshold just above the (allowed+1)-th highest ham score.
  const limit = hams[allowed] ?? -Infinity;
  const caught = spams.filter((x) => x.score > limit).length;
  const fps = hams.filter((h) => h > limit).length;
  const threshold = Math.min(...spams.filter((x) => x.score > limit).map((x) => x.score));
  return { caught: caught / spams.length, threshold, fps };
}

function pct(x: number): string {
  return (100 * x).toFixed(2) + ' %';
}

async function benchmark(corpus: CorpusMessage[]): Promise<void> {
  const train = trainingOrder(corpus.filter((m) => m.split === 'train'));
  const test = corpus.filter((m) => m.split === 'test');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-bench-'));
  const store = await openStore(dir);
  try {
    const classifier = await Classifier.open(store);
    let cpu = process.cpuUsage();
    let t0 = performance.now();
    for (const m of train) await classifier.train(m.raw, m.spam ? 'spam' : 'ham');
    const trainWall = performance.now() - t0;
    const trainCpu = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    t0 = performance.now();
    const scored: Scored[] = [];
    const classes: string[] = [];
    for (const m of test) {
      const r = await classifier.score({ raw: m.raw });
      scored.push({ score: r.score, spam: m.spam, group: m.group, id: m.id });
      classes.push(r.classHint);
    }
    const testWall = performance.now() - t0;
    const testCpu = process.cpuUsage(cpu);
    const hams = scored.filter((x) => !x.spam);
    const spams = scored.filter((x) => x.spam);
    const caughtDefault = spams.filter((x) => x.score >= DEFAULT_SPAM_THRESHOLD).length;
    const fpDefault = hams.filter((x) => x.score >= DEFAULT_SPAM_THRESHOLD).length;
    const at01 = caughtAtFp(scored, 0.001);
    const at05 = caughtAtFp(scored, 0.005);
    console.log(`corpus: SpamAssassin public corpus; train ${train.filter((m) => !m.spam).length} ham / ${train.filter((m) => m.spam).length} spam, ` +
      `test ${hams.length} ham / ${spams.length} spam; model params ${JSON.stringify(DEFAULT_PARAMS)}`);
    console.log(`default threshold (score >= ${DEFAULT_SPAM_THRESHOLD}): spam caught ${caughtDefault}/${spams.length} = ${pct(caughtDefault / spams.length)}, ` +
      `ham false positives ${fpDefault}/${hams.length} = ${pct(fpDefault / hams.length)}`);
    console.log(`spam caught at <= 0.1 % FP: ${pct(at01.caught)} (${at01.fps} FP, score >= ${at01.threshold.toFixed(4)})`);
    console.log(`spam caught at <= 0.5 % FP: ${pct(at05.caught)} (${at05.fps} FP, score >= ${at05.threshold.toFixed(4)})`);
    console.log(`ROC AUC: ${auc(scored).toFixed(5)}`);
    const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
    console.log(`train: ${(train.length / (trainWall / 1000)).toFixed(0)} msgs/s, ${(cpuMs(trainCpu) / train.length).toFixed(3)} CPU ms/msg (incl. LevelDB writes)`);
    console.log(`classify: ${(test.length / (testWall / 1000)).toFixed(0)} msgs/s, ${(cpuMs(testCpu) / test.length).toFixed(3)} CPU ms/msg`);
    const groups = [...new Set(scored.map((x) => x.group))];
    console.log('at the default threshold, per group: ' + groups.map((g) => {
      const inGroup = scored.filter((x) => x.group === g);
      return `${g} ${inGroup.filter((x) => x.score >= DEFAULT_SPAM_THRESHOLD).length}/${inGroup.length}`;
    }).join(', '));
    const counts: Record<string, number> = {};
    for (const c of classes) counts[c] = (counts[c] ?? 0) + 1;
    console.log('class hints on the test split: ' + Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', '));
    if (process.argv.includes('--verbose')) {
      for (const x of [...hams].sort((a, b) => b.score - a.score).slice(0, 8)) console.log(`  top ham  ${x.score.toFixed(3)} ${x.id}`);
      for (const x of [...spams].sort((a, b) => a.score - b.score).slice(0, 8)) console.log(`  low spam ${x.score.toFixed(3)} ${x.id}`);
    }
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** 5-fold cross-validation inside the train split over a small grid of model parameters. */
function crossValidate(corpus: CorpusMessage[]): void {
  const train = trainingOrder(corpus.filter((m) => m.split === 'train'));
  const vectors = new Map<string, FeatureVector>(train.map((m) => [m.md5, vectorize(extractFeatures(m.raw).tokens)]));
  const grid: ModelParams[] = [];
  const given = process.argv[process.argv.indexOf('--grid') + 1];
  if (process.argv.includes('--grid') && given) {
    for (const pair of given.split(',')) { const [rate, margin] = pair.split(':').map(Number); grid.push({ rate, margin }); }
  } else {
    for (const rate of [4, 8, 16, 32]) for (const margin of [1, 2, 3, 6]) grid.push({ rate, margin });
  }
  console.log('5-fold cross-validation inside the train split (test split untouched)');
  console.log('rate\tmargin\tAUC\tcaught@0.1%FP\tcaught@0.5%FP\tcaught@90\tFP@90');
  for (const params of grid) {
    const scored: Scored[] = [];
    for (let fold = 0; fold < 5; fold++) {
      const model = new LinearModel(params);
      for (let i = 0; i < train.length; i++) {
        if (i % 5 === fold) continue;
        const v = vectors.get(train[i].md5)!;
        model.apply(v, model.stepFor(v, train[i].spam));
      }
      for (let i = fold; i < train.length; i += 5) {
        const m = train[i];
        scored.push({ score: 100 / (1 + Math.exp(-model.margin(vectors.get(m.md5)!))), spam: m.spam, group: m.group, id: m.id });
      }
    }
    const spams = scored.filter((x) => x.spam);
    const hams = scored.filter((x) => !x.spam);
    const logitAt01 = Math.log(caughtAtFp(scored, 0.001).threshold / (100 - caughtAtFp(scored, 0.001).threshold));
    console.log([params.rate, params.margin, auc(scored).toFixed(5), pct(caughtAtFp(scored, 0.001).caught) + ` (logit ${logitAt01.toFixed(3)})`, pct(caughtAtFp(scored, 0.005).caught),
      pct(spams.filter((x) => x.score >= DEFAULT_SPAM_THRESHOLD).length / spams.length),
      pct(hams.filter((x) => x.score >= DEFAULT_SPAM_THRESHOLD).length / hams.length)].join('\t'));
  }
}

const corpus = loadSpamAssassinCorpus();
if (process.argv.includes('--cv')) crossValidate(corpus);
else await benchmark(corpus);
