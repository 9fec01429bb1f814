// Scheduled backups to an SFTP server (system.remoteBackup): the encrypted archive of everything
// (appliance/backup/) streamed over SFTP as it is written — never staged on the local disk, which
// may be the reason a box needs its backup — then the oldest archives of this appliance removed
// past `keep`.
//
// The SSH client is the ssh2 package (pure JavaScript) rather than the system's sftp: it streams
// from memory (OpenSSH's sftp uploads only files), takes a password without an askpass helper or
// sshpass, and hands us the server's host key to check against the configured fingerprint. It is
// loaded when a backup first runs, not with the daemon (about 3 MiB of heap; issue 12).
// An upload goes to "<name>.part" and is renamed when complete, so a broken transfer never passes
// for a backup and never pushes a good one out by retention. Only names this appliance writes
// (mailmoat-backup-<hostname>-<UTC stamp>.mmbackup) are ever listed for removal.
// Schedule: like the reports (appliance/reports/schedule.ts), the latest slot at or before now in
// the appliance's time zone; a slot missed while the box was down runs once, when it is up again.
// The last run is kept in <data>/remote-backup.json (the console shows it).
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Client, SFTPWrapper } from 'ssh2';
import { backupStream } from '../backup/backup.ts';
import type { RemoteBackupSettings } from '../config/schema.ts';
import { latestSlot } from '../reports/schedule.ts';
import type { Store } from '../store/store.ts';

const STATUS_FILE = 'remote-backup.json';
const CONNECT_TIMEOUT_MS = 20_000;

export interface RemoteBackupRun {
  at: string;
  ok: boolean;
  /** The archive written (its remote path) and its size. */
  file?: string;
  bytes?: number;
  /** Archives removed by retention. */
  removed?: string[];
  /** What went wrong, for the admin. */
  error?: string;
  /** The server's host key fingerprint as seen (SHA256:…). */
  hostKey?: string;
}

export interface RemoteBackupStatus {
  lastRun?: RemoteBackupRun;
  /** The schedule slot the last scheduled run was for (ms). */
  lastSlot?: number;
}

/** SHA256:<base64 without padding>, as ssh-keygen -l prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The archive name for this appliance and instant (20261120T173000Z: no colons, which some servers refuse). */
export function archiveName(hostname: string, at: Date): string {
  return `mailmoat-backup-${hostname}-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}.mmbackup`;
}

function ownArchives(hostname: string, names: string[]): string[] {
  const prefix = `mailmoat-backup-${hostname}-`;
  return names.filter((n) => n.startsWith(prefix) && n.endsWith('.mmbackup') && /^\d{8}T\d{6}Z$/.test(n.slice(prefix.length, -'.mmbackup'.length))).sort();
}

/** An error as the admin can act on it. */
function explain(err: Error & { level?: string; code?: string | number }, s: RemoteBackupSettings): string {
  if (err.level === 'client-authentication') return `the SFTP server ${s.host} refused user "${s.username}": check the password or the key (its public key must be in the server's authorized_keys)`;
  if (err.code === 'ECONNREFUSED') return `nothing answers on ${s.host} port ${s.port}: check the host, port and the server's firewall`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `the name ${s.host} does not resolve: check the host name and the DNS settings`;
  if (err.level === 'client-timeout') return `${s.host} port ${s.port} did not answer within ${CONNECT_TIMEOUT_MS / 1000} s: check the host, port and network`;
  if (err.code === 3) return `the SFTP server refused access to ${s.path}: ${err.message}`;
  if (err.code === 2) return `the folder ${s.path} does not exist on the SFTP server`;
  return err.message;
}

const sftpCall = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));

async function connect(s: RemoteBackupSettings, seen: { key?: string }): Promise<{ client: Client; sftp: SFTPWrapper }> {
  const { Client } = await import('ssh2');
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    let refusedKey: string | undefined;
    client.once('ready', () => resolve());
    client.once('error', (err) => reject(refusedKey ? new Error(refusedKey) : err));
    client.connect({
      host: s.host, port: s.port, username: s.username, readyTimeout: CONNECT_TIMEOUT_MS,
      ...(s.password ? { password: s.password } : {}),
      ...(s.privateKey ? { privateKey: s.privateKey } : {}),
      hostVerifier: (key: Buffer) => {
        seen.key = fingerprint(key);
        if (!s.hostKey || s.hostKey === seen.key) return true;
        refusedKey = `the SFTP server ${s.host} showed the host key ${seen.key}, not the configured ${s.hostKey}: if the server's key really changed, set the new fingerprint; otherwise something is in between`;
        return false;
      },
    });
  });
  try {
    return { client, sftp: await sftpCall<SFTPWrapper>((cb) => client.sftp(cb)) };
  } catch (err) {
    client.end();
    throw err;
  }
}

export interface RemoteBackupDeps {
  store: Store;
  dataDir: string;
  settings: () => RemoteBackupSettings;
  hostname: () => string;
  timezone: () => string;
  say: (line: string) => void;
  /** Tells the admin (by mail) that a backup failed. */
  notifyFailure?: (message: string) => Promise<void>;
  now?: () => number;
}

export class RemoteBackup {
  readonly #d: RemoteBackupDeps;
  #running: Promise<RemoteBackupRun> | undefined;

  constructor(deps: RemoteBackupDeps) {
    this.#d = deps;
  }

  async status(): Promise<RemoteBackupStatus> {
    try {
      return JSON.parse(await readFile(path.join(this.#d.dataDir, STATUS_FILE), 'utf8')) as RemoteBackupStatus;
    } catch {
      return {};
    }
  }

  async #save(status: RemoteBackupStatus): Promise<void> {
    const file = path.join(this.#d.dataDir, STATUS_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify(status));
    await rename(`${file}.tmp`, file);
  }

  /** One backup now (one at a time: a second call joins the running one). */
  run(slot?: number): Promise<RemoteBackupRun> {
    this.#running ??= this.#run(slot).finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async #run(slot: number | undefined): Promise<RemoteBackupRun> {
    const s = this.#d.settings();
    const at = new Date(this.#d.now?.() ?? Date.now());
    const seen: { key?: string } = {};
    let result: RemoteBackupRun;
    try {
      if (!s.host || !s.username || (!s.password && !s.privateKey) || [...s.passphrase].length < 8) {
        throw new Error('the remote backup is not set up: give the host, user name, a password or key and a passphrase of 8 characters or more');
      }
      const { client, sftp } = await connect(s, seen);
      try {
        const name = archiveName(this.#d.hostname(), at);
        const file = path.posix.join(s.path, name);
        const partial = `${file}.part`;
        await pipeline(Readable.from(backupStream(this.#d.store, this.#d.dataDir, s.passphrase, at), { objectMode: false }), sftp.createWriteStream(partial));
        await sftpCall<void>((cb) => sftp.rename(partial, file, cb));
        const { size } = await sftpCall<{ size: number }>((cb) => sftp.stat(file, cb));
        const listing = await sftpCall<{ filename: string }[]>((cb) => sftp.readdir(s.path, cb));
        const ours = ownArchives(this.#d.hostname(), listing.map((e) => e.filename));
        const removed = ours.slice(0, Math.max(0, ours.length - s.keep));
        // Partial files of earlier broken transfers go too.
        const broken = ownArchives(this.#d.hostname(), listing.map((e) => e.filename.replace(/\.part$/, ''))).filter((n) => listing.some((e) => e.filename === `${n}.part`)).map((n) => `${n}.part`);
        for (const old of [...removed, ...broken]) await sftpCall<void>((cb) => sftp.unlink(path.posix.join(s.path, old), cb));
        result = { at: at.toISOString(), ok: true, file, bytes: size, removed, ...(seen.key ? { hostKey: seen.key } : {}) };
        this.#d.say(`mailmoat: backup sent to ${s.host}:${file} (${size} bytes)${removed.length ? `; removed ${removed.length} older` : ''}`);
      } finally {
        client.end();
      }
    } catch (err) {
      result = { at: at.toISOString(), ok: false, error: explain(err as Error, s), ...(seen.key ? { hostKey: seen.key } : {}) };
      this.#d.say(`<3>mailmoat: the backup to ${s.host || 'the SFTP server'} failed: ${result.error}`);
      await this.#d.notifyFailure?.(`The backup to ${s.host || 'the SFTP server'} at ${result.at} failed: ${result.error}`)
        .catch((e: Error) => this.#d.say(`<4>mailmoat: could not mail the admin about the failed backup: ${e.message}`));
    }
    const previous = await this.status();
    await this.#save({ lastRun: result, ...(slot !== undefined ? { lastSlot: slot } : previous.lastSlot !== undefined ? { lastSlot: previous.lastSlot } : {}) });
    return result;
  }

  /** Runs the backup when its schedule has a slot newer than the last one run; called every minute. */
  async tick(): Promise<RemoteBackupRun | undefined> {
    const s = this.#d.settings();
    if (!s.enabled) return undefined;
    const slot = latestSlot({ frequency: s.frequency, time: s.time, weekday: s.weekday }, this.#d.timezone(), this.#d.now?.() ?? Date.now());
    const { lastSlot } = await this.status();
    if (lastSlot !== undefined && lastSlot >= slot) return undefined;
    return this.run(slot);
  }
}
