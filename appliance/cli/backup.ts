// `mailmoat backup --data DIR --out FILE [--passphrase-file F]`: writes an encrypted archive of
// everything the appliance holds (appliance/backup/backup.ts says what). Works only while the
// daemon is stopped (it holds the store); while it runs, take the backup from the console.
import { parseArgs } from 'node:util';
import { BackupError } from '../backup/archive.ts';
import { backupToFile, passphraseProblem } from '../backup/backup.ts';
import { openStore, StoreInUseError } from '../store/store.ts';
import { readPassphrase } from './backup-passphrase.ts';

const USAGE = 'usage: mailmoat backup [--data DIR] --out FILE [--passphrase-file F]\n' +
  '  the passphrase comes from F, else MAILMOAT_BACKUP_PASSPHRASE, else the first line of standard input; DIR defaults to ./data';

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { data: { type: 'string', default: './data' }, out: { type: 'string' }, 'passphrase-file': { type: 'string' } }, strict: true }));
  } catch (err) {
    console.error(`mailmoat backup: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.out) { console.error(`mailmoat backup: --out is required\n${USAGE}`); return 2; }
  const passphrase = await readPassphrase(values['passphrase-file']);
  const problem = passphraseProblem(passphrase);
  if (problem) { console.error(`mailmoat backup: ${problem}`); return 2; }
  let store;
  try {
    store = await openStore(values.data);
  } catch (err) {
    if (err instanceof StoreInUseError) { console.error(`mailmoat backup: ${err.message}`); return 1; }
    throw err;
  }
  try {
    const started = Date.now();
    await backupToFile(store, values.data, values.out, passphrase);
    console.log(`wrote ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (err) {
    if (err instanceof BackupError) { console.error(`mailmoat backup: ${err.message}`); return 1; }
    throw err;
  } finally {
    await store.close();
  }
}
