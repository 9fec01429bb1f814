// The spool: message files under <data>/spool. A message is written as it streams in, with our
// Received header first, and made durable (file data and directory entry synced) before anything
// answers 250. The received bytes are also handed back, so the filter does not read the file again
// (the listeners' size limit bounds them), and the most recent ones are kept for a while so the
// first delivery attempt — usually a moment later — need not read the file either. The file stays
// the truth: what is kept in memory is only a copy, dropped when the file is removed or for room.
// Accepting (appliance/accept/) writes here; the delivery queue reads, copies in and removes files
// through its MessageFiles interface, which this class fits, so delivery does not import the spool.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { DirSync } from './dir-sync.ts';
import { HeaderScanner, type HeaderSummary } from '../message/header-scan.ts';

export type SpoolResult =
  | { ok: true; id: string; file: string; path: string; size: number; headers: HeaderSummary; data: Buffer }
  | { ok: false; reason: 'too-large' | 'header-too-large' };

const WRITE_BATCH = 64 * 1024;
/**
 * Bytes of recently received messages kept in memory for their first delivery: 16 MiB, seconds of
 * mail at full load (a thousand or more typical messages), while a delivery usually starts within
 * one. More only keeps copies the queue reads from the file anyway once it is backed up, and memory
 * that malloc does not give back once the load is over (issue 12; it was 64 MiB).
 */
const RECENT_BYTES = 16 * 1024 * 1024;

/** Sortable unique ids: time first so a scan of the queue comes out oldest first. */
function newMessageId(): string {
  return Date.now().toString(36).padStart(9, '0') + randomBytes(5).toString('hex');
}

export class Spool {
  readonly dir: string;
  #dirSync: DirSync;
  /** Recently received messages by file name, oldest first (a Map keeps insertion order). */
  #recent = new Map<string, Buffer>();
  #recentBytes = 0;

  private constructor(dir: string) {
    this.dir = dir;
    this.#dirSync = new DirSync(dir);
  }

  static async open(dataDir: string): Promise<Spool> {
    const dir = path.join(dataDir, 'spool');
    await mkdir(dir, { recursive: true });
    return new Spool(dir);
  }

  pathOf(file: string): string {
    return path.join(this.dir, file);
  }

  /**
   * Streams a message into a new spool file, prefixed by `prefix` (our trace header). The stream
   * is always read to its end, so the SMTP session can answer afterwards even when we refuse.
   */
  async receive(stream: Readable, prefix: string, limits: { maxBytes: number; maxHeaderBytes: number }): Promise<SpoolResult> {
    const id = newMessageId();
    const file = `${id}.eml`;
    const full = this.pathOf(file);
    const handle = await open(full, 'wx', 0o640);
    const scanner = new HeaderScanner(limits.maxHeaderBytes);
    let size = 0;
    let refused: 'too-large' | 'header-too-large' | null = null;
    const kept: Buffer[] = [Buffer.from(prefix)];
    let pending: Buffer[] = [kept[0]];
    let pendingBytes = kept[0].length;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (refused) continue; // drain
        size += chunk.length;
        scanner.push(chunk);
        if (size > limits.maxBytes) refused = 'too-large';
        else if (scanner.tooLarge) refused = 'header-too-large';
        if (refused) { pending = []; kept.length = 0; continue; }
        kept.push(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BATCH) {
          await handle.writev(pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (!refused) {
        if (pending.length) await handle.writev(pending);
        await handle.datasync();
      }
    } catch (err) {
      await handle.close().catch(() => {});
      await unlink(full).catch(() => {});
      throw err;
    }
    await handle.close();
    if (refused) {
      await unlink(full).catch(() => {});
      return { ok: false, reason: refused };
    }
    await this.#dirSync.sync();
    const data = Buffer.concat(kept);
    this.#keep(file, data);
    return { ok: true, id, file, path: full, size: data.length, headers: scanner.summary(), data };
  }

  /** Writes a whole message we generate ourselves (bounces), durably. */
  async writeMessage(content: Buffer): Promise<{ id: string; file: string; size: number }> {
    const id = newMessageId();
    const file = `${id}.eml`;
    const handle = await open(this.pathOf(file), 'wx', 0o640);
    try {
      await handle.writeFile(content);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await this.#dirSync.sync();
    return { id, file, size: content.length };
  }

  /** Copies a message file from elsewhere (a quarantine release, a forward), durably. */
  async copyMessage(sourcePath: string): Promise<{ id: string; file: string; size: number }> {
    const id = newMessageId();
    const file = `${id}.eml`;
    await copyFile(sourcePath, this.pathOf(file));
    const handle = await open(this.pathOf(file), 'r+');
    let size: number;
    try {
      await handle.datasync();
      size = (await handle.stat()).size;
    } finally {
      await handle.close();
    }
    await this.#dirSync.sync();
    return { id, file, size };
  }

  /** A recently received message's bytes, or the path of its file. */
  source(file: string): Buffer | string {
    return this.#recent.get(file) ?? this.pathOf(file);
  }

  #keep(file: string, data: Buffer): void {
    if (data.length > RECENT_BYTES / 4) return;
    this.#recent.set(file, data);
    this.#recentBytes += data.length;
    for (const old of this.#recent.keys()) {
      if (this.#recentBytes <= RECENT_BYTES) break;
      this.#forget(old);
    }
  }

  #forget(file: string): void {
    const data = this.#recent.get(file);
    if (!data) return;
    this.#recent.delete(file);
    this.#recentBytes -= data.length;
  }

  async remove(file: string): Promise<void> {
    this.#forget(file);
    await unlink(this.pathOf(file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Releases the spool directory's handle (the appliance is stopping). */
  close(): Promise<void> {
    return this.#dirSync.close();
  }

  /** Files in the spool (for recovery: files without a queue record were never acknowledged). */
  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((f) => f.endsWith('.eml'));
  }
}
