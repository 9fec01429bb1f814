// `mailmoat reindex-log [--data DIR]`: rebuilds the message log's search indexes from its records
// (the daemon does this by itself at start when they are missing; this is for a store whose
// indexes were damaged). Works only while the daemon is stopped (it holds the store).
import { MessageLog } from '../logsearch/message-log.ts';
import { openStore, StoreInUseError } from '../store/store.ts';

const USAGE = 'usage: mailmoat reindex-log [--data DIR]\n  DIR defaults to ./data';

export async function run(args: string[]): Promise<number> {
  let data = './data';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--data' && args[i + 1]) data = args[++i];
    else { console.error(`mailmoat reindex-log: unknown argument ${args[i]}\n${USAGE}`); return 2; }
  }
  let store;
  try {
    store = await openStore(data);
  } catch (err) {
    if (err instanceof StoreInUseError) { console.error(`mailmoat reindex-log: ${err.message}`); return 1; }
    throw err;
  }
  try {
    const started = Date.now();
    const records = await new MessageLog(store).rebuildIndex();
    console.log(`indexed ${records} message log record(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await store.close();
  }
}
