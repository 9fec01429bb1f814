// The message log's search indexes and the search that walks them. Part of the message-log module:
// message-log.ts owns both sublevels and hands them here; nothing else reads these keys.
//
// Every searchable field of a record gives terms, and each term one index key
// `<field code><kind><term>\0<record id>`, so the keys of one term are in record-id order, which
// is time order: a search walks them newest first and stops after a page. Kinds:
//   '=' the whole value, normalised (NFKC, lower case) — exact search, and, for fields with few
//       distinct values (addresses, hosts, IPs, class, status), partial search too: the distinct
//       values are enumerated by skipping from one term to the next, and those containing the
//       query are merged;
//   '~' words of the free-text fields (subject, Message-ID, delivery reply), CJK runs as
//       character bigrams — partial search in text whose values are nearly all distinct.
// The terms partial search enumerates ('=' of the fields with few distinct values, every '~' word)
// are also listed once each under '#' (`#<field code><kind><term>`), the dictionary: read in
// order, it gives a field's distinct terms without stepping through their postings.
// Index keys only propose candidates: every candidate record is read and the whole query (scope,
// times, every field) is checked against it, so an index can be broader than the query but a
// result is never wrong. Several conditions combine by leapfrogging their streams (all) or
// merging them (any); a condition too broad to enumerate (a partial word matching more than
// BROAD_TERMS terms) walks the records themselves instead.
import type { MessageLogRecord } from './log-record.ts';

/** The fields a log search can name. `queueId` is our own id, the record's key. */
export const LOG_FIELDS = ['server', 'queueId', 'messageId', 'subject', 'sender', 'recipient', 'clientIp', 'clientHost',
  'deliveryStatus', 'destIp', 'destHost', 'destPort', 'class', 'status'] as const;
export type LogField = typeof LOG_FIELDS[number];

/** One-letter field codes in the keys (the store holds tens of keys per message). */
const CODE: Record<Exclude<LogField, 'queueId'> | 'domain', string> = {
  server: 'v', messageId: 'm', subject: 'j', sender: 's', recipient: 'r', clientIp: 'i', clientHost: 'h',
  deliveryStatus: 'y', destIp: 'p', destHost: 'o', destPort: 't', class: 'c', status: 'u', domain: 'd',
};
/** Fields whose values are nearly all distinct: partial search goes by words. */
const WORDED = new Set<LogField>(['subject', 'messageId', 'deliveryStatus']);
const WORDED_CODES = new Set([...WORDED].map((f) => CODE[f as Exclude<LogField, 'queueId'>]));
/** A partial condition matching more terms than this walks the records instead. */
const BROAD_TERMS = 256;
/** Longest term kept in a key; longer values are still checked in full on the record. */
const MAX_TERM = 200;

export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().trim().replaceAll('\0', '');
}

const CJK = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}ー々]/u;
const RUNS = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}ー々]+|[^\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}ー々]+/gu;

interface Piece { text: string; start: number; end: number; cjk: boolean }

/** Word pieces of normalised text: runs of letters or digits, split where CJK meets other script. */
function pieces(norm: string): Piece[] {
  const out: Piece[] = [];
  for (const m of norm.matchAll(/[\p{L}\p{N}ー々]+/gu)) {
    for (const r of m[0].matchAll(RUNS)) {
      const start = m.index + r.index;
      out.push({ text: r[0], start, end: start + r[0].length, cjk: CJK.test(r[0]) });
    }
  }
  return out;
}

/** The words a worded field's value is indexed by: whole non-CJK words, CJK bigrams (or the lone character). */
export function words(norm: string): string[] {
  const out = new Set<string>();
  for (const p of pieces(norm)) {
    if (!p.cjk) out.add(p.text.slice(0, 40));
    else if (p.text.length === 1) out.add(p.text);
    else for (let i = 0; i + 1 < p.text.length; i++) out.add(p.text.slice(i, i + 2));
    if (out.size >= 64) break;
  }
  return [...out];
}

/** `Name <a@b>` → a@b; a bare address stays as it is. */
function addressesIn(header: string): string[] {
  const bracketed = [...header.matchAll(/<([^<>\s]+@[^<>\s]+)>/g)].map((m) => m[1]);
  if (bracketed.length) return bracketed;
  return [...header.matchAll(/[^\s<>,;"]+@[^\s<>,;"]+/g)].map((m) => m[0]);
}

const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]+)$/i;

/** Each searchable field's values in a record (its `status` includes every recipient's). */
export function fieldValues(r: MessageLogRecord): Record<LogField, string[]> {
  const destIp: string[] = [];
  const destHost: string[] = [];
  for (const a of r.attempts) {
    const label = /^(.*) \[([^\]]+)\]$/.exec(a.host);
    if (label) { destHost.push(label[1]); destIp.push(label[2]); } else if (IP.test(a.host)) destIp.push(a.host);
    else if (a.host) destHost.push(a.host);
  }
  return {
    server: r.server ? [r.server] : [],
    queueId: [r.id],
    messageId: r.messageId ? [bare(r.messageId)] : [],
    subject: r.subject ? [r.subject] : [],
    sender: [r.mailFrom, ...(r.from ? addressesIn(r.from) : [])].filter(Boolean),
    recipient: r.recipients.flatMap((x) => (x.original === x.address ? [x.address] : [x.original, x.address])),
    clientIp: r.client ? [r.client.ip] : [],
    clientHost: r.client ? [r.client.hostname] : [],
    deliveryStatus: r.attempts.map((a) => a.reply).filter(Boolean),
    destIp, destHost,
    destPort: r.attempts.filter((a) => a.port).map((a) => String(a.port)),
    class: r.recipients.flatMap((x) => (x.mainClass ? [x.mainClass] : [])),
    status: [r.status, ...r.recipients.map((x) => x.status)],
  };
}

/** A Message-ID is searched without its angle brackets, as it is indexed. */
const bare = (id: string) => id.replace(/^\s*<|>\s*$/g, '');

/** A condition's text as its field's values are normalised. */
function wanted(c: LogCondition): string {
  return normalise(c.field === 'messageId' ? bare(c.value) : c.value);
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

/** The dictionary key of an index key whose term partial search enumerates; undefined for others. */
export function dictionaryKey(indexKey: string): string | undefined {
  const code = indexKey[0];
  const kind = indexKey[1];
  if (kind === '~' || (kind === '=' && code !== CODE.domain && !WORDED_CODES.has(code))) return `#${indexKey.slice(0, indexKey.indexOf('\0'))}`;
  return undefined;
}

/** Index keys with the dictionary keys they need: what the store holds for these keys' records. */
export function withDictionary(keys: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const key of keys) {
    out.add(key);
    const d = dictionaryKey(key);
    if (d) out.add(d);
  }
  return out;
}

/** The index key prefix of a dictionary key's postings. */
export function postingsPrefix(dictionaryKey: string): string {
  return `${dictionaryKey.slice(1)}\0`;
}

/** Every index key of a record. */
export function indexKeys(r: MessageLogRecord): Set<string> {
  const keys = new Set<string>();
  const values = fieldValues(r);
  for (const field of LOG_FIELDS) {
    if (field === 'queueId') continue;
    const code = CODE[field];
    for (const value of values[field]) {
      const norm = normalise(value);
      if (!norm) continue;
      keys.add(`${code}=${norm.slice(0, MAX_TERM)}\0${r.id}`);
      if (WORDED.has(field)) for (const w of words(norm)) keys.add(`${code}~${w}\0${r.id}`);
    }
  }
  // The domains a domain admin's scope is searched by: the sender's and every recipient's.
  for (const address of [...values.sender.slice(0, 1), ...values.recipient]) {
    if (address.includes('@')) keys.add(`${CODE.domain}=${normalise(domainOf(address))}\0${r.id}`);
  }
  return keys;
}

// ---- streams of record ids, newest first ----

/** Record ids in descending order; `seek(id)` makes the next ones ≤ id. */
interface IdStream {
  next(): Promise<string | undefined>;
  seek(id: string): void;
  close(): Promise<void>;
}

/** The records in key order with their values (the records sublevel's own iterator). */
export interface RecordSource {
  iterator(options: { gte?: string; lt?: string; reverse?: boolean }): {
    nextv(size: number): Promise<[string, MessageLogRecord][]>;
    close(): Promise<void>;
  };
}

/** The key iterator both sublevels offer (keys only, reversible, seekable). */
export interface KeySource {
  keys(options: { gte?: string; gt?: string; lt?: string; reverse?: boolean }): {
    next(): Promise<string | undefined>;
    nextv(size: number): Promise<string[]>;
    seek(target: string): void;
    close(): Promise<void>;
  };
}

/**
 * The ids under one key prefix (a term, or '' for the records themselves) within [lo, hi). Keys
 * are read in batches; a seek within the batch read is free, so a leapfrog between two streams of
 * similar density reads mostly in order instead of asking the store once per step.
 */
class PrefixStream implements IdStream {
  #it: ReturnType<KeySource['keys']>;
  #prefix: string;
  #buffer: string[] = [];
  #at = 0;
  #ended = false;
  constructor(source: KeySource, prefix: string, lo: string, hi: string) {
    this.#prefix = prefix;
    this.#it = source.keys({ gte: prefix + lo, lt: prefix + hi, reverse: true });
  }
  async next() {
    if (this.#at >= this.#buffer.length) {
      if (this.#ended) return undefined;
      this.#buffer = await this.#it.nextv(64);
      this.#at = 0;
      if (!this.#buffer.length) { this.#ended = true; return undefined; }
    }
    return this.#buffer[this.#at++].slice(this.#prefix.length);
  }
  seek(id: string) {
    const target = this.#prefix + id;
    while (this.#at < this.#buffer.length && this.#buffer[this.#at] > target) this.#at++;
    if (this.#at < this.#buffer.length) return;
    this.#it.seek(target);
    this.#buffer = [];
    this.#at = 0;
    this.#ended = false;
  }
  close() { return this.#it.close(); }
}

/** A fixed list of ids (a search by our own id). */
class ListStream implements IdStream {
  #ids: string[];
  #at = 0;
  constructor(ids: string[]) { this.#ids = [...ids].sort().reverse(); }
  async next() { return this.#ids[this.#at++]; }
  seek(id: string) { while (this.#at < this.#ids.length && this.#ids[this.#at] > id) this.#at++; }
  async close() {}
}

/** The ids of any of its streams, each once. */
class UnionStream implements IdStream {
  #streams: IdStream[];
  #heads: (string | undefined)[];
  #loaded: boolean[];
  constructor(streams: IdStream[]) {
    this.#streams = streams;
    this.#heads = streams.map(() => undefined);
    this.#loaded = streams.map(() => false);
  }
  async next() {
    await Promise.all(this.#streams.map(async (s, i) => {
      if (!this.#loaded[i]) { this.#heads[i] = await s.next(); this.#loaded[i] = true; }
    }));
    let top: string | undefined;
    for (const h of this.#heads) if (h !== undefined && (top === undefined || h > top)) top = h;
    if (top !== undefined) this.#heads.forEach((h, i) => { if (h === top) this.#loaded[i] = false; });
    return top;
  }
  seek(id: string) {
    this.#streams.forEach((s, i) => {
      const h = this.#heads[i];
      if (this.#loaded[i] && (h === undefined || h <= id)) return;
      s.seek(id);
      this.#loaded[i] = false;
    });
  }
  async close() { await Promise.all(this.#streams.map((s) => s.close())); }
}

/** The ids in every one of its streams (leapfrog: each stream seeks to the smallest candidate). */
class IntersectStream implements IdStream {
  #streams: IdStream[];
  constructor(streams: IdStream[]) { this.#streams = streams; }
  async next() {
    const n = this.#streams.length;
    let candidate = await this.#streams[0].next();
    let agree = 1;
    for (let i = 1; candidate !== undefined && agree < n; i++) {
      const s = this.#streams[i % n];
      s.seek(candidate);
      const v = await s.next();
      if (v === undefined) return undefined;
      if (v === candidate) agree++;
      else { candidate = v; agree = 1; }
    }
    return candidate;
  }
  seek(id: string) { for (const s of this.#streams) s.seek(id); }
  async close() { await Promise.all(this.#streams.map((s) => s.close())); }
}

// ---- the search ----

export interface LogCondition { field: LogField; value: string }

export interface LogSearchQuery {
  conditions: LogCondition[];
  match: 'all' | 'any';
  /** 'exact': the whole value (case-insensitive); 'contains': any part of it. */
  mode: 'exact' | 'contains';
  /** Received in [since, until) (ms). */
  since?: number;
  until?: number;
  /** A 2xx delivery attempt in [deliveredAfter, deliveredBefore). */
  deliveredAfter?: number;
  deliveredBefore?: number;
  /** Index terms narrowing the walk to the caller's scope; the record check decides. */
  scope?: { domains: string[] } | { address: string };
  /** Whether the caller may see this record at all. */
  visible: (r: MessageLogRecord) => boolean;
  /** Only records whose id sorts before this (the previous page's resume point). */
  before?: string;
  limit: number;
  /** Most candidate records one page reads before it stops and says where to resume. */
  scanCap: number;
}

export interface LogSearchPage {
  records: MessageLogRecord[];
  /** Where the next page starts; absent when nothing more can match. */
  resume?: string;
}

/** The id of a record received at `ms` sorts at or after this (ids begin with the spool time). */
export function idAt(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(36).padStart(9, '0');
}
/** A DATA transfer may end this long after the session's receivedAt, when the id is made. */
const ID_SLACK_MS = 3_600_000;
const TOP = '\u{10FFFF}';

export function matches(r: MessageLogRecord, q: Pick<LogSearchQuery, 'conditions' | 'match' | 'mode' | 'since' | 'until' | 'deliveredAfter' | 'deliveredBefore'>): boolean {
  if (q.since !== undefined && r.receivedAt < q.since) return false;
  if (q.until !== undefined && r.receivedAt >= q.until) return false;
  if (q.deliveredAfter !== undefined || q.deliveredBefore !== undefined) {
    const delivered = r.attempts.some((a) => a.code >= 200 && a.code < 300 &&
      (q.deliveredAfter === undefined || a.at >= q.deliveredAfter) && (q.deliveredBefore === undefined || a.at < q.deliveredBefore));
    if (!delivered) return false;
  }
  if (!q.conditions.length) return true;
  const values = fieldValues(r);
  const test = (c: LogCondition) => {
    const want = wanted(c);
    return values[c.field].some((v) => (q.mode === 'exact' ? normalise(v) === want : normalise(v).includes(want)));
  };
  return q.match === 'all' ? q.conditions.every(test) : q.conditions.some(test);
}

/**
 * Most records a walk reads per step: a page's worth (an export's 500 in one step rather than
 * eight, each a hop to LevelDB's thread), at least 64; a filtered walk reads at most one step past
 * what it needed.
 */
const WALK_BATCH = 512;

/** A walk through every record, newest first (no index narrows it): read with their values in one pass. */
class RecordWalk {
  readonly lo: string;
  readonly hi: string;
  constructor(lo: string, hi: string) { this.lo = lo; this.hi = hi; }
}

export class LogSearcher {
  #index: KeySource;
  #load: (ids: string[]) => Promise<(MessageLogRecord | undefined)[]>;
  #values: RecordSource;

  constructor(index: KeySource, load: (ids: string[]) => Promise<(MessageLogRecord | undefined)[]>, values: RecordSource) {
    this.#index = index;
    this.#load = load;
    this.#values = values;
  }

  /** One page, newest first. `indexed` false (indexes being rebuilt) walks the records only. */
  async search(q: LogSearchQuery, indexed: boolean): Promise<LogSearchPage> {
    const lo = q.since === undefined ? '' : idAt(q.since);
    let hi = q.until === undefined ? TOP : idAt(q.until + ID_SLACK_MS);
    if (q.before !== undefined && q.before < hi) hi = q.before;
    const plan = indexed ? await this.#plan(q, lo, hi) : new RecordWalk(lo, hi);
    if (plan instanceof RecordWalk) {
      // Keys and values in one ordered read: an export of everything reads each record once, in
      // order, instead of its key and then the record by a lookup.
      const it = this.#values.iterator({ gte: plan.lo, lt: plan.hi, reverse: true });
      try {
        return await this.#collect(async () => {
          const entries = await it.nextv(Math.min(WALK_BATCH, Math.max(64, q.limit + 1)));
          return { ids: entries.map((e) => e[0]), loaded: entries.map((e) => e[1]) };
        }, q);
      } finally {
        await it.close();
      }
    }
    try {
      return await this.#collect(async () => {
        const ids: string[] = [];
        while (ids.length < 64) {
          const id = await plan.next();
          if (id === undefined) break;
          ids.push(id);
        }
        return { ids, loaded: ids.length ? await this.#load(ids) : [] };
      }, q);
    } finally {
      await plan.close();
    }
  }

  async #collect(batch: () => Promise<{ ids: string[]; loaded: (MessageLogRecord | undefined)[] }>, q: LogSearchQuery): Promise<LogSearchPage> {
    const records: MessageLogRecord[] = [];
    let scanned = 0;
    let last: string | undefined;
    let full: string | undefined;
    for (;;) {
      const { ids, loaded } = await batch();
      if (!ids.length) return { records };
      for (let i = 0; i < ids.length; i++) {
        if (scanned++ === q.scanCap) return { records, resume: full ?? last };
        last = ids[i];
        const r = loaded[i];
        if (!r || !q.visible(r) || !matches(r, q)) continue;
        // A full page looks one match further, so that `resume` never leads to an empty page.
        if (full !== undefined) return { records, resume: full };
        records.push(r);
        if (records.length === q.limit) full = r.id;
      }
    }
  }

  /** The stream of candidates for a query: its conditions' streams, narrowed to the scope; or a walk of every record. */
  async #plan(q: LogSearchQuery, lo: string, hi: string): Promise<IdStream | RecordWalk> {
    const term = (code: string, kind: string, t: string) => new PrefixStream(this.#index, `${code}${kind}${t}\0`, lo, hi);
    const leaves: (IdStream | null)[] = [];
    for (const c of q.conditions) leaves.push(await this.#leaf(c, q.mode, term));
    const scope = !q.scope ? undefined : 'domains' in q.scope
      ? new UnionStream(q.scope.domains.map((d) => term(CODE.domain, '=', normalise(d))))
      : new UnionStream([term(CODE.sender, '=', normalise(q.scope.address)), term(CODE.recipient, '=', normalise(q.scope.address))]);
    const narrowing = leaves.filter((l): l is IdStream => l !== null);
    let conditions: IdStream | undefined;
    if (q.match === 'all') conditions = narrowing.length ? (narrowing.length === 1 ? narrowing[0] : new IntersectStream(narrowing)) : undefined;
    else if (narrowing.length === leaves.length && narrowing.length) conditions = narrowing.length === 1 ? narrowing[0] : new UnionStream(narrowing);
    else await Promise.all(narrowing.map((l) => l.close()));
    const parts = [conditions, scope].filter((s): s is IdStream => s !== undefined);
    if (!parts.length) return new RecordWalk(lo, hi);
    return parts.length === 1 ? parts[0] : new IntersectStream(parts);
  }

  /** One condition's candidate stream; null when it cannot narrow the walk (too broad). */
  async #leaf(c: LogCondition, mode: 'exact' | 'contains', term: (code: string, kind: string, t: string) => IdStream): Promise<IdStream | null> {
    const want = wanted(c);
    if (c.field === 'queueId') {
      if (mode === 'contains') return null;
      const [r] = await this.#load([c.value]);
      return new ListStream(r ? [r.id] : []);
    }
    const code = CODE[c.field];
    if (mode === 'exact') return term(code, '=', want.slice(0, MAX_TERM));
    if (!want) return null;
    if (!WORDED.has(c.field)) {
      const found = await this.#terms(`${code}=`, '', (t) => t.includes(want));
      return found && new UnionStream(found.map((t) => term(code, '=', t)));
    }
    // A word with something before and after it in the query is a whole word of the value; one at
    // an end may be cut there (a prefix or suffix of the value's word); CJK bigrams are always whole.
    const ps = pieces(want);
    const exact: string[] = [];
    const prefixes: string[] = [];
    const partial: { text: string; test: (w: string) => boolean }[] = [];
    for (const p of ps) {
      const left = p.start > 0;
      const right = p.end < want.length;
      if (p.cjk && p.text.length >= 2) exact.push(p.text.slice(0, 2));
      else if (left && right) exact.push(p.text);
      else if (left && !p.cjk) prefixes.push(p.text);
      else partial.push({ text: p.text, test: right ? (w) => w.endsWith(p.text) : (w) => w.includes(p.text) });
    }
    const longest = (list: string[]) => list.reduce((a, b) => (b.length > a.length ? b : a));
    if (exact.length) return term(code, '~', longest(exact));
    if (prefixes.length) {
      const p = longest(prefixes);
      const found = await this.#terms(`${code}~`, p, (t) => t.startsWith(p));
      if (found) return new UnionStream(found.map((t) => term(code, '~', t)));
    }
    if (!partial.length) return null;
    const best = partial.reduce((a, b) => (b.text.length > a.text.length ? b : a));
    const found = await this.#terms(`${code}~`, '', best.test);
    return found && new UnionStream(found.map((t) => term(code, '~', t)));
  }

  /**
   * The distinct terms under `kind` (e.g. 's=') starting with `start` that pass `test`, read from
   * the dictionary in order; null when more than BROAD_TERMS pass.
   */
  async #terms(kind: string, start: string, test: (t: string) => boolean): Promise<string[] | null> {
    const it = this.#index.keys({ gte: `#${kind}${start}`, lt: `#${kind}${start}${TOP}` });
    const found: string[] = [];
    try {
      for (;;) {
        const keys = await it.nextv(1000);
        if (!keys.length) return found;
        for (const key of keys) {
          const t = key.slice(kind.length + 1);
          if (!test(t)) continue;
          found.push(t);
          if (found.length > BROAD_TERMS) return null;
        }
      }
    } finally {
      await it.close();
    }
  }
}
