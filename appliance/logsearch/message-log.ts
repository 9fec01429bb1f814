// The message log: one record per message we accepted (or refused at DATA, or a recipient refused
// at RCPT where the domain logs those), with the session it came from, its envelope, the verdicts,
// every delivery attempt with the remote's reply, and the final status. Keys are our message ids,
// which sort by time. The console searches these.
// This module owns the `log` records and their `log-index` keys (log-index.ts says what they are).
// A record and its index keys change in one batch: `writeOps` gives both, deleting the keys an
// earlier state of the same record had and this one has not (a status or an attempt changed).
// Retention (`prune`) deletes records with their keys; `rebuildIndex` makes the keys again from the
// records, which a store written before the indexes existed needs (`ensureIndex` starts it).
// A term's dictionary key is written once, not with every record using the term: the terms written
// lately are remembered (a bounded set) and later writes leave their keys out. So a key is never
// missing under a posting for long: after any failed batch every remembered key is put again in a
// batch of its own (the failed one may have carried it; one such repair at a time, and after a failed
// one the next waits for some write to commit), and prune forgets a term and lets the writes sent
// before settle before it deletes the term's key (a write that left it out may still be on its way).
// A size cap (`pruneToSize`, log.maxMegabytes) prunes the oldest records further when records and
// indexes together take more than the cap on disk (LevelDB's own estimate of its table files).
import { randomBytes } from 'node:crypto';
import { delOp, putOp, type BatchOp, type Store, type Sublevel } from '../store/store.ts';
import { dictionaryKey, idAt, indexKeys, LogSearcher, postingsPrefix, withDictionary, type KeySource, type LogSearchPage, type RecordSource, type LogSearchQuery } from './log-index.ts';

export type { DeliveryAttempt, LoggedRecipient, LogStatus, MessageLogRecord } from './log-record.ts';
import type { LoggedRecipient, LogStatus, MessageLogRecord } from './log-record.ts';

/** Index layout version; a store without it (or with another) has its indexes rebuilt. */
const INDEX_VERSION = 1;
const META = '!version';
const DAY = 86_400_000;
/** Dictionary keys remembered as written (about 60 bytes each); beyond this the oldest is forgotten and written again when next used. */
const REMEMBERED_TERMS = 50_000;

export class MessageLog {
  #store: Store;
  #db: Sublevel<MessageLogRecord>;
  #index: Sublevel<number>;
  #searcher: LogSearcher;
  /** The index keys last written for a record object, so the next write deletes only what went away. */
  #written = new WeakMap<MessageLogRecord, Set<string>>();
  #indexed = false;
  #rebuilding: Promise<number> | undefined;
  /** Dictionary keys written lately, oldest first: writes leave them out; prune forgets the ones it deletes. */
  #terms = new Set<string>();
  /** The store's failed batches when #terms was last known to be stored. */
  #failuresSeen: number;
  /** A failed batch may have taken remembered dictionary keys with it: they are to be put again. */
  #repairDue = false;
  #repairing = false;
  /** The store's committed batches when the last repair failed: the next waits for a write to succeed. */
  #committedAtFailedRepair = -1;

  constructor(store: Store) {
    this.#store = store;
    this.#db = store.sublevel<MessageLogRecord>('log');
    this.#index = store.sublevel<number>('log-index');
    this.#failuresSeen = store.failedBatches;
    this.#searcher = new LogSearcher(this.#index as unknown as KeySource, (ids) => this.#getMany(ids), this.#db as unknown as RecordSource);
  }

  /** Opens the log; its indexes are used at once when present, else rebuilt in the background. */
  static async open(store: Store, onRebuilt?: (result: { records: number } | Error) => void): Promise<MessageLog> {
    const log = new MessageLog(store);
    await log.ensureIndex(onRebuilt);
    return log;
  }

  /** Whether searches use the indexes (false while they are being rebuilt). */
  get indexed(): boolean {
    return this.#indexed;
  }

  /**
   * Checks the index version: an empty log is indexed from the start; a log written before the
   * indexes (or by another layout) is reindexed in the background, searches walking the records
   * meanwhile. Resolves once that is decided, not when a rebuild ends.
   */
  async ensureIndex(onRebuilt?: (result: { records: number } | Error) => void): Promise<void> {
    if ((await this.#index.get(META)) === INDEX_VERSION) {
      this.#indexed = true;
      return;
    }
    const [first] = await this.#db.keys({ limit: 1 }).all();
    if (first === undefined) {
      await this.#index.put(META, INDEX_VERSION);
      this.#indexed = true;
      return;
    }
    this.rebuildIndex().then((records) => onRebuilt?.({ records }), (err: Error) => onRebuilt?.(err));
  }

  /**
   * Makes every index key again from the records (after deleting them all); returns how many
   * records it indexed. Writes arriving meanwhile index themselves, so the daemon may run on.
   */
  rebuildIndex(): Promise<number> {
    this.#rebuilding ??= (async () => {
      this.#indexed = false;
      // Writes that left a remembered key out have committed before the clear, so their records
      // are read below; later ones put their keys themselves.
      this.#terms.clear();
      await this.#store.settled();
      await this.#index.clear();
      // A write during the clear may have remembered a term whose key the clear then deleted.
      this.#terms.clear();
      let count = 0;
      let ops: BatchOp[] = [];
      for await (const r of this.#db.values()) {
        for (const key of withDictionary(indexKeys(r))) ops.push(putOp(this.#index, key, 0));
        count++;
        if (ops.length >= 5000) { await this.#store.batch(ops); ops = []; }
      }
      ops.push(putOp(this.#index, META, INDEX_VERSION));
      await this.#store.batch(ops, { sync: true });
      this.#indexed = true;
      return count;
    })().finally(() => { this.#rebuilding = undefined; });
    return this.#rebuilding;
  }

  /** Whether `position` can be a record's key (a message id), the resume point `search` takes. */
  static isPosition(position: string): boolean {
    return /^[A-Za-z0-9._-]{1,200}$/.test(position);
  }

  /** A new record id, sorting by time like the spool's (for records with no spooled message). */
  static newId(now = Date.now()): string {
    return idAt(now) + randomBytes(5).toString('hex');
  }

  /**
   * Batch operations writing the record and its index keys, so they commit atomically with the
   * queue record. Keys the same record object had at its last write and has no more are deleted.
   */
  writeOps(record: MessageLogRecord): BatchOp[] {
    const keys = indexKeys(record);
    const before = this.#written.get(record);
    const ops = [putOp(this.#db, record.id, record)];
    if (this.#store.failedBatches !== this.#failuresSeen) {
      this.#failuresSeen = this.#store.failedBatches;
      this.#repairDue = true;
    }
    if (this.#repairDue) this.#repairDictionary();
    for (const key of keys) {
      if (before?.has(key)) continue;
      ops.push(putOp(this.#index, key, 0));
      const term = dictionaryKey(key);
      if (term !== undefined && !this.#terms.has(term)) {
        ops.push(putOp(this.#index, term, 0));
        this.#remember(term);
      }
    }
    if (before) for (const key of before) if (!keys.has(key)) ops.push(delOp(this.#index, key));
    this.#written.set(record, keys);
    return ops;
  }

  /**
   * Puts every remembered dictionary key again, in a batch of its own: a failed write may have
   * carried the key that postings of later, committed writes rely on. One at a time; after a
   * failed repair the next waits until some write commits, so a store that keeps failing is not
   * sent the whole set with every message.
   */
  #repairDictionary(): void {
    if (this.#repairing || this.#store.committedBatches === this.#committedAtFailedRepair) return;
    this.#repairDue = false;
    this.#repairing = true;
    this.#store.batch([...this.#terms].map((term) => putOp(this.#index, term, 0)))
      .catch(() => { this.#repairDue = true; this.#committedAtFailedRepair = this.#store.committedBatches; })
      .finally(() => { this.#repairing = false; });
  }

  #remember(term: string): void {
    this.#terms.add(term);
    if (this.#terms.size > REMEMBERED_TERMS) this.#terms.delete(this.#terms.values().next().value!);
  }

  put(record: MessageLogRecord): Promise<void> {
    return this.#store.batch(this.writeOps(record));
  }

  async get(id: string): Promise<MessageLogRecord | undefined> {
    const r = await this.#db.get(id);
    if (r) this.#written.set(r, indexKeys(r));
    return r;
  }

  async #getMany(ids: string[]): Promise<(MessageLogRecord | undefined)[]> {
    return this.#db.getMany(ids);
  }

  /** One page of a search, newest first (log-index.ts). */
  search(q: LogSearchQuery): Promise<LogSearchPage> {
    return this.#searcher.search(q, this.#indexed);
  }

  /**
   * Newest first, optionally only the records older than the one with id `before` (ids sort by
   * time, so a paged walk resumes where its last page ended).
   */
  async *newest(before?: string): AsyncGenerator<MessageLogRecord> {
    yield* this.#db.values({ reverse: true, ...(before === undefined ? {} : { lt: before }) });
  }

  /** Every index key held now, in order: for checking the indexes against the records (tests, bench). */
  async indexKeysStored(): Promise<string[]> {
    return (await this.#index.keys().all()).filter((k) => k !== META);
  }

  /** Deletes the records received before `cutoff` (ms) with their index keys; returns how many. */
  async prune(cutoff: number): Promise<number> {
    let count = 0;
    let ops: BatchOp[] = [];
    const terms = new Set<string>();
    // Ids begin with the spool time, which is never before the session's receivedAt.
    for await (const r of this.#db.values({ lt: idAt(cutoff) })) {
      if (r.receivedAt >= cutoff) continue;
      ops.push(delOp(this.#db, r.id));
      for (const key of indexKeys(r)) {
        ops.push(delOp(this.#index, key));
        const d = dictionaryKey(key);
        if (d) terms.add(d);
      }
      count++;
      if (ops.length >= 5000) { await this.#store.batch(ops); ops = []; }
    }
    if (ops.length) await this.#store.batch(ops);
    // A term whose last posting went leaves the dictionary. A record written meanwhile puts its
    // terms itself; one committed between the check and the delete is caught by the second look.
    const orphans: string[] = [];
    for (const d of terms) if (!(await this.#hasPostings(d))) orphans.push(d);
    for (const d of orphans) this.#terms.delete(d);
    await this.#store.settled();
    for (const d of orphans) {
      // A posting committed meanwhile by a write that counted on the key: kept, and put again in
      // case the batch that carried it failed.
      if (await this.#hasPostings(d)) { await this.#index.put(d, 0); continue; }
      await this.#index.del(d);
      if (await this.#hasPostings(d)) await this.#index.put(d, 0);
    }
    return count;
  }

  /** About how many bytes the records and their indexes take on disk (see Store.approximateSize). */
  async sizeOnDisk(): Promise<number> {
    return (await this.#store.approximateSize('log')) + (await this.#store.approximateSize('log-index'));
  }

  /**
   * When records and indexes take more than `maxBytes`, deletes the oldest records (with their
   * index keys) so they take about 90 % of it — the margin keeps the next sweep from pruning again
   * at once — and compacts, so the space is given back. Records and their index keys grow
   * together, so the cut is where the records' own bytes reach the share to remove.
   */
  async pruneToSize(maxBytes: number, now = Date.now()): Promise<{ before: number; after: number; removed: number; cutoff: number } | undefined> {
    const before = await this.sizeOnDisk();
    if (before <= maxBytes) return undefined;
    const [oldest] = await this.#db.values({ limit: 1 }).all();
    if (!oldest) return undefined;
    const target = (await this.#store.approximateSize('log')) * (1 - (maxBytes * 0.9) / before);
    let lo = oldest.receivedAt;
    let hi = now;
    while (hi - lo > 1000) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.#store.approximateSize('log', { lt: idAt(mid) }) < target) lo = mid; else hi = mid;
    }
    const removed = await this.prune(hi);
    await this.#store.compact('log');
    await this.#store.compact('log-index');
    return { before, after: await this.sizeOnDisk(), removed, cutoff: hi };
  }

  async #hasPostings(dictionaryKey: string): Promise<boolean> {
    const prefix = postingsPrefix(dictionaryKey);
    return (await this.#index.keys({ gte: prefix, lt: `${prefix}\u{10FFFF}`, limit: 1 }).all()).length > 0;
  }
}

/**
 * Prunes the log now and then every `intervalMs`: records older than log.retentionDays, then, with
 * log.maxMegabytes set, the oldest beyond that size. What the cap removed is said in the log.
 */
export function startLogRetention(log: MessageLog, settings: () => { retentionDays: number; maxMegabytes: number }, say: (line: string) => void, intervalMs = 60 * 60 * 1000): () => void {
  let running = false;
  const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;
  const sweep = async () => {
    const { retentionDays, maxMegabytes } = settings();
    await log.prune(Date.now() - retentionDays * DAY);
    if (maxMegabytes <= 0) return;
    const capped = await log.pruneToSize(maxMegabytes * 1e6);
    if (capped) {
      say(`mailmoat: the message log took ${mb(capped.before)}, over its cap of ${maxMegabytes} MB (log.maxMegabytes): ` +
        `removed ${capped.removed} record(s) received before ${new Date(capped.cutoff).toISOString()}; now ${mb(capped.after)}`);
    }
  };
  const run = () => {
    if (running) return;
    running = true;
    sweep().catch((err: Error) => say(`mailmoat: message log retention failed: ${err.message}`)).finally(() => { running = false; });
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The overall status from the recipients' states. */
export function overallStatus(recipients: LoggedRecipient[]): LogStatus {
  const states = new Set(recipients.map((r) => r.status));
  if (states.has('pending')) return 'queued';
  if (states.size === 1) return [...states][0] as LogStatus;
  if (states.has('delivered')) return 'partially delivered';
  if (states.has('bounced')) return 'bounced';
  return states.has('quarantined') ? 'quarantined' : 'deleted';
}
