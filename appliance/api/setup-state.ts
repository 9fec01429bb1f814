// Setup mode: a fresh appliance has no console account, so the console shows only the first-boot
// wizard. The wizard is claimed with the one-time setup code in `<data>/setup-code`, written by
// first boot in the image; on a host run, when that file is missing, the code is made here at
// start and printed to the daemon's log so only someone at the box can read it. Finishing the
// wizard records completion in the `system` sublevel (key `console-setup`) and deletes the code
// file: the wizard cannot be reached again.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Store, Sublevel } from '../store/store.ts';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O or 1/I: read off a screen, typed by hand
const KEY = 'console-setup';

interface SetupDone {
  completedAt: string;
  by: string;
}

export function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

export class SetupState {
  #db: Sublevel<unknown>;
  #file: string;
  #done: boolean;
  private constructor(db: Sublevel<unknown>, file: string, done: boolean) {
    this.#db = db;
    this.#file = file;
    this.#done = done;
  }

  static async open(store: Store, dataDir: string): Promise<SetupState> {
    const db = store.sublevel<unknown>('system');
    const done = (await db.get(KEY)) !== undefined;
    return new SetupState(db, path.join(dataDir, 'setup-code'), done);
  }

  get inSetup(): boolean {
    return !this.#done;
  }

  /** Makes sure a setup code exists while in setup mode; returns it when it was generated now. */
  async ensureCode(): Promise<string | undefined> {
    if (this.#done || (await this.#readCode()) !== undefined) return undefined;
    const groups = Array.from({ length: 4 }, () => Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''));
    const code = groups.join('-');
    await writeFile(this.#file, code + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    return (await this.#readCode()) === normaliseCode(code) ? code : undefined;
  }

  async #readCode(): Promise<string | undefined> {
    try {
      const code = normaliseCode(await readFile(this.#file, 'utf8'));
      return code || undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether `given` is the setup code (constant-time comparison). */
  async check(given: string): Promise<boolean> {
    const code = await this.#readCode();
    if (!code || this.#done) return false;
    const a = createHash('sha256').update(code).digest();
    const b = createHash('sha256').update(normaliseCode(given)).digest();
    return timingSafeEqual(a, b);
  }

  async complete(by: string): Promise<void> {
    const record: SetupDone = { completedAt: new Date().toISOString(), by };
    await this.#db.put(KEY, record, { sync: true });
    this.#done = true;
    await rm(this.#file, { force: true });
  }
}
