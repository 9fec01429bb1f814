// Durable file creation needs the directory synced too (the new name must survive a crash, not
// only the file's data). Directory fsyncs are coalesced: callers that arrive while one is running
// share the next one, so a burst of accepted messages costs a few fsyncs, not one each.
import { open } from 'node:fs/promises';

export class DirSync {
  #dir: string;
  #running: Promise<void> | null = null;
  #next: Promise<void> | null = null;

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
    const handle = await open(this.#dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
