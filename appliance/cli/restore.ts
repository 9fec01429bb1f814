// `mailmoat restore --data DIR FILE [--passphrase-file F]`: replaces the data of a stopped
// appliance by a backup archive. The archive is checked whole before anything is replaced; the
// replaced data is kept in DIR/before-restore-<time>, and the box's own delivery queue stays.
import { parseArgs } from 'node:util';
import { BackupError } from '../backup/archive.ts';
import { restoreFromFile } from '../backup/backup.ts';
import { StoreInUseError } from '../store/store.ts';
import { readPassphrase } from './backup-passphrase.ts';

const USAGE = 'usage: mailmoat restore [--data DIR] [--passphrase-file F] FILE\n' +
  '  the passphrase comes from F, else MAILMOAT_BACKUP_PASSPHRASE, else the first line of standard input; DIR defaults to ./data';

export async function run(args: string[]): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({ args, options: { data: { type: 'string', default: './data' }, 'passphrase-file': { type: 'string' } }, allowPositionals: true, strict: true }));
  } catch (err) {
    console.error(`mailmoat restore: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [file, ...extra] = positionals;
  if (!file || extra.length) { console.error(`mailmoat restore: give exactly one archive file\n${USAGE}`); return 2; }
  const passphrase = await readPassphrase(values['passphrase-file']);
  try {
    const started = Date.now();
    const { summary, message } = await restoreFromFile(values.data, file, passphrase);
    console.log(`restored ${summary.entries} store entries and ${summary.files} files (${summary.bytes} bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (message) console.log(message);
    return 0;
  } catch (err) {
    if (err instanceof BackupError || err instanceof StoreInUseError) { console.error(`mailmoat restore: ${err.message}`); return 1; }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') { console.error(`mailmoat restore: cannot read ${file}: no such file`); return 1; }
    throw err;
  }
}
