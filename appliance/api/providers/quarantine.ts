// The console's view of the quarantine: search, preview and actions over the real Quarantine and
// its actions, always within the caller's scope. A caller sees only the held copies addressed to
// their mailbox or domains, and every action touches only those copies — a mailbox user
// releasing a message shared with a colleague releases their own copy, not the colleague's.
import { simpleParser } from 'mailparser';
import type { MainClass } from '../../message/message.ts';
import type { QuarantineActions } from '../../quarantine/actions.ts';
import type { Quarantine, QuarantineRecord, SearchQuery } from '../../quarantine/quarantine-store.ts';
import type { QuarantineDetail, QuarantineItem, QuarantineProvider, QuarantineQuery, Scope } from './interfaces.ts';
import { addressInScope, msOf } from './scope.ts';

/** Most index entries one page walks (and the dashboard's count counts up to). */
const SCAN_CAP = 5000;

function visibleCopies(r: QuarantineRecord, scope: Scope) {
  return r.recipients.filter((c) => c.state === 'held' && addressInScope(scope, c.address));
}

function item(r: QuarantineRecord, scope: Scope): QuarantineItem {
  return {
    id: r.id,
    receivedAt: new Date(r.receivedAt).toISOString(),
    sender: r.mailFrom,
    recipients: visibleCopies(r, scope).map((c) => c.address),
    subject: r.subject,
    class: r.mainClass,
    ...(r.score !== undefined ? { score: Math.round(r.score * 10) / 10 } : {}),
    size: r.size,
    ...(r.virus ? { virus: r.virus } : {}),
  };
}

interface Position { position: string; record: QuarantineRecord | undefined }
type Walk = AsyncIterator<Position>;

/**
 * One page of matches, newest first, over one index walk per run merged by position (a domain
 * admin's runs are one per domain; a message to two of their domains shows up in both walks at
 * the same position and is taken once). At most `cap` entries are walked: a page cut short by the
 * cap still says where to resume. `resume` is set only when more may match.
 */
async function page(quarantine: Quarantine, runs: SearchQuery[], keep: (r: QuarantineRecord) => boolean, limit: number, cap: number,
  after?: string): Promise<{ records: QuarantineRecord[]; resume?: string }> {
  const walks: Walk[] = runs.map((run) => quarantine.walk(run, after));
  const heads = await Promise.all(walks.map((w) => w.next()));
  const records: QuarantineRecord[] = [];
  let last: string | undefined;
  let full: string | undefined;
  let walked = 0;
  try {
    for (;;) {
      let i = -1;
      for (let j = 0; j < heads.length; j++) {
        const h = heads[j];
        if (!h.done && (i < 0 || h.value.position > (heads[i].value as Position).position)) i = j;
      }
      if (i < 0) return { records };
      if (walked++ === cap) return { records, resume: full ?? last };
      const { position, record } = heads[i].value as Position;
      heads[i] = await walks[i].next();
      if (position === last) continue;
      last = position;
      if (!record || !keep(record)) continue;
      // A full page looks one match further, so that `resume` never leads to an empty page.
      if (full !== undefined) return { records, resume: full };
      records.push(record);
      if (records.length === limit) full = position;
    }
  } finally {
    await Promise.all(walks.map((w) => w.return?.()));
  }
}

export function quarantineProvider(quarantine: Quarantine, actions: QuarantineActions, opts: { scanCap?: number } = {}): QuarantineProvider {
  const cap = opts.scanCap ?? SCAN_CAP;

  function find(q: Omit<QuarantineQuery, 'limit'>, limit: number) {
    const base: SearchQuery = {
      sender: q.sender || undefined,
      mainClass: (q.class || undefined) as MainClass | undefined,
      since: msOf(q.from),
      until: q.to ? (msOf(q.to) ?? 0) - 1 : undefined,
    };
    const scope = q.scope;
    let runs: SearchQuery[];
    if (q.recipient) runs = addressInScope(scope, q.recipient) ? [{ ...base, recipient: q.recipient }] : [];
    else if ('address' in scope) runs = [{ ...base, recipient: scope.address }];
    else if ('domains' in scope) runs = scope.domains.map((domain) => ({ ...base, domain }));
    else runs = [base];
    const subject = q.subject?.toLowerCase();
    // The scope is applied to every record here, whatever position the walk resumes from.
    const keep = (r: QuarantineRecord) => visibleCopies(r, scope).length > 0 && (!subject || r.subject.toLowerCase().includes(subject));
    return page(quarantine, runs, keep, limit, cap, q.after);
  }

  async function visible(id: string, scope: Scope): Promise<QuarantineRecord | undefined> {
    const r = await quarantine.get(id);
    return r && visibleCopies(r, scope).length ? r : undefined;
  }

  return {
    async search(q) {
      const found = await find(q, q.limit);
      return { items: found.records.map((r) => item(r, q.scope)), ...(found.resume ? { resume: found.resume } : {}) };
    },

    async count(scope) {
      return (await find({ scope }, cap)).records.length;
    },

    async get(id, scope): Promise<QuarantineDetail | undefined> {
      const r = await visible(id, scope);
      if (!r) return undefined;
      const parsed = await simpleParser(await quarantine.readRaw(r), { skipImageLinks: true });
      const headers = parsed.headerLines.map((h) => {
        const colon = h.line.indexOf(':');
        return { name: h.line.slice(0, colon), value: h.line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
      });
      return {
        ...item(r, scope),
        fromHeader: r.fromHeader,
        reasons: r.reasons.map((x) => ({ name: x.name, score: Math.round(x.contribution * 10) / 10, ...(x.detail ? { description: x.detail } : {}), ...(x.params ? { params: x.params } : {}) })),
        why: [...new Set(visibleCopies(r, scope).flatMap((c) => c.why))],
        headers,
        ...(parsed.text ? { text: parsed.text } : {}),
        ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
        attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType, size: a.size })),
      };
    },

    async act(id, action, opts) {
      const r = await visible(id, opts.scope);
      if (!r) return undefined;
      const which = 'all' in opts.scope ? 'all' : visibleCopies(r, opts.scope).map((c) => c.address);
      // A release says which queued copies it made, so that the console can offer to undo it.
      const released = async (affected: string[]) => {
        const undo = [];
        for (const copy of quarantine.copiesOf(id)) {
          const note = await quarantine.releaseNote(copy);
          if (note?.addresses.some((a) => affected.includes(a))) undo.push(copy);
        }
        return { affected, ...(undo.length ? { undo } : {}) };
      };
      switch (action) {
        case 'release': return released(await actions.release(id, which));
        case 'release-train': return released(await actions.releaseAndTrain(id, which));
        case 'allow-release': return released(await actions.allowSenderAndRelease(id, which));
        case 'allow-domain-release': return released(await actions.allowSenderDomainAndRelease(id, which));
        case 'report-spam': return { affected: await actions.reportSpam(id, which) };
        case 'block-delete': return { affected: await actions.blockSenderAndDelete(id, which) };
        case 'delete': return { affected: await actions.delete(id, which) };
        case 'forward': {
          if (!opts.forwardTo) throw new Error('say where to forward the message (an address)');
          await actions.forward(id, opts.forwardTo);
          return { affected: [opts.forwardTo] };
        }
      }
    },

    async undo(copy, { scope, by }) {
      const note = await quarantine.releaseNote(copy);
      if (!note || !note.addresses.some((a) => addressInScope(scope, a))) return undefined;
      const { id, recipients } = await actions.undoRelease(copy, by, (a) => addressInScope(scope, a));
      return { id, affected: recipients };
    },
  };
}
