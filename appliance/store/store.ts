// The store: one LevelDB database under <data>/db, split into named sublevels.
// Only one process may open it (LevelDB takes a lock); a second opener gets a StoreInUseError
// so command-line tools can say clearly that the daemon holds the store.
// Each sublevel has exactly one owner, the module named in SUBLEVELS: only it opens the sublevel,
// reads and writes its keys, and offers operations on them to the rest (batch operations where
// several records must change together). test/unit/store-ownership.test.ts holds the code to it.
// The store's format is numbered (STORE_FORMAT, in <data>/db/MAILMOAT-FORMAT): a daemon refuses a
// store written in a newer format than its own — after a fallback to an older system, or a data
// partition moved to an older image — with a message saying what to do, rather than misread it.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import type { AbstractBatchOperation, AbstractSublevel } from 'abstract-level';
import type { ClassicLevel } from 'classic-level';

/** Every sublevel the appliance uses, and the one module (under appliance/) that owns it. */
export const SUBLEVELS = {
  config: 'config/config-service.ts', //        the active configuration document
  queue: 'delivery/queue.ts', //                 queue records of accepted messages
  log: 'logsearch/message-log.ts', //            message log records
  'log-index': 'logsearch/message-log.ts', //    their search indexes (field term → record id)
  quarantine: 'quarantine/quarantine-store.ts', // quarantined messages and their indexes
  lists: 'lists/lists-store.ts', //              allow/block/condition lists
  stats: 'stats/counters.ts', //                 counters domain!granularity!bucket
  bayes: 'classifier/model-store.ts', //         the classifier's weights and training records
  callout: 'smtp/callout.ts', //                 cached recipient callout results
  greylist: 'smtp/greylist.ts', //               greylisting triplets and auto-whitelisted client networks
  users: 'api/users.ts', //                      console accounts and their API tokens
  sessions: 'api/sessions.ts', //                console sessions
  audit: 'api/audit.ts', //                      audit log
  system: 'api/setup-state.ts', //               first-boot setup state
  reports: 'reports/report-store.ts', //         last run per report, used action links, subscriptions, notice times
} as const;
export type SublevelName = keyof typeof SUBLEVELS;

// classic-level honours `sync: true` (fsync the write-ahead log before resolving) and sublevels
// pass options through to it; abstract-level's types just do not declare it.
declare module 'abstract-level' {
  interface AbstractPutOptions<K, V> { sync?: boolean }
  interface AbstractDelOptions<K> { sync?: boolean }
  interface AbstractBatchOptions<K, V> { sync?: boolean }
}

/** A JSON-valued sublevel whose values the owning module types. */
export type Sublevel<V> = AbstractSublevel<Level<string, unknown>, string | Buffer | Uint8Array, string, V>;

/** One operation of an atomic batch across sublevels; build them with putOp / delOp. */
export interface BatchOp { readonly __batchOp: true }
type RawOp = { type: 'put'; sublevel: unknown; key: string; value: unknown } | { type: 'del'; sublevel: unknown; key: string };

export function putOp<V>(sublevel: Sublevel<V>, key: string, value: V): BatchOp {
  return { type: 'put', sublevel, key, value } as RawOp as unknown as BatchOp;
}
export function delOp<V>(sublevel: Sublevel<V>, key: string): BatchOp {
  return { type: 'del', sublevel, key } as RawOp as unknown as BatchOp;
}

export class StoreInUseError extends Error {
  constructor(dir: string) {
    super(`the store in ${dir} is in use by another process (is the mailmoat daemon running?); ` +
      'stop it first, or use the console/API while it runs');
    this.name = 'StoreInUseError';
  }
}

export interface Store {
  readonly dir: string;
  /** A JSON-valued sublevel, for its owning module only (SUBLEVELS). Values are typed by that module. */
  sublevel<V>(name: SublevelName): Sublevel<V>;
  /** Writes operations on several sublevels atomically; `sync` makes it durable before resolving. */
  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void>;
  /** How many batches have failed since the store opened: a module remembering what it wrote can tell that some of it may not be there. */
  readonly failedBatches: number;
  /** How many batches have committed since the store opened: after a failure, whether the store takes writes again. */
  readonly committedBatches: number;
  /** Resolves once every batch sent before the call has committed or failed. */
  settled(): Promise<void>;
  /**
   * About how many bytes a sublevel's keys in [gte, lt) take on disk (all of them without a range),
   * as LevelDB estimates it from its table files: writes still in memory count as nothing, and
   * deleted keys count until `compact` rewrites their range. For the owning module only.
   */
  approximateSize(name: SublevelName, range?: { gte?: string; lt?: string }): Promise<number>;
  /** Rewrites a sublevel's table files, so space of deleted keys is given back. For the owning module only. */
  compact(name: SublevelName): Promise<void>;
  /**
   * Every entry of the named sublevels as raw bytes, read from one snapshot (so they agree with
   * each other): for backup (appliance/backup/), which copies entries without interpreting them.
   */
  rawEntries(names: readonly SublevelName[]): AsyncGenerator<[Buffer, Buffer]>;
  /** Writes raw entries as rawEntries gave them: for restore into a store nothing else has open. */
  putRaw(entries: [Buffer, Buffer][], options?: { sync?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** The sublevel a raw key belongs to (abstract-level prefixes keys with `!name!`). */
export function sublevelOfRawKey(key: Buffer): string | undefined {
  if (key[0] !== 0x21) return undefined;
  const end = key.indexOf(0x21, 1);
  return end > 0 ? key.subarray(1, end).toString('utf8') : undefined;
}

/** The format of the data in the store this code writes; raised by a change older code would misread. */
export const STORE_FORMAT = 1;
const FORMAT_FILE = 'MAILMOAT-FORMAT';

export class StoreTooNewError extends Error {
  constructor(dir: string, found: { format: number; writtenBy?: string }, own: number) {
    super(`the store in ${dir} was written by a newer Mailmoat${found.writtenBy ? ` (${found.writtenBy})` : ''} in format ${found.format}; ` +
      `this system reads format ${own} and older, so it leaves the store untouched. Start the newer system again ` +
      '(after a fallback: install that update once more), or restore a backup made by this version');
    this.name = 'StoreTooNewError';
  }
}

/** Opens (creating if needed) the store in `<dataDir>/db`; `writtenBy` (a version) is recorded with its format. */
export async function openStore(dataDir: string, o: { writtenBy?: string; format?: number } = {}): Promise<Store> {
  const dir = path.join(dataDir, 'db');
  await mkdir(dir, { recursive: true });
  const own = o.format ?? STORE_FORMAT;
  const formatFile = path.join(dir, FORMAT_FILE);
  const text = await readFile(formatFile, 'utf8').catch(() => undefined);
  let found: { format: number; writtenBy?: string } | undefined;
  try { found = text === undefined ? undefined : JSON.parse(text) as { format: number; writtenBy?: string }; } catch { found = undefined; }
  if (found && Number(found.format) > own) throw new StoreTooNewError(dir, found, own);
  const db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED' || /lock/i.test(String(cause?.message ?? (err as Error).message))) {
      throw new StoreInUseError(dir);
    }
    throw err;
  }
  if (!found || found.format !== own) await writeFile(formatFile, JSON.stringify({ format: own, writtenBy: o.writtenBy }) + '\n');
  let failedBatches = 0;
  let committedBatches = 0;
  const inFlight = new Set<Promise<void>>();
  return {
    dir,
    sublevel<V>(name: SublevelName) {
      return db.sublevel<string, V>(name, { valueEncoding: 'json' });
    },
    batch(ops, options) {
      const done = db.batch(ops as unknown as AbstractBatchOperation<Level<string, unknown>, string, unknown>[], options ?? {})
        .then(() => { committedBatches++; }, (err: unknown) => { failedBatches++; throw err; });
      inFlight.add(done);
      done.then(() => inFlight.delete(done), () => inFlight.delete(done));
      return done;
    },
    get failedBatches() { return failedBatches; },
    get committedBatches() { return committedBatches; },
    settled: async () => { await Promise.allSettled([...inFlight]); },
    // On Node `level` is classic-level, whose size and compaction calls its own type declares.
    // A sublevel's keys are stored as "!name!key" (abstract-level's prefix); '"' follows '!'.
    approximateSize: (name, range = {}) => (db as unknown as ClassicLevel<string, unknown>).approximateSize(`!${name}!${range.gte ?? ''}`, range.lt === undefined ? `!${name}"` : `!${name}!${range.lt}`),
    compact: (name) => (db as unknown as ClassicLevel<string, unknown>).compactRange(`!${name}!`, `!${name}"`),
    async *rawEntries(names) {
      const wanted = new Set<string>(names);
      // One iterator over the whole database: LevelDB reads it from a snapshot taken at its start.
      for await (const [key, value] of db.iterator<Buffer, Buffer>({ keyEncoding: 'buffer', valueEncoding: 'buffer' })) {
        const name = sublevelOfRawKey(key);
        if (name !== undefined && wanted.has(name)) yield [key, value];
      }
    },
    putRaw: (entries, options) => db.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value, keyEncoding: 'buffer', valueEncoding: 'buffer' })), options ?? {}),
    close: () => db.close(),
  };
}
