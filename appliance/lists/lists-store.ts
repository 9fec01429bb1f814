// The allow/block/condition lists, stored in the 'lists' sublevel (this module owns its keys).
// A folder of its own, below its three users: the pipeline's lists stage matches them
// (pipeline/lists.ts), the quarantine's actions add to them (allow-list + release, block-list +
// delete) and the console edits, imports and exports them (list-files.ts is the file format).
//
// A list is (direction, kind); each list is kept per scope: one mailbox ("address", owner = the
// address), a whole served domain ("domain", owner = the domain name) or every domain of the
// appliance ("appliance", owner = APPLIANCE_OWNER, set by the appliance admin only). Inbound lists
// are owned by the recipient's domain or address; outbound lists by the sender's (our user's)
// domain or address. A list holds at most 300 entries per scope — the 301st is refused with an
// error saying so.
//
// Kinds:
//   sender-allow / sender-block     match the envelope sender (address or domain)
//   recipient-allow                 the recipient bypasses filtering (match: recipient address or domain)
//   recipient-block                 all mail for the recipient is refused at RCPT
//   sender-lock / recipient-lock    the sender / recipient is locked by an admin: every message is
//                                   held in the quarantine with class Locked (allow lists do not free it)
//   condition-block / -allow / -quarantine
//                                   match a condition: envelope-from or From-header address/domain,
//                                   the subject or any named header (exact or partial); block deletes
//                                   silently, allow accepts, quarantine always quarantines
//
// Keys: e!<direction>!<kind>!<scope>!<owner>!<id> → ListEntry. All entries are also held in memory
// (at most a few hundred per scope), so matching a message costs no database reads; this module is
// the only writer, so memory and disk stay in step.
import { CONDITION_HEADER, SIMPLE_HEADER, parseListFile, toCsv } from './list-files.ts';
import { randomBytes } from 'node:crypto';
import type { MailDirection } from '../config/schema.ts';
import type { Store, Sublevel } from '../store/store.ts';
import { LocalizedError, type LocalText } from '../i18n/server-messages.ts';

export const MAX_ENTRIES_PER_LIST = 300;

export const LIST_KINDS = ['sender-allow', 'sender-block', 'recipient-allow', 'recipient-block', 'condition-block', 'condition-allow', 'condition-quarantine', 'sender-lock', 'recipient-lock'] as const;
export type ListKind = (typeof LIST_KINDS)[number];
export const LIST_SCOPES = ['address', 'domain', 'appliance'] as const;
export type ListScope = (typeof LIST_SCOPES)[number];
/** The owner of appliance-wide lists: no domain or address, so it never collides with one. */
export const APPLIANCE_OWNER = '*';
export const CONDITION_FIELDS = ['envelope-from', 'from-header', 'subject', 'header'] as const;
export type ConditionField = (typeof CONDITION_FIELDS)[number];
export type MatchMode = 'exact' | 'partial';

/** Which list, and whose. */
export interface ListRef {
  direction: MailDirection;
  kind: ListKind;
  scope: ListScope;
  owner: string;
}

export interface ListEntryInput extends ListRef {
  /** An address or a domain (sender/recipient kinds and address conditions), or the text to match. */
  value: string;
  /** Condition kinds only. */
  field?: ConditionField;
  /** Condition on a named header: the header's name. */
  header?: string;
  /** Subject and header conditions: exact (whole value) or partial (contains). */
  mode?: MatchMode;
  note?: string;
}

export interface ListEntry extends ListEntryInput {
  id: string;
  createdAt: number;
}

/** A refusal saying what to fix; its `text` lets the console show it in the admin's language. */
export class ListError extends LocalizedError {
  override name = 'ListError';
}

export const isConditionKind = (k: ListKind) => k.startsWith('condition-');

const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Lower-cases an address or a domain ("@example.com" is taken as the domain). */
export function normalizeAddressOrDomain(value: string): string {
  return value.trim().toLowerCase().replace(/^@/, '').replace(/^<|>$/g, '');
}

/** Text comparison for subject/header conditions: NFKC (full- and half-width forms alike), case-insensitive. */
export function normalizeText(value: string): string {
  return value.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

const refKey = (r: ListRef) => `${r.direction}!${r.kind}!${r.scope}!${r.owner}`;

/** Checks and normalises an entry; throws ListError saying what to fix. */
export function checkEntry(input: ListEntryInput): ListEntryInput {
  if (input.direction !== 'inbound' && input.direction !== 'outbound') throw new ListError('list.bad-direction', { value: String(input.direction) });
  if (!LIST_KINDS.includes(input.kind)) throw new ListError('list.bad-kind', { value: String(input.kind), kinds: LIST_KINDS.join(', ') });
  if (!LIST_SCOPES.includes(input.scope)) throw new ListError('list.bad-scope', { value: String(input.scope) });
  // Whatever owner an appliance-wide entry names, it belongs to the appliance.
  const owner = input.scope === 'appliance' ? APPLIANCE_OWNER : normalizeAddressOrDomain(input.owner ?? '');
  if (input.scope !== 'appliance' && (input.scope === 'domain' ? !DOMAIN.test(owner) : !ADDRESS.test(owner))) {
    throw new ListError(input.scope === 'domain' ? 'list.owner-not-domain' : 'list.owner-not-address', { owner: String(input.owner) });
  }
  const out: ListEntryInput = { direction: input.direction, kind: input.kind, scope: input.scope, owner, value: '' };
  if (input.note) out.note = String(input.note).slice(0, 200);
  const raw = String(input.value ?? '').trim();
  if (!raw) throw new ListError('list.empty');
  if (!isConditionKind(input.kind)) {
    if (input.field || input.header || input.mode) throw new ListError('list.condition-options', { kind: input.kind });
    out.value = checkAddressOrDomain(raw);
    return out;
  }
  if (!input.field || !CONDITION_FIELDS.includes(input.field)) throw new ListError('list.needs-field', { fields: CONDITION_FIELDS.join(', ') });
  out.field = input.field;
  if (input.field === 'envelope-from' || input.field === 'from-header') {
    if (input.mode || input.header) throw new ListError('list.address-condition-options', { field: input.field });
    out.value = checkAddressOrDomain(raw);
    return out;
  }
  const mode = input.mode ?? 'partial';
  if (mode !== 'exact' && mode !== 'partial') throw new ListError('list.bad-mode', { value: String(input.mode) });
  out.mode = mode;
  if (input.field === 'header') {
    const name = String(input.header ?? '').trim();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw new ListError('list.needs-header');
    out.header = name.toLowerCase();
  } else if (input.header) {
    throw new ListError('list.header-only');
  }
  out.value = raw.slice(0, 998);
  return out;
}

function checkAddressOrDomain(raw: string): string {
  const v = normalizeAddressOrDomain(raw);
  if (v.includes('@') ? !ADDRESS.test(v) : !DOMAIN.test(v)) {
    throw new ListError('list.not-address-or-domain', { value: raw });
  }
  return v;
}

const sameMatch = (a: ListEntryInput, b: ListEntryInput) =>
  a.value.toLowerCase() === b.value.toLowerCase() && a.field === b.field && a.header === b.header && a.mode === b.mode;

export interface ImportResult {
  added: number;
  /** Lines not taken, with the reason (duplicates included): in English, and as a text to translate. */
  skipped: { line: number; text: string; error: string; reason?: LocalText }[];
}

export class ListsStore {
  #db: Sublevel<ListEntry>;
  #lists = new Map<string, ListEntry[]>();
  #byId = new Map<string, ListEntry>();
  /** Condition entries per header name they match on. */
  #headerUse = new Map<string, number>();

  private constructor(db: Sublevel<ListEntry>) {
    this.#db = db;
  }

  static async open(store: Store): Promise<ListsStore> {
    const ls = new ListsStore(store.sublevel<ListEntry>('lists'));
    for await (const entry of ls.#db.values({ gte: 'e!', lt: 'e"' })) ls.#remember(entry);
    return ls;
  }

  #remember(e: ListEntry) {
    const k = refKey(e);
    const arr = this.#lists.get(k) ?? [];
    arr.push(e);
    this.#lists.set(k, arr);
    this.#byId.set(e.id, e);
    if (e.header) this.#headerUse.set(e.header, (this.#headerUse.get(e.header) ?? 0) + 1);
  }

  /** The header names condition entries match on: the only header values the pipeline extracts. */
  conditionHeaders(): string[] {
    return [...this.#headerUse.keys()];
  }

  #prepare(input: ListEntryInput, pending: ListEntryInput[] = []): ListEntry {
    const e = checkEntry(input);
    const existing = [...(this.#lists.get(refKey(e)) ?? []), ...pending.filter((p) => refKey(p) === refKey(e))];
    if (existing.some((x) => sameMatch(x, e))) throw new ListError('list.duplicate', { value: e.value });
    if (existing.length >= MAX_ENTRIES_PER_LIST) {
      throw new ListError('list.full', { direction: e.direction, kind: e.kind, owner: e.owner, max: MAX_ENTRIES_PER_LIST });
    }
    return { ...e, id: Date.now().toString(36) + randomBytes(5).toString('hex'), createdAt: Date.now() };
  }

  /** Adds one entry. Throws ListError (invalid, duplicate, or the list is full). */
  async add(input: ListEntryInput): Promise<ListEntry> {
    const entry = this.#prepare(input);
    await this.#db.put(`e!${refKey(entry)}!${entry.id}`, entry, { sync: true });
    this.#remember(entry);
    return entry;
  }

  /** Removes an entry by id; false when there was none. */
  async remove(id: string): Promise<boolean> {
    const e = this.#byId.get(id);
    if (!e) return false;
    await this.#db.del(`e!${refKey(e)}!${e.id}`, { sync: true });
    this.#byId.delete(id);
    if (e.header) {
      const n = (this.#headerUse.get(e.header) ?? 1) - 1;
      if (n > 0) this.#headerUse.set(e.header, n);
      else this.#headerUse.delete(e.header);
    }
    const arr = (this.#lists.get(refKey(e)) ?? []).filter((x) => x.id !== id);
    if (arr.length) this.#lists.set(refKey(e), arr);
    else this.#lists.delete(refKey(e));
    return true;
  }

  /** The entries of one list and scope, oldest first. */
  list(ref: ListRef): ListEntry[] {
    const owner = ref.scope === 'appliance' ? APPLIANCE_OWNER : normalizeAddressOrDomain(ref.owner);
    return [...(this.#lists.get(refKey({ ...ref, owner })) ?? [])];
  }

  /** Entries whose value, owner or note contains `text`, optionally narrowed by direction/kind/scope/owner. */
  search(q: { text?: string; direction?: MailDirection; kind?: ListKind; scope?: ListScope; owner?: string }): ListEntry[] {
    const text = q.text ? normalizeText(q.text) : '';
    const owner = q.owner ? normalizeAddressOrDomain(q.owner) : undefined;
    const out: ListEntry[] = [];
    for (const e of this.#byId.values()) {
      if (q.direction && e.direction !== q.direction) continue;
      if (q.kind && e.kind !== q.kind) continue;
      if (q.scope && e.scope !== q.scope) continue;
      if (owner && e.owner !== owner) continue;
      if (text && ![e.value, e.owner, e.note ?? '', e.header ?? ''].some((s) => normalizeText(s).includes(text))) continue;
      out.push(e);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The list as a CSV file with a header row (see list-files.ts). */
  export(ref: ListRef): string {
    const condition = isConditionKind(ref.kind);
    return toCsv(condition ? CONDITION_HEADER : SIMPLE_HEADER, this.list(ref).map((e) => (condition
      ? [e.field ?? '', e.value, e.mode ?? '', e.header ?? '', e.note ?? '']
      : [e.value, e.note ?? ''])));
  }

  /**
   * Imports a CSV (or TSV) list file into one list (blank lines and "#" comments ignored).
   * Good lines are added in one batch; bad or duplicate lines are reported, not added. Lines past
   * the 300-entry limit are reported as such.
   */
  async import(ref: ListRef, text: string): Promise<ImportResult> {
    const skipped: ImportResult['skipped'] = [];
    const pending: ListEntry[] = [];
    for (const { line: lineNo, fields: f, raw, error } of parseListFile(text, isConditionKind(ref.kind) ? CONDITION_HEADER : SIMPLE_HEADER)) {
      if (error) {
        const err = new ListError('list.unreadable-line', { detail: error });
        skipped.push({ line: lineNo, text: raw, error: err.message, reason: err.text });
        continue;
      }
      const input: ListEntryInput = isConditionKind(ref.kind)
        ? { ...ref, field: f[0] as ConditionField, value: f[1] ?? '', mode: (f[2] || undefined) as MatchMode | undefined, header: f[3] || undefined, note: f[4] || undefined }
        : { ...ref, value: f[0], note: f[1] || undefined };
      if (isConditionKind(ref.kind) && (input.field === 'envelope-from' || input.field === 'from-header')) delete input.mode;
      try {
        pending.push(this.#prepare(input, pending));
      } catch (err) {
        skipped.push({ line: lineNo, text: raw, error: (err as Error).message, ...(err instanceof ListError ? { reason: err.text } : {}) });
      }
    }
    if (pending.length) {
      await this.#db.batch(pending.map((e) => ({ type: 'put' as const, key: `e!${refKey(e)}!${e.id}`, value: e })), { sync: true });
      for (const e of pending) this.#remember(e);
    }
    return { added: pending.length, skipped };
  }
}
