// `mailmoat classify`: score messages from files with the store's model, one TSV line each:
//   path <TAB> score (%) <TAB> class <TAB> reasons ("name=+1.234; name=-0.5; …")
// Works only while the daemon is stopped (it holds the store). Unreadable input gets an error
// line on stderr; the other files are still scored and the exit status is 1.
import { readSources } from '../classifier/sources.ts';
import { extractFeatures } from '../classifier/features.ts';
import { openForTool } from './train.ts';

const USAGE = 'usage: mailmoat classify [--data DIR] PATH...\n  PATH: .eml or Outlook .msg files, mbox files, or folders of them; DIR defaults to ./data';

function clean(s: string): string {
  return s.replace(/[\t\r\n;=]+/g, ' ');
}

export async function run(args: string[]): Promise<number> {
  let data = './data';
  const paths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data' && args[i + 1]) data = args[++i];
    else if (args[i].startsWith('--')) { console.error(`mailmoat classify: unknown option ${args[i]}\n${USAGE}`); return 2; }
    else paths.push(args[i]);
  }
  if (paths.length === 0) { console.error(`mailmoat classify: no message given\n${USAGE}`); return 2; }
  const model = await openForTool(data);
  if (!model) return 1;
  const { classifier } = model;
  let errors = 0;
  try {
    for await (const item of readSources(paths)) {
      if ('error' in item) { console.error(`${item.path}: ${item.error}`); errors++; continue; }
      if (!extractFeatures(item.raw).isMail) {
        console.error(`${item.path}: not a mail message (no header fields found)`);
        errors++;
        continue;
      }
      const r = await classifier.score({ raw: item.raw });
      const reasons = r.reasons.map((x) => `${clean(x.name)}=${x.contribution >= 0 ? '+' : ''}${x.contribution.toFixed(3)}${x.detail ? ` (${clean(x.detail)})` : ''}`).join('; ');
      console.log(`${item.path}\t${r.score.toFixed(2)}\t${r.classHint}\t${reasons}`);
    }
  } finally {
    await model.close();
  }
  return errors > 0 ? 1 : 0;
}
