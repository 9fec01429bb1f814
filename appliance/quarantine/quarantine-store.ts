// The quarantine: messages held back for an admin (or the recipient) to judge.
//
// The raw message is stored once, as a file under <data>/quarantine/ — a hard link to the spool
// file when both are on one filesystem (no copy; the spool may delete its name later), else a copy
// that is fsynced — and the directory is fsynced, before its record is written. The record holds
// what the console shows and searches (time, sender, recipients, subject, class, score, reasons,
// virus name, size, direction) and one entry per recipient with that copy's class, header edits
// and state. A message stays until no recipient's copy is held any more, or retention expires it.
//
// Keys in the 'quarantine' sublevel (this module owns them):
//   m!<id>                               → QuarantineRecord
//   t!<time>!<id>                        → id   (time = 13-digit ms, so keys sort by time)
//   r!<recipient>!<time>!<id>            → id
//   s!<sender>!<time>!<id>               → id
//   c!<class>!<time>!<id>                → id
//   d!<domain>!<time>!<id>               → id
//   w!<mailbox|domain>!<name>            → 1   (a quota warning was sent; cleared below the level)
//   u!<queue id>                         → ReleaseNote (a released copy still queued: how to undo it)
// Usage (held bytes and messages per mailbox and per domain, for the quotas) is tallied in memory:
// counted from the records when the quarantine is opened, then kept up to date by every change.
// A mailbox counts each held copy; a domain counts a message once however many of its copies it holds.
import { constants, createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { MailDirection } from '../config/schema.ts';
import type { Store, Sublevel } from '../store/store.ts';
import type { HeaderEdits, MainClass, Reason } from '../message/message.ts';
import { LocalizedError } from '../i18n/server-messages.ts';

export type RecipientState = 'held' | 'released' | 'deleted';

export interface QuarantinedRecipient {
  address: string;
  /** Served domain ('' for outbound). */
  domain: string;
  mainClass: MainClass;
  headerEdits: HeaderEdits;
  why: string[];
  state: RecipientState;
}

export interface QuarantineRecord {
  id: string;
  queueId: string;
  quarantinedAt: number;
  receivedAt: number;
  direction: MailDirection;
  mailFrom: string;
  fromHeader: string;
  subject: string;
  messageId: string;
  size: number;
  /** The class of the message as a whole (of its first held copy). */
  mainClass: MainClass;
  score?: number;
  reasons: Reason[];
  virus?: string;
  clientIp: string;
  recipients: QuarantinedRecipient[];
  /** File name under the quarantine directory. */
  blob: string;
}

/**
 * How to undo a release while its copy waits in the delivery queue: the message's record as it was
 * just before (the copies released then still held) and which of its copies went into that queued
 * copy. Written with the release, dropped when the copy leaves the queue or the release is undone.
 */
export interface ReleaseNote {
  copy: string;
  addresses: string[];
  record: QuarantineRecord;
}

export type NewQuarantineRecord = Omit<QuarantineRecord, 'id' | 'quarantinedAt' | 'blob' | 'recipients'> & {
  recipients: Omit<QuarantinedRecipient, 'state'>[];
};

export interface SearchQuery {
  recipient?: string;
  sender?: string;
  mainClass?: MainClass;
  domain?: string;
  /** Inclusive ms range on the quarantine time. */
  since?: number;
  until?: number;
  /** Contained in subject, sender, From header or a recipient (case-insensitive). */
  text?: string;
  /** Newest first; 100 unless given. */
  limit?: number;
}

export interface Usage { bytes: number; messages: number }
export type UsageLevel = 'mailbox' | 'domain';

const ts = (ms: number) => String(ms).padStart(13, '0');

function matches(r: QuarantineRecord, q: SearchQuery): boolean {
  if (q.sender && r.mailFrom.toLowerCase() !== q.sender.toLowerCase()) return false;
  if (q.mainClass && r.mainClass !== q.mainClass) return false;
  if (q.recipient && !r.recipients.some((x) => x.address.toLowerCase() === q.recipient!.toLowerCase() && x.state === 'held')) return false;
  if (q.domain && !r.recipients.some((x) => x.domain.toLowerCase() === q.domain!.toLowerCase())) return false;
  const text = q.text?.toLowerCase();
  return !text || [r.subject, r.mailFrom, r.fromHeader, ...r.recipients.map((x) => x.address)].some((s) => s.toLowerCase().includes(text));
}
/** One write of the sublevel's batches. */
type Op = { type: 'put'; key: string; value: QuarantineRecord | ReleaseNote | string } | { type: 'del'; key: string };
const isRecord = (v: unknown): v is QuarantineRecord => typeof v === 'object' && v !== null && 'blob' in v;
const isNote = (v: unknown): v is ReleaseNote => typeof v === 'object' && v !== null && 'copy' in v;
const safeId = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_');

/** A refusal saying what went wrong; its `text` lets the console show it in the admin's language. */
export class QuarantineError extends LocalizedError {
  override name = 'QuarantineError';
}

export class Quarantine {
  readonly dir: string;
  #db: Sublevel<QuarantineRecord | ReleaseNote | string>;
  /** The queued copies that have a release note, to the message they came from (kept in memory: most messages have none). */
  #notes = new Map<string, string>();
  #usage = { mailbox: new Map<string, Usage>(), domain: new Map<string, Usage>() };
  /** The whole box: each message holding some copy counts once, however many domains it is held for. */
  #held: Usage = { bytes: 0, messages: 0 };
  /**
   * Messages held for several domains, by their domains (sorted, comma-separated): what a set of
   * domains takes away from its domains' sum to count each once (heldFor). As many entries at
   * most as such messages are held.
   */
  #shared = new Map<string, Usage>();

  private constructor(dir: string, db: Sublevel<QuarantineRecord | ReleaseNote | string>) {
    this.dir = dir;
    this.#db = db;
  }

  /** Whether `position` is one `walk` yields (`<13-digit ms>!<id>`): the only resume point it takes. */
  static isPosition(position: string): boolean {
    return /^\d{13}![A-Za-z0-9._-]{1,200}$/.test(position);
  }

  /** Opens the quarantine of the store; message files live in <data>/quarantine. */
  static async open(store: Store, dataDir: string): Promise<Quarantine> {
    const dir = path.join(dataDir, 'quarantine');
    await mkdir(dir, { recursive: true });
    const q = new Quarantine(dir, store.sublevel<QuarantineRecord | ReleaseNote | string>('quarantine'));
    for await (const v of q.#db.values({ gte: 'm!', lt: 'm!~' })) if (isRecord(v)) q.#tally(v, 1);
    for await (const v of q.#db.values({ gte: 'u!', lt: 'u!~' })) if (isNote(v)) q.#notes.set(v.copy, v.record.id);
    return q;
  }

  /** Held bytes and messages of one mailbox or domain. */
  usage(level: UsageLevel, name: string): Usage {
    return { ...(this.#usage[level].get(name.toLowerCase()) ?? { bytes: 0, messages: 0 }) };
  }

  /** Held bytes and messages of the whole box, each message once (the domains' sum counts one held for two in each). */
  held(): Usage {
    return { ...this.#held };
  }

  /**
   * Held bytes and messages of a set of domains, each message once however many of them it is held
   * for: the domains' sum, less each message held for k ≥ 2 of them k − 1 times.
   */
  heldFor(domains: readonly string[]): Usage {
    const set = new Set(domains.map((d) => d.toLowerCase()));
    const out: Usage = { bytes: 0, messages: 0 };
    for (const d of set) {
      const u = this.#usage.domain.get(d);
      if (u) { out.bytes += u.bytes; out.messages += u.messages; }
    }
    if (set.size < 2) return out;
    for (const [names, u] of this.#shared) {
      let k = 0;
      for (const d of names.split(',')) if (set.has(d)) k++;
      if (k >= 2) { out.bytes -= (k - 1) * u.bytes; out.messages -= (k - 1) * u.messages; }
    }
    return out;
  }

  /** Every mailbox or domain holding something, with its usage. */
  usages(level: UsageLevel): [string, Usage][] {
    return [...this.#usage[level]].map(([k, u]) => [k, { ...u }]);
  }

  #tally(r: QuarantineRecord, sign: 1 | -1): void {
    const tally = (usages: Map<string, Usage>, name: string) => {
      const u = usages.get(name) ?? { bytes: 0, messages: 0 };
      u.bytes += sign * r.size;
      u.messages += sign;
      if (u.messages <= 0) usages.delete(name);
      else usages.set(name, u);
    };
    const held = r.recipients.filter((c) => c.state === 'held');
    for (const c of held) tally(this.#usage.mailbox, c.address.toLowerCase());
    const domains = [...new Set(held.map((c) => c.domain.toLowerCase()).filter(Boolean))].sort();
    for (const d of domains) tally(this.#usage.domain, d);
    if (domains.length >= 2) tally(this.#shared, domains.join(','));
    if (held.length) { this.#held.bytes += sign * r.size; this.#held.messages += sign; }
  }

  /** Whether a quota warning is outstanding for this mailbox or domain. */
  async warned(level: UsageLevel, name: string): Promise<boolean> {
    return (await this.#db.get(`w!${level}!${name.toLowerCase()}`)) !== undefined;
  }

  async setWarned(level: UsageLevel, name: string, on: boolean): Promise<void> {
    const key = `w!${level}!${name.toLowerCase()}`;
    if (on) await this.#db.put(key, '1', { sync: true });
    else await this.#db.del(key);
  }

  /** Every mailbox and domain with an outstanding warning. */
  async *warnings(): AsyncGenerator<{ level: UsageLevel; name: string }> {
    for await (const key of this.#db.keys({ gte: 'w!', lt: 'w!~' })) {
      const [, level, ...name] = String(key).split('!');
      yield { level: level as UsageLevel, name: name.join('!') };
    }
  }

  /** Stores a message durably (file and record synced) and returns its record. */
  async put(input: NewQuarantineRecord, rawPath: string, now = Date.now()): Promise<QuarantineRecord> {
    let id = safeId(input.queueId);
    if (await this.get(id)) id = `${id}.${now.toString(36)}`;
    const blob = `${id}.eml`;
    await this.#storeBlob(rawPath, path.join(this.dir, blob));
    const record: QuarantineRecord = {
      ...input,
      id,
      quarantinedAt: now,
      blob,
      recipients: input.recipients.map((r) => ({ ...r, state: 'held' })),
    };
    const ops: { type: 'put'; key: string; value: QuarantineRecord | string }[] = [
      { type: 'put', key: `m!${id}`, value: record },
      ...this.#indexKeys(record).map((key) => ({ type: 'put' as const, key, value: id })),
    ];
    await this.#db.batch(ops, { sync: true });
    this.#tally(record, 1);
    return record;
  }

  async #storeBlob(from: string, to: string): Promise<void> {
    try {
      await link(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EEXIST') {
        throw new QuarantineError('quarantine.cannot-store', { dir: this.dir, detail: (err as Error).message });
      }
      if (code === 'EEXIST') await unlink(to);
      await copyFile(from, to, constants.COPYFILE_FICLONE);
      const fh = await open(to, 'r');
      try { await fh.sync(); } finally { await fh.close(); }
    }
    const dh = await open(this.dir, 'r');
    try { await dh.sync(); } finally { await dh.close(); }
  }

  #indexKeys(r: QuarantineRecord): string[] {
    const t = ts(r.quarantinedAt);
    const keys = [`t!${t}!${r.id}`, `s!${r.mailFrom.toLowerCase()}!${t}!${r.id}`, `c!${r.mainClass}!${t}!${r.id}`];
    for (const rc of r.recipients) keys.push(`r!${rc.address.toLowerCase()}!${t}!${r.id}`);
    for (const d of new Set(r.recipients.map((x) => x.domain.toLowerCase()).filter(Boolean))) keys.push(`d!${d}!${t}!${r.id}`);
    return keys;
  }

  async get(id: string): Promise<QuarantineRecord | undefined> {
    const v = await this.#db.get(`m!${safeId(id)}`);
    return isRecord(v) ? v : undefined;
  }

  async require(id: string): Promise<QuarantineRecord> {
    const r = await this.get(id);
    if (!r) throw new QuarantineError('quarantine.no-such-message', { id });
    return r;
  }

  blobPath(r: QuarantineRecord): string {
    return path.join(this.dir, r.blob);
  }

  readRaw(r: QuarantineRecord): Promise<Buffer> {
    return readFile(this.blobPath(r));
  }

  streamRaw(r: QuarantineRecord): Readable {
    return createReadStream(this.blobPath(r));
  }

  /**
   * Marks recipients' copies released or deleted. When no copy is held any more, the message,
   * its indexes and its file are removed. `copies` (a release) are the queued copies the released
   * recipients went into, each noted in the same write so that it can be undone while it waits.
   * Returns the updated record, or undefined once removed.
   */
  async settle(id: string, addresses: string[] | 'all', state: Exclude<RecipientState, 'held'>,
    copies: { copy: string; addresses: string[] }[] = []): Promise<QuarantineRecord | undefined> {
    const r = await this.require(id);
    const want = addresses === 'all' ? undefined : new Set(addresses.map((a) => a.toLowerCase()));
    const before = structuredClone(r);
    for (const rc of r.recipients) if (rc.state === 'held' && (!want || want.has(rc.address.toLowerCase()))) rc.state = state;
    const notes: Op[] = copies.map((c) => ({ type: 'put', key: `u!${c.copy}`, value: { copy: c.copy, addresses: c.addresses, record: before } }));
    const kept = r.recipients.some((rc) => rc.state === 'held');
    const ops: Op[] = [...notes, ...(kept ? [{ type: 'put' as const, key: `m!${r.id}`, value: r }] : this.#deleteOps(before))];
    await this.#db.batch(ops, { sync: true });
    for (const c of copies) this.#notes.set(c.copy, r.id);
    this.#tally(before, -1);
    if (kept) {
      this.#tally(r, 1);
      return r;
    }
    await this.#unlinkBlob(before);
    return undefined;
  }

  /** The release note of a queued copy, if it has one. */
  async releaseNote(copy: string): Promise<ReleaseNote | undefined> {
    if (!this.#notes.has(copy)) return undefined;
    const v = await this.#db.get(`u!${copy}`);
    return isNote(v) ? v : undefined;
  }

  /** The queued copies of message `id` that have a release note. */
  copiesOf(id: string): string[] {
    return [...this.#notes].filter(([, of]) => of === id).map(([copy]) => copy);
  }

  /** Forgets a copy's release note (the copy left the queue: delivered, bounced or deleted). */
  async forgetRelease(copy: string): Promise<void> {
    if (!this.#notes.delete(copy)) return;
    await this.#db.del(`u!${copy}`);
  }

  /** Forgets the notes of copies no longer queued (left while the daemon was down); returns how many. */
  async pruneReleases(queued: (copy: string) => boolean): Promise<number> {
    const gone = [...this.#notes.keys()].filter((copy) => !queued(copy));
    for (const copy of gone) await this.forgetRelease(copy);
    return gone.length;
  }

  /**
   * Undoes a release of `addresses` (some or all of a noted copy's): their copies are held again,
   * in the record as it was (same id, reasons, file). When the message had left the quarantine, its
   * file comes back from the queued copy at `copyPath` (the same bytes) and its record from the
   * note. Durable (file, directory and record synced) before it resolves: only then may the queue
   * drop its copy. Returns the record as it is now.
   */
  async restore(copy: string, addresses: string[], copyPath: string): Promise<QuarantineRecord> {
    const note = await this.releaseNote(copy);
    if (!note) throw new QuarantineError('quarantine.undo-gone', { id: copy });
    const back = new Set(addresses.map((a) => a.toLowerCase()));
    const current = await this.get(note.record.id);
    const record = structuredClone(current ?? note.record);
    for (const rc of record.recipients) {
      if (back.has(rc.address.toLowerCase())) rc.state = 'held';
      // Held in the note but gone with the record since: settled by someone after this release.
      else if (!current && rc.state === 'held') rc.state = 'released';
    }
    if (!current) await this.#storeBlob(copyPath, this.blobPath(record));
    const left = note.addresses.filter((a) => !back.has(a.toLowerCase()));
    const ops: Op[] = [
      left.length ? { type: 'put', key: `u!${copy}`, value: { ...note, addresses: left } } : { type: 'del', key: `u!${copy}` },
      { type: 'put', key: `m!${record.id}`, value: record },
      ...(current ? [] : this.#indexKeys(record).map((key): Op => ({ type: 'put', key, value: record.id }))),
    ];
    await this.#db.batch(ops, { sync: true });
    if (!left.length) this.#notes.delete(copy);
    if (current) this.#tally(current, -1);
    this.#tally(record, 1);
    return record;
  }

  /** Deletes the message, its indexes and its file. */
  async remove(r: QuarantineRecord): Promise<void> {
    const stored = await this.get(r.id);
    if (stored) this.#tally(stored, -1);
    await this.#delete(r);
  }

  async #delete(r: QuarantineRecord): Promise<void> {
    await this.#db.batch(this.#deleteOps(r), { sync: true });
    await this.#unlinkBlob(r);
  }

  #deleteOps(r: QuarantineRecord): Op[] {
    return [{ type: 'del', key: `m!${r.id}` }, ...this.#indexKeys(r).map((key): Op => ({ type: 'del', key }))];
  }

  async #unlinkBlob(r: QuarantineRecord): Promise<void> {
    await unlink(this.blobPath(r)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Bytes the quarantine's message files take on disk (for the disk watcher and SNMP). */
  async bytes(): Promise<number> {
    let total = 0;
    for (const name of await readdir(this.dir)) {
      total += await stat(path.join(this.dir, name)).then((s) => s.size, () => 0);
    }
    return total;
  }

  /** Messages matching the query, newest first, walking the most selective index. */
  async search(q: SearchQuery = {}): Promise<QuarantineRecord[]> {
    const limit = q.limit ?? 100;
    const out: QuarantineRecord[] = [];
    for await (const { record } of this.walk(q)) {
      if (!record) continue;
      out.push(record);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Every entry of the query's most selective index in its time range, newest first, with its
   * position (`<time>!<id>`, which sorts like the walk) so that a later walk can resume strictly
   * after it (`after`). `record` is undefined where the entry's message does not match the query
   * (or is gone), so a caller can bound its work by entries walked, not by matches found.
   */
  async *walk(q: SearchQuery, after?: string): AsyncGenerator<{ position: string; record: QuarantineRecord | undefined }> {
    const prefix = q.recipient ? `r!${q.recipient.toLowerCase()}!`
      : q.sender ? `s!${q.sender.toLowerCase()}!`
        : q.mainClass ? `c!${q.mainClass}!`
          : q.domain ? `d!${q.domain.toLowerCase()}!` : 't!';
    const gte = prefix + ts(q.since ?? 0);
    const top = prefix + ts(q.until ?? 9_999_999_999_999) + '~';
    const upper = after !== undefined && prefix + after < top ? { lt: prefix + after } : { lte: top };
    for await (const [key, id] of this.#db.iterator({ gte, ...upper, reverse: true })) {
      const r = await this.get(String(id));
      yield { position: key.slice(prefix.length), record: r && matches(r, q) ? r : undefined };
    }
  }

  /** Records quarantined before `before` (ms), oldest first. */
  async *olderThan(before: number): AsyncGenerator<QuarantineRecord> {
    for await (const id of this.#db.values({ gte: 't!', lt: `t!${ts(before)}` })) {
      const r = await this.get(String(id));
      if (r) yield r;
    }
  }

  /**
   * Message files with no record and older than `before` (left by a crash between storing the
   * file and writing its record), removed. Returns how many.
   */
  async removeOrphans(before: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.eml')) continue;
      if (await this.get(name.slice(0, -4))) continue;
      const file = path.join(this.dir, name);
      const st = await stat(file).catch(() => undefined);
      if (st && st.mtimeMs < before) {
        await unlink(file).catch(() => {});
        removed++;
      }
    }
    return removed;
  }
}
