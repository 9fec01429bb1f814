// What an admin (or a recipient, for their own copies) can do with a quarantined message:
// release, release and train as ham, allow-list the sender (or the sender's whole domain) and
// release, report as spam (train as spam and delete), block-list the sender and delete, delete,
// and forward a copy to an address.
//
// Releasing hands the stored file to the normal delivery path through the injected `deliver`
// (the delivery queue): it must resolve only once the message is durably queued, because the
// quarantine deletes its file when no copy is held any more. The relayed copy keeps the header
// edits it would have had, plus an X-Mailmoat-Quarantine header saying it was released.
//
// A release can be undone while its copy waits in the queue (the downstream deferred it, or it is
// not due yet) and no attempt is in flight: the injected `recall` (the queue) holds the copy as an
// attempt does, the quarantine takes the copies back from the release's note (same id, reasons,
// file) durably, and only then does the queue record those recipients as back in quarantine. A
// crash in between leaves the message both held and queued (a possible duplicate), never lost.
// Once delivered, or while an attempt runs, the recall refuses and the undo says why.
import type { HeaderEdits } from '../message/message.ts';
import type { ListsStore } from '../lists/lists-store.ts';
import type { Label } from '../classifier/index.ts';
import { QuarantineError, type Quarantine, type QuarantineRecord } from './quarantine-store.ts';

export interface DeliveryRequest {
  mailFrom: string;
  recipients: string[];
  rawPath: string;
  headerEdits: HeaderEdits;
}
/** Queues a copy durably; returns its queue id when the queue gives one (a release can then be undone). */
export type Deliver = (req: DeliveryRequest) => Promise<string | void>;

/** How the queue's recall of a copy ended (the queue's own result type fits it). */
export type RecallResult = { kind: 'done'; recipients: string[] } | { kind: 'not-found' } | { kind: 'busy' } | { kind: 'null-sender' };
/**
 * Takes the picked pending recipients of queued copy `copy` back (`by`: who, for the log): holds the copy, calls `restore`
 * with its file's path and those recipients, and records them as back in quarantine only once
 * `restore` resolved.
 */
export type Recall = (copy: string, pick: (address: string) => boolean, by: string, restore: (copyPath: string, recipients: string[]) => Promise<void>) => Promise<RecallResult>;

export interface QuarantineActionsDeps {
  quarantine: Quarantine;
  deliver: Deliver;
  /** The queue's recall, for undoing a release (optional: undo then refuses). */
  recall?: Recall;
  lists: ListsStore;
  /** The classifier, taught by "release and train" (optional: the action then refuses). */
  scorer?: { train?(raw: Buffer, label: Label): Promise<unknown> };
  now?: () => number;
}

/** Which copies: every held copy, or only these recipients' (a user acting on their own mail). */
export type Recipients = string[] | 'all';

export interface QuarantineActions {
  release(id: string, recipients?: Recipients): Promise<string[]>;
  releaseAndTrain(id: string, recipients?: Recipients): Promise<string[]>;
  allowSenderAndRelease(id: string, recipients?: Recipients): Promise<string[]>;
  allowSenderDomainAndRelease(id: string, recipients?: Recipients): Promise<string[]>;
  reportSpam(id: string, recipients?: Recipients): Promise<string[]>;
  blockSenderAndDelete(id: string, recipients?: Recipients): Promise<string[]>;
  delete(id: string, recipients?: Recipients): Promise<string[]>;
  forward(id: string, to: string): Promise<void>;
  /**
   * Undoes the release that made queued copy `copy`, for the recipients `allowed` (the caller's
   * scope): they are held again. Returns the message's quarantine id and those recipients.
   */
  undoRelease(copy: string, by: string, allowed?: (address: string) => boolean): Promise<{ id: string; recipients: string[] }>;
}

function held(r: QuarantineRecord, which: Recipients) {
  const want = which === 'all' ? undefined : new Set(which.map((a) => a.toLowerCase()));
  const list = r.recipients.filter((x) => x.state === 'held' && (!want || want.has(x.address.toLowerCase())));
  if (!list.length) throw which === 'all' ? new QuarantineError('quarantine.no-copy-for-anyone', { id: r.id }) : new QuarantineError('quarantine.no-copy', { id: r.id, recipients: which.join(', ') });
  return list;
}

export function createQuarantineActions(deps: QuarantineActionsDeps): QuarantineActions {
  const { quarantine, deliver, lists } = deps;
  const now = deps.now ?? Date.now;
  const releasedHeader = (): [string, string] => ['X-Mailmoat-Quarantine', `released ${new Date(now()).toISOString()}`];

  async function release(id: string, which: Recipients = 'all'): Promise<string[]> {
    const r = await quarantine.require(id);
    const copies = held(r, which);
    // One delivery per distinct set of header edits (copies of one class share them).
    const groups = new Map<string, { edits: HeaderEdits; to: string[] }>();
    for (const c of copies) {
      const key = JSON.stringify(c.headerEdits);
      const g = groups.get(key) ?? { edits: c.headerEdits, to: [] };
      g.to.push(c.address);
      groups.set(key, g);
    }
    const done: string[] = [];
    const queued: { copy: string; addresses: string[] }[] = [];
    try {
      for (const g of groups.values()) {
        const copy = await deliver({ mailFrom: r.mailFrom, recipients: g.to, rawPath: quarantine.blobPath(r), headerEdits: { ...g.edits, prepend: [releasedHeader(), ...g.edits.prepend] } });
        done.push(...g.to);
        if (copy) queued.push({ copy, addresses: g.to });
      }
    } finally {
      if (done.length) await quarantine.settle(r.id, done, 'released', queued);
    }
    return done;
  }

  /** The sender list entries go to each recipient's own (address-scope) list, inbound or outbound. */
  async function listSender(r: QuarantineRecord, which: Recipients, kind: 'sender-allow' | 'sender-block', whole: 'address' | 'domain' = 'address') {
    if (!r.mailFrom) throw new QuarantineError('quarantine.null-sender', { id: r.id });
    const value = whole === 'domain' ? r.mailFrom.slice(r.mailFrom.lastIndexOf('@') + 1).toLowerCase() : r.mailFrom;
    for (const c of held(r, which)) {
      const owner = r.direction === 'inbound' ? c.address : r.mailFrom;
      const existing = lists.list({ direction: r.direction, kind, scope: 'address', owner });
      if (existing.some((e) => e.value === value.toLowerCase())) continue;
      await lists.add({ direction: r.direction, kind, scope: 'address', owner, value, note: `from quarantine ${r.id}` });
    }
  }

  return {
    release,

    async releaseAndTrain(id, which = 'all') {
      if (!deps.scorer?.train) throw new QuarantineError('quarantine.no-classifier');
      const r = await quarantine.require(id);
      held(r, which);
      await deps.scorer.train(await quarantine.readRaw(r), 'ham');
      return release(id, which);
    },

    async allowSenderAndRelease(id, which = 'all') {
      const r = await quarantine.require(id);
      await listSender(r, which, 'sender-allow');
      return release(id, which);
    },

    async allowSenderDomainAndRelease(id, which = 'all') {
      const r = await quarantine.require(id);
      await listSender(r, which, 'sender-allow', 'domain');
      return release(id, which);
    },

    async reportSpam(id, which = 'all') {
      if (!deps.scorer?.train) throw new QuarantineError('quarantine.no-classifier');
      const r = await quarantine.require(id);
      const copies = held(r, which).map((c) => c.address);
      await deps.scorer.train(await quarantine.readRaw(r), 'spam');
      await quarantine.settle(r.id, copies, 'deleted');
      return copies;
    },

    async blockSenderAndDelete(id, which = 'all') {
      const r = await quarantine.require(id);
      await listSender(r, which, 'sender-block');
      const copies = held(r, which).map((c) => c.address);
      await quarantine.settle(r.id, copies, 'deleted');
      return copies;
    },

    async delete(id, which = 'all') {
      const r = await quarantine.require(id);
      const copies = held(r, which).map((c) => c.address);
      await quarantine.settle(r.id, copies, 'deleted');
      return copies;
    },

    async forward(id, to) {
      if (!/^[^@\s]+@[^@\s]+$/.test(to)) throw new QuarantineError('quarantine.bad-forward-address', { to });
      const r = await quarantine.require(id);
      const first = r.recipients[0];
      await deliver({
        mailFrom: r.mailFrom,
        recipients: [to],
        rawPath: quarantine.blobPath(r),
        headerEdits: { prepend: [['X-Mailmoat-Quarantine', `forwarded ${new Date(now()).toISOString()} (held for ${r.recipients.map((x) => x.address).join(', ')})`], ...(first?.headerEdits.prepend ?? [])] },
      });
    },

    async undoRelease(copy, by, allowed = () => true) {
      const note = await quarantine.releaseNote(copy);
      if (!note || !deps.recall) throw new QuarantineError('quarantine.undo-gone', { id: copy });
      const mine = new Set(note.addresses.filter(allowed).map((a) => a.toLowerCase()));
      const result = await deps.recall(copy, (address) => mine.has(address.toLowerCase()), by, (copyPath, recipients) => quarantine.restore(copy, recipients, copyPath).then(() => {}));
      if (result.kind === 'busy') throw new QuarantineError('quarantine.undo-busy', { id: note.record.id });
      if (result.kind !== 'done') throw new QuarantineError('quarantine.undo-delivered', { id: note.record.id });
      return { id: note.record.id, recipients: result.recipients };
    },
  };
}
