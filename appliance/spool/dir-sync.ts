// Durable file creation needs the directory synced too (the new name must survive a crash, not
// only the file's data). Directory fsyncs are coalesced: callers that arrive while one is running
// share the next one, so a burst of accepted messages costs a few fsyncs, not one each. The
// directory stays open between syncs (opening it each time cost as much as the sync's bookkeeping).
import { open, type FileHandle } from 'node:fs/promises';

export class DirSync {
  #dir: string;
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;
  #handle: Promise<FileHandle> | null = null;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Resolves once an fsync of the directory that started after this call has completed. */
  sync(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#fsync().finally(() => { this.#running = null; });
      return this.#running;
    }
    // One is in flight but may have started before our rename/create: wait for the next one.
    this.#next ??= this.#running.then(() => {
      this.#next = null;
      return this.sync();
    });
    return this.#next;
  }

  async #fsync(): Promise<void> {
    const opening = this.#handle ??= open(this.#dir, 'r');
    try {
      await (await opening).sync();
    } catch (err) {
      // Reopen next time rather than keep a handle that failed (or never opened).
      if (this.#handle === opening) this.#handle = null;
      await opening.then((h) => h.close(), () => {});
      throw err;
    }
  }

  /** Closes the directory (a later sync opens it again). */
  async close(): Promise<void> {
    const opening = this.#handle;
    this.#handle = null;
    await opening?.then((h) => h.close(), () => {});
  }
}
