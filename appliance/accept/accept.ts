// Accepting one message for its recipients: the mail path behind the SMTP session's DATA. The
// listeners (appliance/smtp/) translate SMTP into one call here and its reply back into SMTP; this
// module runs the rest in one place:
//   spool (streamed to a synced file) → filter (the pipeline; quarantined copies are already stored
//   when it returns) → refusal: logged, counted, the file removed → otherwise each recipient's
//   verdict becomes its queue state (deliver → pending, quarantine → quarantined, delete → deleted)
//   and the queue record, with its expiry, and the message-log record are written in one synced
//   batch before the 250 goes out.
// The answer is always an SMTP reply (code and text); anything thrown is a local failure the
// session answers with 451.
// Refusals at RCPT (unknown user, blocked recipient, relay denied) never reach DATA: the session
// reports them to `createRcptRefusalLog`'s function, which logs them with status "rejected at
// RCPT" and the reply where the recipient's domain asks for it (`logInvalidRecipients`; relay
// refusals by `log.relayDenied`). Greylisting (status "tempfailed", class Greylist) and DNS-list
// refusals (class Blacklisted) are always logged, with what the session found. Every RCPT refusal
// and every 552 for size is counted in the statistics, logged or not.
import type { Readable } from 'node:stream';
import type { Config, MailDirection } from '../config/schema.ts';
import { servedDomain } from '../config/served-domains.ts';
import type { DeliveryQueue } from '../delivery/queue.ts';
import type { QueueRecord, QueuedRecipient } from '../delivery/queue-record.ts';
import type { MailEventSink } from '../logsearch/mail-events.ts';
import { MessageLog, overallStatus, type MessageLogRecord } from '../logsearch/message-log.ts';
import type { Spool } from '../spool/spool.ts';
import type { Stats } from '../stats/counters.ts';
import type { MainClass } from '../message/message.ts';
import type { ConnectionFindings } from '../pipeline/message-context.ts';
import type { FilterOutcome, MessageFilter } from './message-filter.ts';

export interface AcceptDeps {
  config: () => Config;
  spool: Spool;
  filter: MessageFilter;
  queue: DeliveryQueue;
  log: MessageLog;
  stats?: Stats;
  /** One syslog line per event of the message's life (appliance/logsearch/mail-events.ts). */
  events?: MailEventSink;
}

/** A message as the SMTP session hands it over. */
export interface IncomingMessage {
  /** The DATA stream; always read to its end, so the session can answer even a refusal. */
  data: Readable;
  /** Our Received header, written first into the spool file. */
  trace: string;
  direction: MailDirection;
  /** ms since the epoch. */
  receivedAt: number;
  client: { ip: string; hostname: string; helo: string; authUser?: string; tls: boolean };
  /** '' is the null sender. */
  mailFrom: string;
  /** `address` after alias mapping; `domain` is the served domain name ('' for outbound). */
  recipients: { address: string; original: string; domain: string }[];
  /** The session's connection-time findings (DNS lists, HELO/reverse DNS), for the score. */
  connection?: ConnectionFindings;
}

/** The SMTP reply to the final dot: 250 once durably queued, else the refusal's code. */
export interface AcceptReply {
  code: number;
  message: string;
}

export type Accept = (message: IncomingMessage) => Promise<AcceptReply>;

export function createAccept(deps: AcceptDeps): Accept {
  return async (m) => {
    const cfg = deps.config();
    const spooled = await deps.spool.receive(m.data, m.trace, { maxBytes: cfg.limits.maxMessageBytes, maxHeaderBytes: cfg.limits.maxHeaderBytes });
    if (!spooled.ok) {
      deps.stats?.refusedOversize(countedDomains(m), m.receivedAt);
      return spooled.reason === 'too-large'
        ? { code: 552, message: `5.3.4 Message too big: the limit is ${cfg.limits.maxMessageBytes} bytes` }
        : { code: 552, message: `5.3.4 Header section too large: the limit is ${cfg.limits.maxHeaderBytes} bytes` };
    }
    const { direction, receivedAt, client, mailFrom } = m;
    const log: MessageLogRecord = {
      id: spooled.id, receivedAt, server: cfg.hostname, direction, client, mailFrom, size: spooled.size, attempts: [], status: 'queued',
      recipients: m.recipients.map((r) => ({ address: r.address, original: r.original, status: 'pending' })),
      ...spooled.headers,
    };
    let outcome: FilterOutcome;
    try {
      outcome = await deps.filter({
        id: spooled.id, direction, receivedAt, spoolPath: spooled.path, raw: spooled.data, size: spooled.size, client, mailFrom, recipients: m.recipients,
        ...(m.connection ? { connection: m.connection } : {}),
      });
    } catch (err) {
      await deps.spool.remove(spooled.file);
      throw err;
    }
    log.findings = outcome.findings;
    const verdicts = new Map(outcome.recipients.map((r) => [r.address, r]));
    for (const lr of log.recipients) {
      const v = verdicts.get(lr.address);
      if (v?.mainClass) lr.mainClass = v.mainClass;
    }
    if (outcome.reply.code >= 400) {
      await deps.spool.remove(spooled.file);
      log.reply = `${outcome.reply.code} ${outcome.reply.message}`;
      // A copy held while quarantineResponse is "reject" is quarantined, whatever the sender was told.
      for (const r of log.recipients) r.status = outcome.reply.code >= 500 && verdicts.get(r.address)?.disposition === 'quarantine' ? 'quarantined' : 'rejected';
      log.status = outcome.reply.code >= 500 ? overallStatus(log.recipients) : 'tempfailed';
      log.finishedAt = Date.now();
      await deps.log.put(log);
      if (outcome.reply.code >= 500) deps.stats?.answered(log);
      // Too large to be scanned (filtering.oversize.action "reject"): a size refusal too.
      if (outcome.reply.code === 552) deps.stats?.refusedOversize(countedDomains(m), receivedAt);
      deps.events?.({ kind: log.status === 'tempfailed' ? 'tempfailed' : log.status === 'rejected' ? 'rejected' : 'quarantined', log });
      return outcome.reply;
    }
    const recipients: QueuedRecipient[] = m.recipients.map((r) => {
      const v = verdicts.get(r.address);
      const status = v?.disposition === 'quarantine' ? 'quarantined' : v?.disposition === 'delete' ? 'deleted' : 'pending';
      return { ...r, status, attempts: 0, nextAttemptAt: receivedAt, ...(v?.headerEdits ? { headerEdits: v.headerEdits } : {}) };
    });
    for (const lr of log.recipients) {
      const q = recipients.find((r) => r.address === lr.address);
      if (q && q.status !== 'pending') lr.status = q.status;
      else if (verdicts.get(lr.address)?.tagged) lr.tagged = true;
    }
    const record: QueueRecord = {
      id: spooled.id, direction, receivedAt, mailFrom, size: spooled.size, file: spooled.file, recipients,
      expiresAt: receivedAt + cfg.delivery.queueLifetimeHours * 3_600_000,
    };
    const reply = { code: 250, message: `2.0.0 Ok: queued as ${spooled.id}` };
    log.reply = `${reply.code} ${reply.message}`;
    await deps.queue.accept(record, log);
    deps.stats?.answered(log);
    deps.events?.({ kind: 'accepted', log });
    if (log.recipients.some((r) => r.status === 'quarantined')) deps.events?.({ kind: 'quarantined', log });
    if (log.recipients.some((r) => r.status === 'deleted')) deps.events?.({ kind: 'deleted', log });
    return reply;
  };
}

/** The domains a message counts for in the statistics: its recipients', or for outbound mail its sender's. */
function countedDomains(m: IncomingMessage): string[] {
  return m.direction === 'outbound' ? [m.mailFrom.slice(m.mailFrom.lastIndexOf('@') + 1)] : m.recipients.map((r) => r.domain);
}

/** A recipient the session refused at RCPT, with the reply it gave. */
export interface RefusedRecipient {
  direction: MailDirection;
  client: IncomingMessage['client'];
  mailFrom: string;
  address: string;
  /** greylisted: 451 until the sender retries; dns-list: the client's DNS-list listings reached the reject score. */
  reason: 'unknown-user' | 'blocked' | 'relay-denied' | 'greylisted' | 'dns-list';
  reply: { code: number; message: string };
  /** The class the refusal gives the recipient (Greylist, Blacklisted), and what the session found. */
  mainClass?: MainClass;
  findings?: ConnectionFindings;
}

/**
 * What the listeners call for each RCPT refusal: a log record when the configuration asks for
 * one. Writing is in the background (the refusal is answered at once); a failure is reported.
 */
export function createRcptRefusalLog(deps: { config: () => Config; log: MessageLog; stats?: Stats; onError?: (err: Error) => void }): (r: RefusedRecipient) => void {
  return (r) => {
    const cfg = deps.config();
    const domain = servedDomain(cfg, r.address.slice(r.address.lastIndexOf('@') + 1));
    // A greylisted recipient is only deferred (its retry passes): counted as greylisted, not refused.
    if (r.reason !== 'greylisted') deps.stats?.refusedAtRcpt(r.reason === 'relay-denied' ? undefined : domain?.name);
    // Greylisting and DNS-list refusals are always logged: they are filtering decisions, not typos.
    const screened = r.reason === 'greylisted' || r.reason === 'dns-list';
    const wanted = screened || (r.reason === 'relay-denied' ? cfg.log.relayDenied : domain?.logInvalidRecipients === true);
    if (!wanted) return;
    const now = Date.now();
    const record: MessageLogRecord = {
      id: MessageLog.newId(now), receivedAt: now, server: cfg.hostname, direction: r.direction, client: r.client,
      mailFrom: r.mailFrom, size: 0, attempts: [], status: r.reply.code < 500 ? 'tempfailed' : 'rejected at RCPT', finishedAt: now,
      recipients: [{ address: r.address, original: r.address, status: 'rejected', ...(r.mainClass ? { mainClass: r.mainClass } : {}) }],
      reply: `${r.reply.code} ${r.reply.message}`,
      ...(r.findings ? { findings: { connection: r.findings } } : {}),
    };
    deps.log.put(record).catch((err: Error) => deps.onError?.(err));
  };
}
