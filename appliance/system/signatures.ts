// Virus signature freshness: which ClamAV databases the box has, how old they are, and the
// offline path (an admin uploads main/daily/bytecode .cvd or .cld files downloaded elsewhere).
//
// A .cvd/.cld file opens with a 512-byte text header, space-padded:
//   ClamAV-VDB:<build time>:<version>:<signatures>:<functionality level>:<md5>:<dsig>:<builder>:<unix build time>
// (sigtool writes the build time as "30 Nov 2026 09-30 +0000": no colon in it.)
// The age that matters is the newest database's (daily is rebuilt several times a day); past
// STALE_AFTER_MS it counts as stale — freshclam is failing or the box is offline. clamd's VERSION
// answer ("ClamAV 1.0.7/27470/<date>") says which daily version it has actually loaded.
// An upload is checked (name, header, a version not older than the installed one, the body's
// format) and written atomically: a temporary file in the same folder, synced, renamed over the
// old one, the folder synced; then clamd reloads. A .cld (what freshclam keeps after applying
// diffs) and a .cvd of one database never stay side by side: the one replaced is removed.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** Where the image's ClamAV (clamd and freshclam) keeps its databases. */
export const SIGNATURES_DIR = '/var/lib/clamav';
export const STALE_AFTER_MS = 2 * 24 * 3600 * 1000;
const HEADER_BYTES = 512;
export const DATABASE_NAME = /^(main|daily|bytecode)\.(cvd|cld)$/;

export interface DatabaseInfo {
  file: string;
  version: number;
  signatures: number;
  builtAt: string;
}

export interface SignatureStatus {
  databases: DatabaseInfo[];
  /** Build time of the newest database; undefined when there is none. */
  newestAt?: string;
  ageSeconds?: number;
  /** No database, or the newest older than two days. */
  stale: boolean;
  /** clamd's VERSION answer, when it answers. */
  loaded?: string;
}

/** The header's fields, or a sentence saying why it is not one. */
export function parseHeader(header: Buffer): Omit<DatabaseInfo, 'file'> | string {
  const text = header.subarray(0, HEADER_BYTES).toString('latin1');
  if (!text.startsWith('ClamAV-VDB:')) return 'it does not start with a ClamAV database header (ClamAV-VDB:)';
  const fields = text.trimEnd().split(':');
  if (fields.length < 9) return 'its ClamAV header has too few fields';
  const version = Number(fields[2]);
  const signatures = Number(fields[3]);
  const stime = Number(fields[8]);
  const built = Number.isInteger(stime) && stime > 0 ? stime * 1000 : Date.parse(fields[1] ?? '');
  if (!Number.isInteger(version) || version <= 0 || !Number.isInteger(signatures) || signatures < 0 || !Number.isFinite(built)) {
    return 'its ClamAV header has no valid version, signature count or build time';
  }
  return { version, signatures, builtAt: new Date(built).toISOString() };
}

async function readHeader(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEADER_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The databases in `dir` and their age; `loaded` is clamd's VERSION answer if there is one. */
export async function signatureStatus(dir: string, loaded?: string, now = Date.now()): Promise<SignatureStatus> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => DATABASE_NAME.test(n)).sort();
  const databases: DatabaseInfo[] = [];
  for (const file of names) {
    const parsed = parseHeader(await readHeader(path.join(dir, file)).catch(() => Buffer.alloc(0)));
    if (typeof parsed !== 'string') databases.push({ file, ...parsed });
  }
  if (!databases.length) return { databases, stale: true, ...(loaded ? { loaded } : {}) };
  const newest = Math.max(...databases.map((d) => Date.parse(d.builtAt)));
  const age = Math.max(0, now - newest);
  return { databases, newestAt: new Date(newest).toISOString(), ageSeconds: Math.round(age / 1000), stale: age > STALE_AFTER_MS, ...(loaded ? { loaded } : {}) };
}

/** Why an uploaded database was refused, for the admin. */
export class SignatureUploadError extends Error {
  override name = 'SignatureUploadError';
}

/** Checks and installs one uploaded database file; returns what was installed. */
export async function installDatabase(dir: string, name: string, body: AsyncIterable<Buffer> | Readable): Promise<DatabaseInfo> {
  const m = DATABASE_NAME.exec(name);
  if (!m) throw new SignatureUploadError(`"${name}" is not a database this appliance takes: main, daily or bytecode, .cvd or .cld`);
  const [, base, ext] = m;
  const tmp = path.join(dir, `.${name}.upload-${randomBytes(6).toString('hex')}`);
  const handle = await open(tmp, 'wx', 0o644);
  // clamd and freshclam (user clamav) must read it; the daemon's umask (027) would hide it from them.
  await handle.chmod(0o644);
  let head = Buffer.alloc(0);
  try {
    for await (const piece of body as AsyncIterable<Buffer>) {
      if (head.length < HEADER_BYTES + 8) head = Buffer.concat([head, piece.subarray(0, HEADER_BYTES + 8 - head.length)]);
      await handle.write(piece);
    }
    const info = parseHeader(head);
    if (typeof info === 'string') throw new SignatureUploadError(`${name} was refused: ${info}`);
    // A .cvd's body is a gzip'd tar; a .cld's an uncompressed one.
    const body0 = head.subarray(HEADER_BYTES);
    if (ext === 'cvd' && !(body0[0] === 0x1f && body0[1] === 0x8b)) throw new SignatureUploadError(`${name} was refused: a .cvd holds a compressed archive after its header, this one does not`);
    const installed = (await signatureStatus(dir)).databases.find((d) => d.file.startsWith(`${base}.`));
    if (installed && installed.version > info.version) {
      throw new SignatureUploadError(`${name} was refused: its version ${info.version} is older than the installed ${installed.file} (version ${installed.version})`);
    }
    await handle.sync();
    await handle.close();
    await rename(tmp, path.join(dir, name));
    const other = `${base}.${ext === 'cvd' ? 'cld' : 'cvd'}`;
    await rm(path.join(dir, other), { force: true });
    const folder = await open(dir, 'r');
    await folder.sync().finally(() => folder.close());
    return { file: name, ...info };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Tells when the signatures turn stale and when they are fresh again (once each, not on every
 * check), so the log, SNMP and the admin's mailbox get one warning per episode.
 */
export class StalenessWatch {
  #stale: boolean | undefined;

  /** The message for a change since the last check; undefined when nothing changed. */
  update(status: SignatureStatus): { stale: boolean; message: string } | undefined {
    if (status.stale === this.#stale) return undefined;
    const first = this.#stale === undefined;
    this.#stale = status.stale;
    if (!status.stale) return first ? undefined : { stale: false, message: `virus signatures are up to date again (newest built ${status.newestAt})` };
    const days = status.ageSeconds === undefined ? undefined : (status.ageSeconds / 86400).toFixed(1);
    return {
      stale: true,
      message: days === undefined
        ? 'no virus signature database is installed: freshclam has never succeeded (check its mirror and proxy settings) or upload main.cvd and daily.cvd in the console'
        : `virus signatures are ${days} days old (newest built ${status.newestAt}): freshclam is failing or the box is offline; check its log, or upload current .cvd files in the console`,
    };
  }
}
