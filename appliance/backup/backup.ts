// Backup and restore of everything an appliance has learnt and been told: configuration, console
// accounts, lists, the classifier's model, statistics, the audit log, the message log, the
// quarantine (records and message files) and the TLS material — as one encrypted archive
// (archive.ts). This module is the one owner of backup; the console API and the CLI call it.
//
// Contents (the archive's plain text) are framed records: 'M' manifest (JSON), 'E' one store
// entry (raw key and value, copied without interpretation from one snapshot of the store), 'F' one
// file under <data>/quarantine or <data>/tls (name, size, bytes), 'Z' the closing summary. Which
// sublevels travel is decided for every sublevel in SUBLEVEL_POLICY, so a new sublevel cannot be
// forgotten silently (the type requires it).
//
// Restore never writes into a live store. It builds a complete new data set in
// <data>/restore-staging (its own store, files) while decrypting; any failure — wrong passphrase,
// an altered byte, a cut archive — removes the staging directory and leaves the data untouched.
// Only once the archive's last chunk has authenticated is the staging set marked READY. It is
// swapped in by applyStagedRestore, with the store closed: at the daemon's next start, or at once by
// the CLI. The swap keeps the box's own delivery queue (acknowledged mail is never dropped), moves
// the replaced data into <data>/before-restore-<time> and can be repeated after a crash midway.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { ConfigService } from '../config/config-service.ts';
import { openStore, type Store, type SublevelName } from '../store/store.ts';
import { BackupError, ByteReader, decrypt, encrypt, FORMAT_VERSION } from './archive.ts';

/** Every sublevel: carried in the backup, or why not. */
export const SUBLEVEL_POLICY: Record<SublevelName, 'backed-up' | { leftOut: string }> = {
  config: 'backed-up',
  users: 'backed-up',
  lists: 'backed-up',
  bayes: 'backed-up',
  quarantine: 'backed-up',
  log: 'backed-up',
  'log-index': 'backed-up',
  stats: 'backed-up',
  audit: 'backed-up',
  system: 'backed-up',
  // When each report last ran (so a restored box does not send them again) and used action links.
  reports: 'backed-up',
  greylist: { leftOut: 'retry state of greylisting: senders that retried pass again after one more delay' },
  queue: { leftOut: 'mail in transit belongs to the box that accepted it (its spool files stay there); a restore keeps the target box\'s own queue' },
  callout: { leftOut: 'a cache of recipient checks, refilled on demand' },
  sessions: { leftOut: 'console logins: a restore logs everyone out' },
};
const BACKED_UP = (Object.keys(SUBLEVEL_POLICY) as SublevelName[]).filter((k) => SUBLEVEL_POLICY[k] === 'backed-up');
/** Folders of <data> whose files travel (flat: the quarantine's message files, the TLS key and certificate). */
const FILE_DIRS = ['quarantine', 'tls'] as const;
const STAGING = 'restore-staging';
const READY = 'READY';
const MIN_PASSPHRASE = 8;

export interface Manifest {
  format: 'mailmoat-backup';
  version: number;
  createdAt: string;
  /** The data folder it was taken from (TLS paths in the configuration are moved from it). */
  dataDir: string;
  sublevels: string[];
}

export interface BackupSummary { entries: number; files: number; bytes: number }

export function passphraseProblem(passphrase: string): string | undefined {
  return [...passphrase].length < MIN_PASSPHRASE ? `the passphrase must have at least ${MIN_PASSPHRASE} characters` : undefined;
}

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

async function* contents(store: Store, dataDir: string, now: Date): AsyncGenerator<Buffer> {
  const manifest: Manifest = { format: 'mailmoat-backup', version: FORMAT_VERSION, createdAt: now.toISOString(), dataDir, sublevels: BACKED_UP };
  const m = Buffer.from(JSON.stringify(manifest));
  yield Buffer.concat([Buffer.from('M'), u32(m.length), m]);
  const summary: BackupSummary = { entries: 0, files: 0, bytes: 0 };
  // The store first: a message file removed after the snapshot is then simply absent, while every
  // file of a record in the snapshot that still exists travels.
  for await (const [key, value] of store.rawEntries(BACKED_UP)) {
    summary.entries++;
    yield Buffer.concat([Buffer.from('E'), u32(key.length), key, u32(value.length), value]);
  }
  for (const dir of FILE_DIRS) {
    const names = await readdir(path.join(dataDir, dir)).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const file = path.join(dataDir, dir, name);
      const handle = await open(file, 'r').catch(() => undefined);
      if (!handle) continue; // removed meanwhile (released or expired)
      try {
        const info = await handle.stat();
        if (!info.isFile()) continue;
        const rel = Buffer.from(`${dir}/${name}`);
        const size = Buffer.alloc(8);
        size.writeBigUInt64BE(BigInt(info.size));
        yield Buffer.concat([Buffer.from('F'), Buffer.from([rel.length >> 8, rel.length & 0xff]), rel, size]);
        let left = info.size;
        for await (const piece of handle.createReadStream({ start: 0, end: Math.max(0, info.size - 1), autoClose: false }) as AsyncIterable<Buffer>) {
          if (info.size === 0) break;
          const part = piece.subarray(0, left);
          left -= part.length;
          yield part;
        }
        if (left) throw new Error(`${file} shrank while being backed up`);
        summary.files++;
        summary.bytes += info.size;
      } finally {
        await handle.close();
      }
    }
  }
  const z = Buffer.from(JSON.stringify(summary));
  yield Buffer.concat([Buffer.from('Z'), u32(z.length), z]);
}

/** The encrypted archive of the appliance whose open store and data folder are given. */
export function backupStream(store: Store, dataDir: string, passphrase: string, now = new Date()): AsyncGenerator<Buffer> {
  const problem = passphraseProblem(passphrase);
  if (problem) throw new BackupError('bad-content', problem);
  return encrypt(contents(store, dataDir, now), passphrase);
}

/** Writes a backup to `file` (through a temporary name, so a failed run leaves no partial archive). */
export async function backupToFile(store: Store, dataDir: string, file: string, passphrase: string): Promise<void> {
  const tmp = `${file}.partial`;
  const out = createWriteStream(tmp, { mode: 0o600 });
  try {
    for await (const piece of backupStream(store, dataDir, passphrase)) {
      if (!out.write(piece)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    out.end();
    await finished(out);
    const handle = await open(tmp, 'r+');
    await handle.sync();
    await handle.close();
    await rename(tmp, file);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

const badContent = (what: string) => new BackupError('bad-content', `the backup's contents are not what this version expects (${what}); nothing was restored`);

/**
 * Decrypts an archive into <dataDir>/restore-staging and marks it ready, or throws (BackupError
 * for anything about the archive) leaving the data folder as it was.
 */
export async function stageRestore(dataDir: string, archive: AsyncIterable<Buffer>, passphrase: string): Promise<{ manifest: Manifest; summary: BackupSummary }> {
  const staging = path.join(dataDir, STAGING);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o700 });
  let store: Store | undefined;
  try {
    store = await openStore(staging);
    const reader = new ByteReader(decrypt(archive, passphrase));
    const json = async <T>(): Promise<T> => {
      const len = (await reader.exactly(4, () => badContent('a cut record'))).readUInt32BE(0);
      if (len > 16 * 1024 * 1024) throw badContent('an oversized record');
      try {
        return JSON.parse((await reader.exactly(len, () => badContent('a cut record'))).toString('utf8')) as T;
      } catch (err) {
        throw err instanceof BackupError ? err : badContent('unreadable JSON');
      }
    };
    const cut = () => badContent('a cut record');
    if ((await reader.exactly(1, cut)).toString() !== 'M') throw badContent('no manifest');
    const manifest = await json<Manifest>();
    if (manifest.format !== 'mailmoat-backup') throw badContent('not a Mailmoat manifest');
    if (manifest.version > FORMAT_VERSION) {
      throw new BackupError('newer-format', `this backup was written by a newer Mailmoat (format ${manifest.version}; this version reads up to ${FORMAT_VERSION}): update the appliance first, then restore`);
    }
    for (const dir of FILE_DIRS) await mkdir(path.join(staging, dir), { recursive: true, mode: 0o700 });
    const counted: BackupSummary = { entries: 0, files: 0, bytes: 0 };
    let batch: [Buffer, Buffer][] = [];
    let batchBytes = 0;
    const flush = async () => { if (batch.length) await store!.putRaw(batch); batch = []; batchBytes = 0; };
    for (;;) {
      const kind = (await reader.exactly(1, () => badContent('no closing record'))).toString();
      if (kind === 'E') {
        const key = await reader.exactly((await reader.exactly(4, cut)).readUInt32BE(0), cut);
        const value = await reader.exactly((await reader.exactly(4, cut)).readUInt32BE(0), cut);
        batch.push([key, value]);
        batchBytes += key.length + value.length;
        counted.entries++;
        if (batch.length >= 1000 || batchBytes > 4 * 1024 * 1024) await flush();
      } else if (kind === 'F') {
        const nameLen = (await reader.exactly(2, cut)).readUInt16BE(0);
        const rel = (await reader.exactly(nameLen, cut)).toString('utf8');
        const [dir, name, ...rest] = rel.split('/');
        if (!FILE_DIRS.includes(dir as typeof FILE_DIRS[number]) || !name || rest.length || name === '.' || name === '..') throw badContent(`a file outside the restored folders: ${rel}`);
        let left = Number((await reader.exactly(8, cut)).readBigUInt64BE(0));
        const out = createWriteStream(path.join(staging, dir!, name), { mode: dir === 'tls' ? 0o600 : 0o640 });
        try {
          counted.bytes += left;
          while (left > 0) {
            const part = await reader.upTo(Math.min(left, 1024 * 1024));
            if (!part.length) throw cut();
            left -= part.length;
            if (!out.write(part)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
          }
        } finally {
          out.end();
          await finished(out);
        }
        counted.files++;
      } else if (kind === 'Z') {
        await flush();
        const summary = await json<BackupSummary>();
        if (summary.entries !== counted.entries || summary.files !== counted.files) throw badContent('the closing record\'s counts differ from the contents');
        if ((await reader.upTo(1)).length) throw badContent('data after the closing record');
        break;
      } else {
        throw badContent(`an unknown record type ${JSON.stringify(kind)}`);
      }
    }
    // TLS files named by the configuration move with the data folder.
    const config = await ConfigService.open(store);
    const tls = config.current.tls;
    const moved = (file: string | undefined) => file?.startsWith(path.join(manifest.dataDir, 'tls') + path.sep)
      ? path.join(dataDir, 'tls', path.basename(file)) : file;
    if (moved(tls.certFile) !== tls.certFile || moved(tls.keyFile) !== tls.keyFile) {
      await config.replace({ ...config.current, tls: { ...tls, certFile: moved(tls.certFile), keyFile: moved(tls.keyFile) } }, 'the restored backup');
    }
    await store.close();
    store = undefined;
    await writeFile(path.join(staging, READY), JSON.stringify({ manifest, summary: counted }), { mode: 0o600, flush: true });
    return { manifest, summary: counted };
  } catch (err) {
    await store?.close().catch(() => undefined);
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

const SWAPPED = ['db', ...FILE_DIRS] as const;

/**
 * Swaps a staged restore in, with the store closed (before the daemon opens it). Returns a line
 * for the log when it did, undefined when nothing was staged.
 */
export async function applyStagedRestore(dataDir: string): Promise<string | undefined> {
  const staging = path.join(dataDir, STAGING);
  const ready = await readFile(path.join(staging, READY), 'utf8').catch(() => undefined);
  if (ready === undefined) {
    // A staging set never marked ready is an interrupted upload: it was never meant to be used.
    await rm(staging, { recursive: true, force: true });
    return undefined;
  }
  const { manifest } = JSON.parse(ready) as { manifest: Manifest };
  const aside = path.join(dataDir, `before-restore-${manifest.createdAt.replace(/[:.]/g, '-')}`);
  await mkdir(aside, { recursive: true, mode: 0o700 });
  // The box's own queue travels into the restored store, so acknowledged mail is still delivered
  // (from where its store is: a crash between the two renames below leaves it set aside already).
  const own = await exists(path.join(dataDir, 'db')) ? dataDir : await exists(path.join(aside, 'db')) ? aside : undefined;
  if (own && await exists(path.join(staging, 'db'))) {
    const [current, restored] = [await openStore(own), await openStore(staging)];
    try {
      let batch: [Buffer, Buffer][] = [];
      for await (const entry of current.rawEntries(['queue'])) {
        batch.push(entry);
        if (batch.length >= 1000) { await restored.putRaw(batch); batch = []; }
      }
      if (batch.length) await restored.putRaw(batch, { sync: true });
    } finally {
      await current.close();
      await restored.close();
    }
  }
  // Each step can be repeated: a folder already moved is skipped.
  for (const name of SWAPPED) {
    if (!(await exists(path.join(staging, name)))) continue;
    if (await exists(path.join(dataDir, name))) await rename(path.join(dataDir, name), path.join(aside, name));
    await rename(path.join(staging, name), path.join(dataDir, name));
  }
  await rm(staging, { recursive: true, force: true });
  return `mailmoat: restored the backup of ${manifest.createdAt}; the data it replaced is kept in ${aside} (delete it once the restore is checked)`;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Restores an archive file into a data folder whose store is closed (the CLI). */
export async function restoreFromFile(dataDir: string, file: string, passphrase: string): Promise<{ summary: BackupSummary; message: string }> {
  // Opening the store proves no daemon holds it (StoreInUseError says so clearly).
  await (await openStore(dataDir)).close();
  const { summary } = await stageRestore(dataDir, createReadStream(file) as AsyncIterable<Buffer>, passphrase);
  const message = await applyStagedRestore(dataDir);
  return { summary, message: message ?? '' };
}
