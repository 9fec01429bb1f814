// Where the backup and restore commands take the passphrase from: a file (--passphrase-file), the
// MAILMOAT_BACKUP_PASSPHRASE environment variable, or the first line of standard input — never an
// argument, which other users of the machine could read from the process list.
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';

export async function readPassphrase(file: string | undefined): Promise<string> {
  const raw = file !== undefined ? await readFile(file, 'utf8')
    : process.env.MAILMOAT_BACKUP_PASSPHRASE ?? await text(process.stdin);
  return raw.split(/\r?\n/)[0] ?? '';
}
