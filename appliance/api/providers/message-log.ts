// The console's message log search over the real MessageLog (newest first). A domain admin sees
// a message when one of its recipients, or its sender (outbound mail), is in their domains, and
// then only those recipients; the admin sees everything. Each record carries its delivery
// attempts with the remote servers' replies.
import type { MessageLog, MessageLogRecord } from '../../logsearch/message-log.ts';
import type { LogDetail, LogItem, MessageLogProvider, Scope } from './interfaces.ts';
import { addressInScope, msOf } from './scope.ts';

/** Most records one page reads before it stops and says where to resume. */
const SCAN_CAP = 20_000;

function visibleRecipients(r: MessageLogRecord, scope: Scope) {
  if ('all' in scope || (r.mailFrom && addressInScope(scope, r.mailFrom))) return r.recipients;
  return r.recipients.filter((x) => addressInScope(scope, x.address) || addressInScope(scope, x.original));
}

function item(r: MessageLogRecord, scope: Scope): LogItem {
  return {
    id: r.id,
    receivedAt: new Date(r.receivedAt).toISOString(),
    direction: r.direction,
    sender: r.mailFrom,
    recipients: visibleRecipients(r, scope).map((x) => ({ address: x.address, status: x.status, ...(x.mainClass ? { class: x.mainClass } : {}) })),
    subject: r.subject ?? '',
    status: r.status,
    size: r.size,
  };
}

const contains = (hay: string | undefined, needle: string | undefined) => !needle || (hay ?? '').toLowerCase().includes(needle.toLowerCase());

export function messageLogProvider(log: MessageLog, opts: { scanCap?: number } = {}): MessageLogProvider {
  const cap = opts.scanCap ?? SCAN_CAP;
  return {
    async search(q) {
      const since = msOf(q.from);
      const until = msOf(q.to);
      const items: LogItem[] = [];
      let last: string | undefined;
      let full: string | undefined;
      let scanned = 0;
      for await (const r of log.newest(q.after)) {
        if (scanned++ === cap) return { items, resume: full ?? last };
        last = r.id;
        if (until !== undefined && r.receivedAt >= until) continue;
        if (since !== undefined && r.receivedAt < since) break;
        // The scope is applied to every record here, whatever id the walk resumes from.
        const recipients = visibleRecipients(r, q.scope);
        if (!recipients.length) continue;
        if (!contains(r.mailFrom, q.sender) || !contains(r.subject, q.subject)) continue;
        if (q.recipient && !recipients.some((x) => contains(x.address, q.recipient) || contains(x.original, q.recipient))) continue;
        if (q.status && r.status !== q.status) continue;
        // A full page looks one match further, so that `resume` never leads to an empty page.
        if (full !== undefined) return { items, resume: full };
        items.push(item(r, q.scope));
        if (items.length === q.limit) full = r.id;
      }
      return { items };
    },

    async get(id, scope): Promise<LogDetail | undefined> {
      const r = await log.get(id).catch(() => undefined);
      if (!r || !visibleRecipients(r, scope).length) return undefined;
      const seen = new Set(visibleRecipients(r, scope).map((x) => x.address.toLowerCase()));
      const all = 'all' in scope;
      return {
        ...item(r, scope),
        ...(r.client ? { client: { ip: r.client.ip, hostname: r.client.hostname, helo: r.client.helo, tls: r.client.tls } } : {}),
        ...(r.messageId ? { messageId: r.messageId } : {}),
        ...(r.reply ? { reply: r.reply } : {}),
        attempts: r.attempts
          .filter((a) => all || a.recipients.some((x) => seen.has(x.toLowerCase())))
          .map((a) => ({ at: new Date(a.at).toISOString(), recipients: all ? a.recipients : a.recipients.filter((x) => seen.has(x.toLowerCase())), host: a.host, port: a.port, code: a.code, reply: a.reply })),
        ...(r.finishedAt ? { finishedAt: new Date(r.finishedAt).toISOString() } : {}),
      };
    },
  };
}
