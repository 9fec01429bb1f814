// `mailmoat train`: teach the classifier from files, like sa-learn. Works only while the daemon
// is stopped (the daemon holds the store; while it runs, use release + train in the console).
//   mailmoat train --data DIR --spam PATH... --ham PATH...   learn (files, folders, mbox, .eml, .msg)
//   mailmoat train --data DIR --untrain --spam PATH...       take back an earlier training
//   mailmoat train --data DIR --starter                      install the shipped starter model
// The order of the files does not matter: at its end the run refits the model from every lesson
// the store holds and recalibrates its score, then says what the thresholds mean on that data.
import { Classifier, describeCalibration, NotMailError, type Label } from '../classifier/index.ts';
import { readSources, type SourceItem } from '../classifier/sources.ts';
import { openStore, StoreInUseError, type Store } from '../store/store.ts';

const USAGE = 'usage: mailmoat train [--data DIR] (--spam PATH... | --ham PATH... | --starter) [--untrain]\n' +
  '  PATH: .eml or Outlook .msg files, mbox files, or folders of them; DIR defaults to ./data';

interface Args { data: string; spam: string[]; ham: string[]; starter: boolean; untrain: boolean }

function parse(args: string[]): Args | string {
  const a: Args = { data: './data', spam: [], ham: [], starter: false, untrain: false };
  let into: string[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--data') { if (!args[i + 1]) return '--data needs a folder'; a.data = args[++i]; into = undefined; }
    else if (arg === '--spam') into = a.spam;
    else if (arg === '--ham') into = a.ham;
    else if (arg === '--starter') { a.starter = true; into = undefined; }
    else if (arg === '--untrain') a.untrain = true;
    else if (arg.startsWith('--')) return `unknown option ${arg}`;
    else if (into) into.push(arg);
    else return `"${arg}" is not after --spam or --ham`;
  }
  if (a.starter && (a.spam.length || a.ham.length || a.untrain)) return '--starter cannot be combined with --spam, --ham or --untrain';
  if (!a.starter && a.spam.length === 0 && a.ham.length === 0) return 'nothing to do: give --spam PATH..., --ham PATH... or --starter';
  return a;
}

/** Alternates between the spam and the ham sources until both are exhausted. */
async function* interleave(spam: AsyncGenerator<SourceItem>, ham: AsyncGenerator<SourceItem>): AsyncGenerator<[SourceItem, Label]> {
  const live: [AsyncGenerator<SourceItem>, Label][] = [[spam, 'spam'], [ham, 'ham']];
  while (live.length > 0) {
    for (let i = 0; i < live.length; i++) {
      const next = await live[i][0].next();
      if (next.done) { live.splice(i--, 1); continue; }
      yield [next.value, live[i][1]];
    }
  }
}

export async function openForTool(dataDir: string): Promise<Store | undefined> {
  try {
    return await openStore(dataDir);
  } catch (err) {
    if (err instanceof StoreInUseError) { console.error(err.message); return undefined; }
    throw err;
  }
}

export async function run(args: string[]): Promise<number> {
  const a = parse(args);
  if (typeof a === 'string') { console.error(`mailmoat train: ${a}\n${USAGE}`); return 2; }
  const store = await openForTool(a.data);
  if (!store) return 1;
  try {
    const classifier = await Classifier.open(store);
    if (a.starter) {
      const installed = await classifier.installStarterModel();
      console.log(installed ? 'installed the starter model' : 'a model exists already: the starter model was not installed');
      return 0;
    }
    const done = { spam: 0, ham: 0, unchanged: 0, errors: 0 };
    for await (const [item, label] of interleave(readSources(a.spam), readSources(a.ham))) {
      if ('error' in item) { console.error(`${item.path}: ${item.error}`); done.errors++; continue; }
      try {
        const changed = a.untrain ? await classifier.untrain(item.raw, label) : await classifier.train(item.raw, label);
        if (changed) done[label]++; else done.unchanged++;
      } catch (err) {
        if (!(err instanceof NotMailError)) throw err;
        console.error(`${item.path}: ${err.message}`);
        done.errors++;
      }
    }
    const verb = a.untrain ? 'untrained' : 'learned';
    const why = a.untrain ? 'not trained with that label' : 'already learned';
    console.log(`${verb} ${done.spam} spam and ${done.ham} ham; ${done.unchanged} unchanged (${why}); ${done.errors} error(s)`);
    console.log(`score calibration: ${describeCalibration(await classifier.refit())}`);
    return done.errors > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}
