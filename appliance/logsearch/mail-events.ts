// Mail events for syslog: one line per event of a message's life, in the manner of Postfix
// ("<queue id>: <event>, key=value, ..., (remote reply)"), so `grep <queue id>` or
// `grep <Message-ID>` on a syslog server follows a message from its acceptance to its delivery.
// The lines go to the daemon's log (stdout → journal → rsyslog → remote syslog) with a syslog
// priority prefix that journald reads. The message log in the store stays the full record; these
// lines are its summary and must stay one line each whatever a sender or a remote server sent.
import type { MessageLogRecord } from './log-record.ts';

export type MessageEventKind = 'accepted' | 'rejected' | 'tempfailed' | 'quarantined' | 'deleted';
export type DeliveryEventKind = 'delivered' | 'deferred' | 'bounced';

export type MailEvent =
  /** The answer to DATA and what became of the copies at once. */
  | { kind: MessageEventKind; log: MessageLogRecord }
  /** One recipient's delivery attempt: `relay` is host[address]:port, absent when none answered. */
  | { kind: DeliveryEventKind; log: MessageLogRecord; recipient: string; relay?: string; reply: string };

export type MailEventSink = (event: MailEvent) => void;

// journald's priority prefix: info for the normal course, notice for refusals and holds, warning
// for a bounce (the sender is told the message was not delivered).
const PRIORITY: Record<MailEvent['kind'], number> = {
  accepted: 6, delivered: 6, deleted: 6, deferred: 5, quarantined: 5, rejected: 5, tempfailed: 5, bounced: 4,
};

/** Control characters and runs of white space (a folded header, a multi-line reply) become one space; long values are cut. */
function clean(value: string, max = 300): string {
  const flat = value.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

const addr = (a: string) => `<${clean(a, 320)}>`;

/** The syslog line of one event. */
export function formatMailEvent(e: MailEvent): string {
  const { log } = e;
  const fields: string[] = [];
  let reply: string | undefined;
  if (e.kind === 'delivered' || e.kind === 'deferred' || e.kind === 'bounced') {
    fields.push(`to=${addr(e.recipient)}`, `relay=${e.relay ? clean(e.relay) : 'none'}`);
    reply = e.reply;
  } else {
    const to = e.kind === 'quarantined' || e.kind === 'deleted'
      ? log.recipients.filter((r) => r.status === e.kind)
      : log.recipients;
    fields.push(`from=${addr(log.mailFrom)}`, `to=${to.map((r) => addr(r.address)).join(',')}`, `direction=${log.direction}`, `size=${log.size}`);
    if (log.client) fields.push(`client=${clean(log.client.hostname || 'unknown', 255)}[${clean(log.client.ip, 64)}]`);
    const classes = [...new Set(to.map((r) => r.mainClass).filter((c): c is string => !!c))];
    if (classes.length && e.kind !== 'accepted') fields.push(`class=${classes.map((c) => clean(c, 32)).join(',')}`);
    reply = log.reply;
  }
  fields.push(`message-id=${log.messageId ? clean(log.messageId, 250) : 'none'}`);
  return `<${PRIORITY[e.kind]}>mailmoat: ${log.id}: ${e.kind}, ${fields.join(', ')}${reply ? ` (${clean(reply)})` : ''}`;
}
