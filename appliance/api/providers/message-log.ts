// The console's message log search over the real MessageLog (newest first, through its indexes).
// A domain admin sees a message when one of its recipients, or its sender (outbound mail), is in
// their domains, and then only those recipients; a mailbox user the mail to or from their own
// address; the admin everything. Each record carries its delivery attempts with the remote
// servers' replies.
import type { MessageLog, MessageLogRecord } from '../../logsearch/message-log.ts';
import { LOG_FIELDS, type LogCondition } from '../../logsearch/log-index.ts';
import type { LogDetail, LogItem, MessageLogProvider, Scope } from './interfaces.ts';
import { addressInScope } from './scope.ts';

/** Most records one page reads before it stops and says where to resume. */
const SCAN_CAP = 20_000;

function visibleRecipients(r: MessageLogRecord, scope: Scope) {
  if ('all' in scope || (r.mailFrom && addressInScope(scope, r.mailFrom))) return r.recipients;
  return r.recipients.filter((x) => addressInScope(scope, x.address) || addressInScope(scope, x.original));
}

function visibleAttempts(r: MessageLogRecord, scope: Scope) {
  if ('all' in scope) return r.attempts;
  const seen = new Set(visibleRecipients(r, scope).map((x) => x.address.toLowerCase()));
  return r.attempts
    .filter((a) => a.recipients.some((x) => seen.has(x.toLowerCase())))
    .map((a) => ({ ...a, recipients: a.recipients.filter((x) => seen.has(x.toLowerCase())) }));
}

function item(r: MessageLogRecord, scope: Scope): LogItem {
  const last = visibleAttempts(r, scope).at(-1);
  return {
    id: r.id,
    receivedAt: new Date(r.receivedAt).toISOString(),
    ...(r.server ? { server: r.server } : {}),
    direction: r.direction,
    sender: r.mailFrom,
    ...(r.from ? { from: r.from } : {}),
    recipients: visibleRecipients(r, scope).map((x) => ({
      address: x.address, ...(x.original !== x.address ? { original: x.original } : {}), status: x.status, ...(x.mainClass ? { class: x.mainClass } : {}),
      ...(x.tagged ? { tagged: true } : {}),
    })),
    subject: r.subject ?? '',
    ...(r.messageId ? { messageId: r.messageId } : {}),
    ...(r.client ? { clientIp: r.client.ip, clientHost: r.client.hostname } : {}),
    status: r.status,
    size: r.size,
    ...(r.reply ? { reply: r.reply } : {}),
    ...(last ? { delivery: { at: new Date(last.at).toISOString(), host: last.host, port: last.port, code: last.code, reply: last.reply } } : {}),
  };
}

export function messageLogProvider(log: MessageLog, opts: { scanCap?: number } = {}): MessageLogProvider {
  const scanCap = opts.scanCap ?? SCAN_CAP;
  return {
    async search(q) {
      const conditions: LogCondition[] = LOG_FIELDS.flatMap((field) => {
        const value = q.fields[field];
        return value === undefined || value.trim() === '' ? [] : [{ field, value }];
      });
      const visible = (r: MessageLogRecord) => visibleRecipients(r, q.scope).length > 0;
      const scope = 'all' in q.scope ? undefined : q.scope;
      // "Latest only" is the newest record the caller may see, as the hosted filter defines it.
      const page = q.latest
        ? await log.search({ conditions: [], match: 'all', mode: 'exact', scope, visible, limit: 1, scanCap })
        : await log.search({
          conditions, match: q.match, mode: q.mode, scope, visible, limit: q.limit, scanCap,
          since: q.from, until: q.to, deliveredAfter: q.deliveredAfter, deliveredBefore: q.deliveredBefore, before: q.after,
        });
      return { items: page.records.map((r) => item(r, q.scope)), ...(page.resume && !q.latest ? { resume: page.resume } : {}) };
    },

    async get(id, scope): Promise<LogDetail | undefined> {
      const r = await log.get(id).catch(() => undefined);
      if (!r || !visibleRecipients(r, scope).length) return undefined;
      return {
        ...item(r, scope),
        ...(r.client ? { client: { ip: r.client.ip, hostname: r.client.hostname, helo: r.client.helo, tls: r.client.tls } } : {}),
        attempts: visibleAttempts(r, scope).map((a) => ({ at: new Date(a.at).toISOString(), recipients: a.recipients, host: a.host, port: a.port, code: a.code, reply: a.reply })),
        ...(r.finishedAt ? { finishedAt: new Date(r.finishedAt).toISOString() } : {}),
      };
    },
  };
}
