// The delivery queue: every accepted message with recipients still to deliver. Each attempt
// groups the due recipients by destination, relays them, and records every reply. 2xx is final,
// 5xx bounces to the sender, 4xx or no answer waits (retryMinutes) and tries again until the queue
// lifetime ends, then bounces. A record leaves the queue only when all recipients are final, and
// the queue is rebuilt from the store at start, so an acknowledged message is never lost.
//
// Delivery is at-least-once. A crash between the remote's 250 and our record of it sends the
// message again at restart: a duplicate, never a loss (RFC 1047 describes this window; RFC 5321
// section 6.1 puts losing mail first among things a server must not do). The window is kept to one
// synced write: a transaction's 2xx recipients are recorded delivered before anything else
// happens (log, other recipients' routes, bounces, statistics, cleanup), so a kill leaves at most
// one duplicate per transaction in flight, i.e. per `delivery.concurrency` slot for a message with
// one route. At restart we do not ask the route whether it already has the message: SMTP has no
// way to ask (only the mailbox store knows, and it is the customer's), and the one key we could
// ask with, the Message-ID, is the sender's to choose: it may be missing or reused, so treating
// "seen" as "delivered" would let one message silently suppress another, which is a loss.
//
// The admin's operations on one queued message (the console's mail queue page) keep that rule:
// "retry now" only moves the next attempt; "bounce now" queues the report to the sender durably
// before the recipients are recorded bounced; "delete" records who deleted which recipients in the
// message log and syslog. Each runs while no attempt is in flight for the message (it holds the
// message as an attempt does), and acts only on the pending recipients the caller's `pick` allows.
// "Recall" takes a released copy back into the quarantine (undoing the release): the caller's
// restore runs while the copy is held and its file is there, and the recipients are recorded as
// quarantined only after it succeeded.
import { open } from 'node:fs/promises';
import type { Config } from '../config/schema.ts';
import { servedDomain } from '../config/served-domains.ts';
import type { MailEventSink } from '../logsearch/mail-events.ts';
import type { LoggedRecipient, MessageLog, MessageLogRecord } from '../logsearch/message-log.ts';
import { overallStatus } from '../logsearch/message-log.ts';
import { HeaderScanner } from '../message/header-scan.ts';
import type { Direction, HeaderEdits } from '../message/message.ts';
import type { QueueRecord, QueuedRecipient } from './queue-record.ts';
import { isFinal } from './queue-record.ts';
import { delOp, putOp, type Store, type Sublevel } from '../store/store.ts';
import { buildBounce, enhancedStatus, type FailedRecipient } from './bounce.ts';
import { messageStream } from './message-stream.ts';
import type { MxResolver } from './mx.ts';
import type { Destination, SmtpClient } from './smtp-client.ts';

/** A message file written durably: its queue id, file name and size. */
export interface StoredMessage { id: string; file: string; size: number }

/**
 * The message files the queue relays, provided by the spool (appliance/spool/). The queue names
 * only what it uses, so delivery does not import the accepting side of the mail path.
 */
export interface MessageFiles {
  pathOf(file: string): string;
  /** A recently received message's bytes, or the path of its file. */
  source(file: string): Buffer | string;
  /** Writes a whole message we generate ourselves (bounces, notices). */
  writeMessage(content: Buffer): Promise<StoredMessage>;
  /** Copies a message file from elsewhere (a quarantine release, a forward). */
  copyMessage(sourcePath: string): Promise<StoredMessage>;
  remove(file: string): Promise<void>;
  list(): Promise<string[]>;
}

export interface QueueDeps {
  store: Store;
  spool: MessageFiles;
  log: MessageLog;
  config: () => Config;
  /** Only what the queue uses, so a test can stand in for the network. */
  client: Pick<SmtpClient, 'send' | 'close'>;
  mx: Pick<MxResolver, 'lookup'>;
  /** Told when a message leaves the queue (for statistics). */
  onFinished?: (log: MessageLogRecord) => void;
  /** One syslog line per recipient's delivered, deferred or bounced attempt. */
  events?: MailEventSink;
}

interface Entry {
  record: QueueRecord;
  log: MessageLogRecord;
  timer?: NodeJS.Timeout;
  running: boolean;
  /** The last write of the record, so an attempt's parallel transactions record in order. */
  saving?: Promise<void>;
}

/** One queued message as the admin sees it: the pending recipients `pick` allowed. */
export interface QueuedView {
  record: QueueRecord;
  recipients: QueuedRecipient[];
  subject?: string;
  /** An attempt is in flight right now. */
  running: boolean;
}

/** Which of a message's recipients an operation may see or touch (the caller's scope). */
export type RecipientPick = (record: QueueRecord, r: QueuedRecipient) => boolean;

/** How an admin's operation on one message ended. */
export type QueueOpResult =
  | { kind: 'done'; recipients: string[] }
  /** No such message, or no pending recipient the pick allows. */
  | { kind: 'not-found' }
  /** An attempt is in flight: its outcome decides first. */
  | { kind: 'busy' }
  /** A bounce or notice (the null sender): no one to send a bounce to. */
  | { kind: 'null-sender' };

type RouteLookup = { kind: 'destinations'; list: Destination[] } | { kind: 'fail'; permanent: boolean; reason: string };

export class DeliveryQueue {
  #deps: QueueDeps;
  #db: Sublevel<QueueRecord>;
  #entries = new Map<string, Entry>();
  #ready: Entry[] = [];
  #active = 0;
  #stopping = false;
  #idle: (() => void)[] = [];

  constructor(deps: QueueDeps) {
    this.#deps = deps;
    this.#db = deps.store.sublevel<QueueRecord>('queue');
  }

  /** Reloads every unfinished message and removes spool files no record refers to. */
  async recover(): Promise<number> {
    const referenced = new Set<string>();
    const finished: Entry[] = [];
    for await (const record of this.#db.values()) {
      referenced.add(record.file);
      const log = (await this.#deps.log.get(record.id)) ?? newLog(record);
      const entry: Entry = { record, log, running: false };
      // Every recipient final: the process died after recording the last delivery and before
      // removing the record. Finish it; sending again would be the duplicate that write prevents.
      if (record.recipients.every(isFinal)) finished.push(entry);
      else this.#add(entry);
    }
    for (const entry of finished) {
      const logged = new Set(entry.log.attempts.flatMap((a) => a.recipients));
      for (const r of entry.record.recipients.filter((x) => x.status === 'delivered' && !logged.has(x.address))) {
        entry.log.attempts.push({ at: Date.now(), recipients: [r.address], host: '', port: 0, code: 250,
          reply: `recorded as delivered before a restart: ${r.lastReply ?? ''}`.trim() });
      }
      await this.#persist(entry, true);
    }
    for (const file of await this.#deps.spool.list()) {
      // Written but never acknowledged (the crash came before the queue record was synced).
      if (!referenced.has(file)) await this.#deps.spool.remove(file);
    }
    return this.#entries.size;
  }

  /**
   * Makes an accepted message durable: the queue record (when anything is left to deliver) and its
   * log record in one synced batch. Only after this resolves may the session answer 250.
   */
  async accept(record: QueueRecord, log: MessageLogRecord): Promise<void> {
    const pending = record.recipients.some((r) => !isFinal(r));
    log.status = overallStatus(log.recipients);
    if (!pending) log.finishedAt = Date.now();
    await this.#deps.store.batch([
      ...(pending ? [putOp(this.#db, record.id, record)] : []),
      ...this.#deps.log.writeOps(log),
    ], { sync: true });
    if (pending) this.#add({ record, log, running: false });
    else {
      await this.#deps.spool.remove(record.file);
      this.#deps.onFinished?.(log);
    }
  }

  /** Queues a copy of an existing message file (quarantine release, forward). */
  async submitCopy(opts: { sourcePath: string; direction: Direction; mailFrom: string; recipients: { address: string; original?: string; domain?: string }[]; headerEdits?: HeaderEdits; note?: string }): Promise<string> {
    const { id, file, size } = await this.#deps.spool.copyMessage(opts.sourcePath);
    const target = this.#deps.spool.pathOf(file);
    const now = Date.now();
    const record: QueueRecord = {
      id, direction: opts.direction, receivedAt: now, mailFrom: opts.mailFrom, size, file,
      expiresAt: now + this.#deps.config().delivery.queueLifetimeHours * 3_600_000,
      recipients: opts.recipients.map((r) => ({
        address: r.address, original: r.original ?? r.address, domain: r.domain ?? '', status: 'pending',
        attempts: 0, nextAttemptAt: now, ...(opts.headerEdits ? { headerEdits: opts.headerEdits } : {}),
      })),
    };
    await this.accept(record, newLog(record, { reply: opts.note, ...(await headerSummary(target)) }));
    return id;
  }

  /** Queues a message we wrote ourselves (notices, reports), from the null sender; `note` is the log's reply text. */
  async submitNotice(content: Buffer, recipients: string[], note = 'notice to the admin'): Promise<string> {
    const { id, file, size } = await this.#deps.spool.writeMessage(content);
    const now = Date.now();
    const record: QueueRecord = {
      id, direction: 'bounce', receivedAt: now, expiresAt: now + this.#deps.config().delivery.queueLifetimeHours * 3_600_000,
      mailFrom: '', size, file,
      recipients: recipients.map((address) => ({ address, original: address, domain: '', status: 'pending' as const, attempts: 0, nextAttemptAt: now })),
    };
    await this.accept(record, newLog(record, { reply: note }));
    return id;
  }

  /** Messages queued, and how many of them already had a failed attempt. */
  size(): { messages: number; deferred: number } {
    let deferred = 0;
    for (const e of this.#entries.values()) if (e.record.recipients.some((r) => r.attempts > 0 && !isFinal(r))) deferred += 1;
    return { messages: this.#entries.size, deferred };
  }

  get length(): number {
    return this.#entries.size;
  }

  /** Age in ms of the oldest queued message (0 when empty). */
  oldestAgeMs(): number {
    let oldest = Infinity;
    for (const e of this.#entries.values()) oldest = Math.min(oldest, e.record.receivedAt);
    return oldest === Infinity ? 0 : Date.now() - oldest;
  }

  /** Delivers everything due now, ignoring retry waits (the admin's "flush"). */
  flush(): void {
    for (const entry of this.#entries.values()) {
      for (const r of entry.record.recipients) if (!isFinal(r)) r.nextAttemptAt = 0;
      this.#schedule(entry, 0);
    }
  }

  /** The queued messages oldest first, each with the pending recipients `pick` allows (none: left out). */
  list(pick: RecipientPick): QueuedView[] {
    const views: QueuedView[] = [];
    for (const e of this.#entries.values()) {
      const recipients = e.record.recipients.filter((r) => !isFinal(r) && pick(e.record, r));
      if (recipients.length) views.push({ record: e.record, recipients, running: e.running, ...(e.log.subject !== undefined ? { subject: e.log.subject } : {}) });
    }
    return views.sort((a, b) => a.record.receivedAt - b.record.receivedAt);
  }

  /** Tries the picked recipients at once, whatever their retry wait. */
  async retryNow(id: string, pick: RecipientPick): Promise<QueueOpResult> {
    return this.#operate(id, pick, async (_entry, chosen) => {
      for (const r of chosen) r.nextAttemptAt = 0;
    });
  }

  /** Returns the picked recipients to the sender now, with a bounce saying the admin did it. */
  async bounceNow(id: string, pick: RecipientPick, by: string): Promise<QueueOpResult> {
    const entry = this.#entries.get(id);
    if (entry && (!entry.record.mailFrom || entry.record.direction === 'bounce')) {
      return entry.record.recipients.some((r) => !isFinal(r) && pick(entry.record, r)) ? { kind: 'null-sender' } : { kind: 'not-found' };
    }
    return this.#operate(id, pick, async (e, chosen) => {
      const reply = `returned to the sender by the mail administrator (${by}) before it could be delivered; last problem: `;
      const failed: FailedRecipient[] = chosen.map((r) => ({ address: r.address, original: r.original, status: '5.0.0', diagnostic: `${reply}${r.lastReply ?? 'none recorded'}` }));
      // The sender's report is durable before any recipient is recorded bounced (see the top).
      await this.#bounce(e.record, failed);
      for (const [i, r] of chosen.entries()) {
        r.status = 'bounced';
        r.lastReply = failed[i].diagnostic;
      }
      e.log.attempts.push({ at: Date.now(), recipients: chosen.map((r) => r.address), host: '', port: 0, code: 0, reply: `returned to the sender by ${by}` });
      await this.#persist(e, true);
      for (const f of failed) this.#deps.events?.({ kind: 'bounced', log: e.log, recipient: f.address, reply: f.diagnostic });
    });
  }

  /** Deletes the picked recipients' copies, recorded in the message log as deleted by `by`. */
  async remove(id: string, pick: RecipientPick, by: string): Promise<QueueOpResult> {
    return this.#operate(id, pick, (e, chosen) => this.#takenOut(e, chosen, 'deleted', `deleted from the queue by ${by}`));
  }

  /**
   * Takes the picked recipients back for the quarantine: `restore` gets the copy's file and those
   * recipients and must have put them back durably when it resolves; then they are recorded as
   * quarantined again (message log, syslog), and the copy leaves the queue once nothing is left.
   */
  async recall(id: string, pick: RecipientPick, by: string, restore: (file: string, recipients: string[]) => Promise<unknown>): Promise<QueueOpResult> {
    return this.#operate(id, pick, async (e, chosen) => {
      await restore(this.#deps.spool.pathOf(e.record.file), chosen.map((r) => r.address));
      await this.#takenOut(e, chosen, 'quarantined', `release undone by ${by}: back in quarantine`);
    });
  }

  /** Records recipients an admin took out of the queue (deleted, or back in quarantine): the message log and its event. */
  async #takenOut(e: Entry, chosen: QueuedRecipient[], outcome: 'deleted' | 'quarantined', reply: string): Promise<void> {
    for (const r of chosen) {
      r.status = outcome;
      r.lastReply = reply;
    }
    e.log.attempts.push({ at: Date.now(), recipients: chosen.map((r) => r.address), host: '', port: 0, code: 0, reply });
    await this.#persist(e, true);
    this.#deps.events?.({ kind: outcome, log: { ...e.log, reply, recipients: e.log.recipients.filter((r) => chosen.some((c) => c.address === r.address)) } });
  }

  /** Whether message `id` is queued (for dropping what refers to copies that left meanwhile). */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** Runs an admin's operation holding the message as an attempt does, then schedules what is left. */
  async #operate(id: string, pick: RecipientPick, op: (entry: Entry, chosen: QueuedRecipient[]) => Promise<void>): Promise<QueueOpResult> {
    const entry = this.#entries.get(id);
    const chosen = entry ? entry.record.recipients.filter((r) => !isFinal(r) && pick(entry.record, r)) : [];
    if (!entry || !chosen.length) return { kind: 'not-found' };
    if (entry.running) return { kind: 'busy' };
    entry.running = true;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    const waiting = this.#ready.indexOf(entry);
    if (waiting >= 0) this.#ready.splice(waiting, 1);
    try {
      await op(entry, chosen);
    } finally {
      entry.running = false;
      if (this.#entries.has(id)) this.#rescheduleAfterAttempt(entry);
    }
    return { kind: 'done', recipients: chosen.map((r) => r.address) };
  }

  /** Stops starting attempts and waits (up to `graceMs`) for those in flight. */
  async stop(graceMs = 30_000): Promise<void> {
    this.#stopping = true;
    for (const e of this.#entries.values()) clearTimeout(e.timer);
    if (this.#active > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.#idle.push(resolve)),
        new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
      ]);
    }
    this.#deps.client.close();
  }

  #add(entry: Entry): void {
    this.#entries.set(entry.record.id, entry);
    const next = Math.min(...entry.record.recipients.filter((r) => !isFinal(r)).map((r) => r.nextAttemptAt));
    this.#schedule(entry, next - Date.now());
  }

  #schedule(entry: Entry, delayMs: number): void {
    if (this.#stopping) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    if (delayMs <= 0) {
      if (!entry.running && !this.#ready.includes(entry)) this.#ready.push(entry);
      this.#pump();
    } else {
      entry.timer = setTimeout(() => this.#schedule(entry, 0), Math.min(delayMs, 2 ** 31 - 1));
      entry.timer.unref();
    }
  }

  #pump(): void {
    const limit = this.#deps.config().delivery.concurrency;
    while (!this.#stopping && this.#active < limit && this.#ready.length) {
      const entry = this.#ready.shift()!;
      entry.running = true;
      this.#active += 1;
      this.#attempt(entry)
        .catch((err: Error) => {
          // An internal failure (disk, store): keep the message and try again later.
          console.error(`mailmoat: delivery of ${entry.record.id} failed internally, will retry: ${err.stack ?? err.message}`);
          for (const r of entry.record.recipients) if (!isFinal(r)) r.nextAttemptAt = Date.now() + 60_000;
        })
        .finally(() => {
          entry.running = false;
          this.#active -= 1;
          if (this.#entries.has(entry.record.id)) this.#rescheduleAfterAttempt(entry);
          if (this.#active === 0) for (const resolve of this.#idle.splice(0)) resolve();
          this.#pump();
        });
    }
  }

  #rescheduleAfterAttempt(entry: Entry): void {
    const pending = entry.record.recipients.filter((r) => !isFinal(r));
    if (pending.length) this.#schedule(entry, Math.min(...pending.map((r) => r.nextAttemptAt)) - Date.now());
  }

  async #attempt(entry: Entry): Promise<void> {
    const { record, log } = entry;
    const now = Date.now();
    const due = record.recipients.filter((r) => !isFinal(r) && r.nextAttemptAt <= now);
    if (due.length === 0) return;
    const failed: FailedRecipient[] = [];
    if (now >= record.expiresAt) {
      for (const r of due) {
        r.status = 'bounced';
        const hours = this.#deps.config().delivery.queueLifetimeHours;
        const diagnostic = `could not be delivered for ${hours} hours; last problem: ${r.lastReply ?? 'none recorded'}`;
        failed.push({ address: r.address, original: r.original, status: '4.4.7', diagnostic });
        this.#deps.events?.({ kind: 'bounced', log: entry.log, recipient: r.address, reply: diagnostic });
      }
    } else {
      // Recipients that go the same way with the same header edits share one transaction.
      const routes = new Map<string, Promise<RouteLookup>>();
      const groups = new Map<string, { route: RouteLookup; recipients: QueuedRecipient[] }>();
      for (const r of due) {
        const domainKey = r.domain || domainOf(r.address);
        if (!routes.has(domainKey)) routes.set(domainKey, this.#route(r));
        const route = await routes.get(domainKey)!;
        const key = `${JSON.stringify(route)}|${JSON.stringify(r.headerEdits ?? null)}`;
        const group = groups.get(key) ?? { route, recipients: [] };
        group.recipients.push(r);
        groups.set(key, group);
      }
      await Promise.all([...groups.values()].map((g) => this.#deliverGroup(entry, g.route, g.recipients, failed)));
    }
    if (failed.length && record.mailFrom && record.direction !== 'bounce') await this.#bounce(record, failed);
    // Deliveries are synced already; a bounced recipient (5xx, expiry) is final only from here on.
    await this.#persist(entry, failed.length > 0);
  }

  async #deliverGroup(entry: Entry, route: RouteLookup, group: QueuedRecipient[], failed: FailedRecipient[]): Promise<void> {
    const { record, log } = entry;
    const settle = (r: QueuedRecipient, code: number, reply: string, dest?: Destination) => {
      r.lastReply = reply;
      if (code >= 200 && code < 300) r.status = 'delivered';
      else if (code >= 500) {
        r.status = 'bounced';
        failed.push({ address: r.address, original: r.original, status: enhancedStatus(code, reply), diagnostic: reply, remoteHost: dest?.host });
      } else this.#defer(r);
      const kind = r.status === 'delivered' ? 'delivered' : r.status === 'bounced' ? 'bounced' : 'deferred';
      this.#deps.events?.({ kind, log, recipient: r.address, reply, ...(dest ? { relay: `${hostLabel(dest)}:${dest.port}` } : {}) });
    };
    if (route.kind === 'fail') {
      log.attempts.push({ at: Date.now(), recipients: group.map((r) => r.address), host: '', port: 0, code: route.permanent ? 550 : 0, reply: route.reason });
      for (const r of group) settle(r, route.permanent ? 550 : 451, route.reason);
      return;
    }
    let lastProblem = 'no destination';
    for (const dest of route.list) {
      const result = await this.#deps.client.send(dest, { from: record.mailFrom, to: group.map((r) => r.address), size: record.size },
        () => messageStream(this.#deps.spool.source(record.file), group[0].headerEdits));
      if (result.kind === 'unreachable') {
        lastProblem = `${dest.host}:${dest.port}: ${result.reason}`;
        log.attempts.push({ at: Date.now(), recipients: group.map((r) => r.address), host: hostLabel(dest), port: dest.port, code: 0, reply: result.reason });
        continue;
      }
      const byAddress = new Map(result.replies.map((x) => [x.address.toLowerCase(), x]));
      const accepted = group.filter((r) => { const code = byAddress.get(r.address.toLowerCase())?.code ?? 0; return code >= 200 && code < 300; });
      if (accepted.length) {
        // First, before logging or anything else: the remote has these now (see the top).
        for (const r of accepted) r.status = 'delivered';
        await this.#recordDelivered(entry);
      }
      for (const r of group) {
        const reply = byAddress.get(r.address.toLowerCase()) ?? { code: 451, reply: 'no reply for this recipient' };
        log.attempts.push({ at: Date.now(), recipients: [r.address], host: hostLabel(dest), port: dest.port, code: reply.code, reply: reply.reply });
        settle(r, reply.code, reply.reply, dest);
      }
      return;
    }
    for (const r of group) {
      r.lastReply = lastProblem;
      this.#defer(r);
      this.#deps.events?.({ kind: 'deferred', log, recipient: r.address, reply: lastProblem });
    }
  }

  /** One synced write of the record as it stands, after the entry's earlier writes. */
  async #recordDelivered(entry: Entry): Promise<void> {
    const write = (entry.saving ?? Promise.resolve()).then(() => this.#db.put(entry.record.id, entry.record, { sync: true }));
    entry.saving = write.catch(() => {});
    await write;
  }

  #defer(r: QueuedRecipient): void {
    const waits = this.#deps.config().delivery.retryMinutes;
    r.attempts += 1;
    r.nextAttemptAt = Date.now() + waits[Math.min(r.attempts - 1, waits.length - 1)] * 60_000;
  }

  async #route(r: QueuedRecipient): Promise<RouteLookup> {
    const config = this.#deps.config();
    const domain = domainOf(r.address);
    const served = servedDomain(config, r.domain || domain);
    if (served) {
      return { kind: 'destinations', list: [...served.routes].sort((a, b) => a.priority - b.priority) };
    }
    if (r.domain) return { kind: 'fail', permanent: false, reason: `${r.domain} is no longer a served domain; add it back or the message bounces at expiry` };
    const smarthost = config.relay.smarthost;
    if (smarthost) {
      return { kind: 'destinations', list: [{ host: smarthost.host, port: smarthost.port, tls: smarthost.tls,
        ...(smarthost.username ? { auth: { user: smarthost.username, pass: smarthost.password ?? '' } } : {}) }] };
    }
    const mx = await this.#deps.mx.lookup(domain);
    if (mx.kind === 'hosts') {
      return { kind: 'destinations', list: mx.hosts.flatMap((h) => h.addresses.map((ip) => ({
        host: ip, servername: h.name, port: config.relay.mxPort, tls: 'opportunistic' as const,
      }))) };
    }
    return { kind: 'fail', permanent: mx.kind === 'no-mail', reason: mx.reason };
  }

  async #bounce(record: QueueRecord, failed: FailedRecipient[]): Promise<void> {
    const config = this.#deps.config();
    const content = await buildBounce({
      hostname: config.hostname, postmaster: config.postmaster ?? `postmaster@${config.hostname}`,
      sender: record.mailFrom, messageFile: this.#deps.spool.pathOf(record.file), queueId: record.id,
      receivedAt: record.receivedAt, failed,
    });
    const { id, file, size } = await this.#deps.spool.writeMessage(content);
    const now = Date.now();
    const bounce: QueueRecord = {
      id, direction: 'bounce', receivedAt: now, expiresAt: now + config.delivery.queueLifetimeHours * 3_600_000,
      mailFrom: '', size, file,
      recipients: [{ address: record.mailFrom, original: record.mailFrom, domain: '', status: 'pending', attempts: 0, nextAttemptAt: now }],
    };
    await this.accept(bounce, newLog(bounce, { reply: `bounce for ${record.id}` }));
  }

  /**
   * Writes the attempt's outcome: the log record, and the queue record or (all recipients final)
   * its removal. `sync` when a recipient became final without a synced write of its own; otherwise
   * losing this write to a power cut costs only a retry time or the cleanup, which recover() redoes.
   */
  async #persist(entry: Entry, sync: boolean): Promise<void> {
    const { record, log } = entry;
    const statusOf = new Map(record.recipients.map((r) => [r.address, r.status]));
    for (const lr of log.recipients) {
      const s = statusOf.get(lr.address);
      if (s) lr.status = s;
    }
    log.status = overallStatus(log.recipients);
    const done = record.recipients.every(isFinal);
    if (done) {
      log.finishedAt = Date.now();
      await this.#deps.store.batch([delOp(this.#db, record.id), ...this.#deps.log.writeOps(log)], { sync });
      this.#entries.delete(record.id);
      await this.#deps.spool.remove(record.file);
      this.#deps.onFinished?.(log);
      return;
    }
    if (log.status === 'queued' && log.attempts.length) log.status = 'deferred';
    await this.#deps.store.batch([putOp(this.#db, record.id, record), ...this.#deps.log.writeOps(log)], { sync });
  }
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export function newLog(record: QueueRecord, extra: Partial<MessageLogRecord> = {}): MessageLogRecord {
  return {
    id: record.id, receivedAt: record.receivedAt, direction: record.direction, mailFrom: record.mailFrom,
    size: record.size, attempts: [], status: 'queued',
    recipients: record.recipients.map((r): LoggedRecipient => ({ address: r.address, original: r.original, status: r.status })),
    ...extra,
  };
}

function hostLabel(dest: Destination): string {
  return dest.servername ? `${dest.servername} [${dest.host}]` : dest.host;
}

/** Message-ID, Subject and From of a message file, for its log record. */
async function headerSummary(file: string): Promise<ReturnType<HeaderScanner['summary']>> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const scanner = new HeaderScanner(buf.length);
    scanner.push(buf.subarray(0, bytesRead));
    return scanner.summary();
  } finally {
    await handle.close();
  }
}
