// The support bundle: what a supporter asks for first, in one .tar.gz an admin downloads from the
// console or the serial menu writes onto a USB disk: the configuration without its secrets,
// versions, disk, queue, signature and backup state, and the recent logs of the daemon and
// ClamAV. No mail content and no account data (password hashes, sessions) go in.
// Secrets are removed by name wherever they sit in the configuration (passwords, passphrases,
// private keys, SNMP communities, credentials in URLs), so a setting added later with such a
// name is covered without touching this file; test/integration/support-bundle.test.ts fills every
// secret of the schema with a marker and proves none reaches the archive.
// The archive is built in memory: every part is capped (logs at LOG_LINES lines), so it stays small.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Config } from '../config/schema.ts';
import { measureFilesystem } from './disk-watcher.ts';
import { freshclamStatus, FRESHCLAM_LOG } from './freshclam.ts';
import { signatureStatus } from './signatures.ts';

const run = promisify(execFile);
const LOG_LINES = 20_000;
export const REMOVED = '(removed)';
const SECRET_KEY = /password|passphrase|privatekey|secret|token|community/i;

/** A copy of the configuration with every secret replaced by "(removed)" (empty values stay empty). */
export function withoutSecrets(value: unknown, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, parentKey));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => {
      // An SNMP community's name is its password.
      const secret = SECRET_KEY.test(k) || (parentKey === 'communities' && k === 'name');
      return [k, secret && v !== '' && v !== undefined ? REMOVED : withoutSecrets(v, k)];
    }));
  }
  // user:password@ in a URL (a proxy or mirror written that way).
  if (typeof value === 'string') return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, `$1${REMOVED}@`);
  return value;
}

/** A ustar entry: 512-byte header, the content padded to 512 bytes. */
function tarEntry(name: string, content: Buffer, mtime: Date): Buffer {
  const header = Buffer.alloc(512);
  header.write(name.slice(0, 99), 0, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(content.length.toString(8).padStart(11, '0') + '\0', 124);
  header.write(Math.floor(mtime.getTime() / 1000).toString(8).padStart(11, '0') + '\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257, 'latin1');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return Buffer.concat([header, content, Buffer.alloc((512 - (content.length % 512)) % 512)]);
}

export interface SupportInputs {
  config: Config;
  dataDir: string;
  /** ClamAV's database folder (freshclam's log is there). */
  databaseDir: string;
  queue?: { messages: number; deferred?: number; oldestAgeSeconds?: number };
  /** clamd's VERSION answer. */
  clamdVersion?: string;
  /** The remote backup's last run. */
  remoteBackup?: unknown;
  /** Read the journal; default: when the daemon runs as a systemd service (the image). */
  journal?: boolean;
  now?: Date;
}

async function command(file: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(file, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    return `(${file} ${args.join(' ')} failed: ${(err as Error).message})\n`;
  }
}

async function tail(file: string, lines: number): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text?.split('\n').slice(-lines).join('\n');
}

/** The bundle's files, name → content (the archive holds exactly these). */
export async function supportFiles(i: SupportInputs): Promise<Record<string, string>> {
  const now = i.now ?? new Date();
  const pkg = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const disks = await Promise.all([...new Set(['/', i.dataDir])].map((p) => measureFilesystem(p).catch((err: Error) => ({ path: p, error: err.message }))));
  const files: Record<string, string> = {
    'README.txt': [`Mailmoat support bundle of ${i.config.hostname}, made ${now.toISOString()}.`,
      'config.json: the configuration, every password, passphrase, private key and SNMP community replaced by "(removed)".',
      'versions.txt, state.json: versions; disks, queue, virus signatures, freshclam, remote backup.',
      'logs/: recent lines of the daemon\'s and ClamAV\'s logs. No message content and no account data are included.', ''].join('\n'),
    'config.json': JSON.stringify(withoutSecrets(i.config), null, 2) + '\n',
    'versions.txt': [`mailmoat ${pkg.version}`, `node ${process.version}`, `kernel ${os.release()} ${os.arch()}`,
      `os ${/^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? os.type()}`, `clamd ${i.clamdVersion ?? '(not answering)'}`, ''].join('\n'),
    'state.json': JSON.stringify({
      madeAt: now.toISOString(), uptimeSeconds: Math.round(os.uptime()), load: os.loadavg(), memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
      disks, queue: i.queue ?? null,
      signatures: await signatureStatus(i.databaseDir, i.clamdVersion), freshclam: await freshclamStatus(i.databaseDir),
      remoteBackup: i.remoteBackup ?? null,
    }, null, 2) + '\n',
  };
  const freshclam = await tail(path.join(i.databaseDir, FRESHCLAM_LOG), LOG_LINES);
  if (freshclam !== undefined) files['logs/freshclam.log'] = freshclam;
  if (i.journal ?? Boolean(process.env.INVOCATION_ID)) {
    files['logs/journal.txt'] = await command('journalctl', ['--no-pager', '-o', 'short-iso', '-n', String(LOG_LINES), '--since', '-7d',
      '-u', 'mailmoat', '-u', 'clamav-daemon', '-u', 'clamav-freshclam', '-u', 'mailmoat-firstboot', '-u', 'mailmoat-system-config']);
    files['logs/boot-warnings.txt'] = await command('journalctl', ['--no-pager', '-o', 'short-iso', '-b', '-p', 'warning', '-n', '2000']);
  }
  return files;
}

/** The bundle as a .tar.gz, and the file name to give it. */
export async function supportBundle(i: SupportInputs): Promise<{ name: string; archive: Buffer }> {
  const now = i.now ?? new Date();
  const base = `mailmoat-support-${i.config.hostname}-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}`;
  const files = await supportFiles({ ...i, now });
  const tar = Buffer.concat([...Object.entries(files).map(([name, text]) => tarEntry(`${base}/${name}`, Buffer.from(text), now)), Buffer.alloc(1024)]);
  return { name: `${base}.tar.gz`, archive: gzipSync(tar) };
}
