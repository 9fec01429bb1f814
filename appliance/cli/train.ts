// `mailmoat train`: teach the classifier from files, like sa-learn. Works only while the daemon
// is stopped (the daemon holds the store; while it runs, use release + train in the console).
//   mailmoat train --data DIR --spam PATH... --ham PATH...   learn (files, folders, mbox, .eml, .msg)
//   mailmoat train --data DIR --untrain --spam PATH...       take back an earlier training
//   mailmoat train --data DIR --starter                      install the shipped starter model
// The order of the files does not matter: at its end the run refits the model from every lesson
// the store holds and recalibrates its score, then says what the thresholds mean on that data.
import { parseArgs } from 'node:util';
import { describeCalibration, NotMailError, openOffline, type Label, type OfflineClassifier } from '../classifier/index.ts';
import { readSources, type SourceItem } from '../classifier/sources.ts';
import { StoreInUseError } from '../store/store.ts';

const USAGE = 'usage: mailmoat train [--data DIR] (--spam PATH... | --ham PATH... | --starter) [--untrain]\n' +
  '  PATH: .eml or Outlook .msg files, mbox files, or folders of them; DIR defaults to ./data';

interface Args { data: string; spam: string[]; ham: string[]; starter: boolean; untrain: boolean }

/** Paths follow their flag (`--spam a b --ham c`), so the tokens are read in order: parseArgs
 * checks the options, and each path goes to the last --spam or --ham before it. */
function parse(args: string[]): Args | string {
  let tokens;
  try {
    ({ tokens } = parseArgs({
      args,
      options: {
        data: { type: 'string' },
        spam: { type: 'boolean', multiple: true },
        ham: { type: 'boolean', multiple: true },
        starter: { type: 'boolean' },
        untrain: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
      tokens: true,
    }));
  } catch (err) {
    return (err as Error).message;
  }
  const a: Args = { data: './data', spam: [], ham: [], starter: false, untrain: false };
  let into: string[] | undefined;
  for (const token of tokens) {
    if (token.kind === 'option') {
      if (token.name === 'data') a.data = token.value!;
      else if (token.name === 'starter') a.starter = true;
      else if (token.name === 'untrain') a.untrain = true;
      // --untrain may stand among the paths; --data and --starter end a list of them.
      if (token.name !== 'untrain') into = token.name === 'spam' ? a.spam : token.name === 'ham' ? a.ham : undefined;
    } else if (token.kind === 'positional') {
      if (!into) return `"${token.value}" is not after --spam or --ham`;
      into.push(token.value);
    }
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

/** The model of the stopped appliance in `dataDir`, or undefined (said why) when the daemon holds it. */
export async function openForTool(dataDir: string): Promise<OfflineClassifier | undefined> {
  try {
    return await openOffline(dataDir);
  } catch (err) {
    if (err instanceof StoreInUseError) { console.error(err.message); return undefined; }
    throw err;
  }
}

export async function run(args: string[]): Promise<number> {
  const a = parse(args);
  if (typeof a === 'string') { console.error(`mailmoat train: ${a}\n${USAGE}`); return 2; }
  const model = await openForTool(a.data);
  if (!model) return 1;
  const { classifier } = model;
  try {
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
    await model.close();
  }
}
