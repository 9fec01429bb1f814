// The console's view of the quarantine: search, preview and actions over the real Quarantine and
// its actions, always within the caller's scope. A caller sees only the held copies addressed to
// their mailbox or domains, and every action touches only those copies — a mailbox user
// releasing a message shared with a colleague releases their own copy, not the colleague's.
import { simpleParser } from 'mailparser';
import type { MainClass } from '../../pipeline/context.ts';
import type { QuarantineActions } from '../../quarantine/actions.ts';
import type { Quarantine, QuarantineRecord, SearchQuery } from '../../quarantine/quarantine-store.ts';
import type { QuarantineDetail, QuarantineItem, QuarantineProvider, QuarantineQuery, Scope } from '../providers.ts';
import { addressInScope, msOf } from './scope.ts';

/** Most records one search walks; the console pages through fewer. */
const SEARCH_CAP = 5000;

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
    ...(r.score !== undefined ? { score: r.score } : {}),
    size: r.size,
    ...(r.virus ? { virus: r.virus } : {}),
  };
}

export function quarantineProvider(quarantine: Quarantine, actions: QuarantineActions): QuarantineProvider {
  async function find(q: QuarantineQuery): Promise<QuarantineRecord[]> {
    const base: SearchQuery = {
      sender: q.sender || undefined,
      mainClass: (q.class || undefined) as MainClass | undefined,
      since: msOf(q.from),
      until: q.to ? (msOf(q.to) ?? 0) - 1 : undefined,
      limit: SEARCH_CAP,
    };
    const scope = q.scope;
    let runs: SearchQuery[];
    if (q.recipient) runs = addressInScope(scope, q.recipient) ? [{ ...base, recipient: q.recipient }] : [];
    else if ('address' in scope) runs = [{ ...base, recipient: scope.address }];
    else if ('domains' in scope) runs = scope.domains.map((domain) => ({ ...base, domain }));
    else runs = [base];
    const seen = new Map<string, QuarantineRecord>();
    for (const run of runs) for (const r of await quarantine.search(run)) seen.set(r.id, r);
    const subject = q.subject?.toLowerCase();
    return [...seen.values()]
      .filter((r) => visibleCopies(r, scope).length > 0 && (!subject || r.subject.toLowerCase().includes(subject)))
      .sort((a, b) => b.quarantinedAt - a.quarantinedAt);
  }

  async function visible(id: string, scope: Scope): Promise<QuarantineRecord | undefined> {
    const r = await quarantine.get(id);
    return r && visibleCopies(r, scope).length ? r : undefined;
  }

  return {
    async search(q) {
      const all = await find(q);
      return { items: all.slice(q.offset, q.offset + q.limit).map((r) => item(r, q.scope)), total: all.length };
    },

    async count(scope) {
      return (await find({ scope, limit: 0, offset: 0 })).length;
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
        reasons: r.reasons.map((x) => ({ name: x.name, score: x.contribution, ...(x.detail ? { description: x.detail } : {}) })),
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
      switch (action) {
        case 'release': return { affected: await actions.release(id, which) };
        case 'release-train': return { affected: await actions.releaseAndTrain(id, which) };
        case 'allow-release': return { affected: await actions.allowSenderAndRelease(id, which) };
        case 'block-delete': return { affected: await actions.blockSenderAndDelete(id, which) };
        case 'delete': return { affected: await actions.delete(id, which) };
        case 'forward': {
          if (!opts.forwardTo) throw new Error('say where to forward the message (an address)');
          await actions.forward(id, opts.forwardTo);
          return { affected: [opts.forwardTo] };
        }
      }
    },
  };
}
