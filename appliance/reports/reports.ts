// The report service: quarantine digests per mailbox, the domain protection report, notices to a
// domain's contact, and the action links those mails carry. It reads the quarantine and the
// counters, and sends through the appliance's own delivery queue (a served domain's mailbox is
// reached by that domain's route, as any released message is). Scheduling (schedule.ts) runs
// `tick` every minute; the clock is injected so tests can move time.
//
// Digest periods: a digest lists the mail held since the previous run of that domain's digest
// (the stored run record), so nothing is listed twice and nothing falls between two digests;
// the retention-horizon variant lists everything still held from the last N days instead.
// A run records each mailbox once its mail is queued, and the domain once all are: a crash in
// the middle of a run resends to no mailbox that was done.
import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config, Domain, ReportAction } from '../config/schema.ts';
import { servedDomain } from '../config/served-domains.ts';
import { translate, type Language, type MessageKey } from '../i18n/catalog.ts';
import type { MessageLogRecord } from '../logsearch/message-log.ts';
import type { QuarantineActions } from '../quarantine/actions.ts';
import type { Quarantine, QuarantineRecord } from '../quarantine/quarantine-store.ts';
import type { Store } from '../store/store.ts';
import { LinkSigner, singleUse, type LinkClaims } from './links.ts';
import { linkPage, renderDigest, renderDomainReport, renderWelcome, formatTime, type Rendered, type ReportItem, type Totals } from './render.ts';
import { ReportStore, type RunRecord } from './report-store.ts';
import { latestSlot, periodMs, zonedInstant, type Schedule } from './schedule.ts';

export type SendMail = (raw: Buffer, recipients: string[], note: string) => Promise<void>;

export interface ReportDeps {
  store: Store;
  config: () => Config;
  quarantine: Quarantine;
  actions: QuarantineActions;
  /** Counter sums for a domain over [since, until) (appliance/stats/counters.ts). */
  totals?: (domain: string, since: number, until: number) => Promise<Totals>;
  send: SendMail;
  /** The link key (links.ts loadLinkKey). */
  linkKey: Buffer;
  now?: () => number;
  /** The console's port, for the default link address. */
  consolePort?: () => number | undefined;
}

/** What following or confirming a link comes to: a page, and what to audit. */
export interface LinkOutcome {
  status: number;
  html: string;
  /** Set when a POST changed something (or tried and failed): the audit record's facts. */
  audit?: { action: string; message: string; recipient: string; result: string };
  /** For "open my quarantine": start a session limited to this mailbox. */
  openSession?: { address: string; language: Language; minutes: number };
}

export interface DomainReportRequest {
  domain: string;
  /** YYYY-MM-DD in the domain's zone; the period's first day. */
  date: string;
  period: 'day' | 'week';
  language: Language;
  recipients: string[];
  withoutMessages: boolean;
}

const lower = (s: string) => s.toLowerCase();
const domainOf = (address: string) => lower(address.slice(address.lastIndexOf('@') + 1));

export class ReportService {
  readonly store: ReportStore;
  #deps: ReportDeps;
  #signer: LinkSigner;
  #now: () => number;
  #inFlight = new Set<string>();
  #notices: Promise<unknown> = Promise.resolve();
  #ticks: Promise<unknown> = Promise.resolve();
  #lastPrune = 0;

  constructor(deps: ReportDeps) {
    this.#deps = deps;
    this.store = new ReportStore(deps.store);
    this.#signer = new LinkSigner(deps.linkKey);
    this.#now = deps.now ?? Date.now;
  }

  #zone(d: Domain): string {
    return d.timezone ?? this.#deps.config().time.timezone;
  }

  #domain(name: string): Domain | undefined {
    return servedDomain(this.#deps.config(), name);
  }

  /** Where links point: the configured console address, else https://<hostname>[:port]/. */
  baseUrl(): string {
    const cfg = this.#deps.config();
    if (cfg.reports.consoleUrl) return cfg.reports.consoleUrl.endsWith('/') ? cfg.reports.consoleUrl : `${cfg.reports.consoleUrl}/`;
    const port = this.#deps.consolePort?.() ?? cfg.listeners.console.port;
    return `https://${cfg.hostname}${port === 443 ? '' : `:${port}`}/`;
  }

  linkUrl(claims: Omit<LinkClaims, 'expiresAt'> & { expiresAt?: number }): string {
    const expiresAt = claims.expiresAt ?? this.#now() + this.#deps.config().reports.linkDays * 86_400_000;
    return `${this.baseUrl()}api/link?t=${this.#signer.sign({ ...claims, expiresAt })}`;
  }

  #items(records: { r: QuarantineRecord; to: string }[], actions: ReportAction[], language: Language, expiresAt: number): ReportItem[] {
    return records.map(({ r, to }) => ({
      at: r.quarantinedAt, from: r.fromHeader || r.mailFrom, to, subject: r.subject, mainClass: r.mainClass, score: r.score,
      links: actions.filter((a) => a !== 'allow-release' && a !== 'block-delete' || r.mailFrom)
        .map((action) => ({ action, url: this.linkUrl({ message: r.id, action, recipient: to, language, expiresAt }) })),
    }));
  }

  /** Held copies in a domain quarantined in [since, until], newest first, one per (message, recipient). */
  async #held(domain: Domain, since: number, until: number, address?: string): Promise<{ r: QuarantineRecord; to: string }[]> {
    const names = new Set([domain.name, ...domain.aliases].map(lower));
    const out: { r: QuarantineRecord; to: string }[] = [];
    const query = address ? { recipient: address, since, until } : { domain: domain.name, since, until };
    for await (const { record } of this.#deps.quarantine.walk(query)) {
      if (!record || record.direction !== 'inbound') continue;
      for (const c of record.recipients) {
        if (c.state !== 'held' || !names.has(lower(c.domain || domainOf(c.address)))) continue;
        if (address && lower(c.address) !== lower(address)) continue;
        out.push({ r: record, to: lower(c.address) });
      }
    }
    return out;
  }

  /** A mailbox's digest for [since, until] (or its horizon), as it would be sent. */
  async digest(address: string, since: number, until: number): Promise<Rendered & { count: number }> {
    const d = this.#domain(domainOf(address));
    if (!d) throw new Error(`${address} is not in a served domain`);
    const s = d.reports.digest;
    const from = s.horizonDays ? until - s.horizonDays * 86_400_000 : since;
    const held = await this.#held(d, from, until, lower(address));
    const expiresAt = this.#now() + this.#deps.config().reports.linkDays * 86_400_000;
    const language = s.language;
    const rendered = renderDigest({
      language, zone: this.#zone(d), hostname: this.#deps.config().hostname, address: lower(address), since: from, until,
      horizonDays: s.horizonDays, items: this.#items(held, d.reports.actions, language, expiresAt),
      openUrl: this.linkUrl({ message: '', action: 'open', recipient: address, language, expiresAt }),
      unsubscribeUrl: this.linkUrl({ message: '', action: 'unsubscribe', recipient: address, language, expiresAt }),
      linksUntil: expiresAt,
    });
    return { ...rendered, count: held.length };
  }

  /** The domain report for [since, until). */
  async domainReport(domainName: string, since: number, until: number, language: Language, withoutMessages: boolean): Promise<Rendered & { count: number }> {
    const d = this.#domain(domainName);
    if (!d) throw new Error(`${domainName} is not a served domain`);
    const held = await this.#held(d, since, until - 1);
    const expiresAt = this.#now() + this.#deps.config().reports.linkDays * 86_400_000;
    const totals = await this.#deps.totals?.(d.name, since, until) ?? { received: 0, delivered: 0, quarantined: 0, rejected: 0, spam: 0, virus: 0 };
    const rendered = renderDomainReport({
      language, zone: this.#zone(d), hostname: this.#deps.config().hostname, domain: d.name, since, until, totals,
      held: held.length, items: withoutMessages ? undefined : this.#items(held, d.reports.actions, language, expiresAt), linksUntil: expiresAt,
    });
    return { ...rendered, count: held.length };
  }

  async #compose(to: string, r: Omit<Rendered, 'html'> & { html?: string }, extraHeaders: Record<string, string> = {}): Promise<Buffer> {
    const cfg = this.#deps.config();
    const mail = new MailComposer({
      from: { name: 'Mailmoat', address: cfg.reports.sender ?? `mailer-daemon@${cfg.hostname}` },
      to, subject: r.subject, text: r.text, ...(r.html ? { html: r.html } : {}), date: new Date(this.#now()),
      messageId: `<report.${randomBytes(8).toString('hex')}@${cfg.hostname}>`,
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All', ...extraHeaders },
    });
    return mail.compile().build();
  }

  async #sendDigest(address: string, since: number, until: number, skipEmpty: boolean): Promise<boolean> {
    const r = await this.digest(address, since, until);
    if (!r.count && skipEmpty) return false;
    const unsubscribe = this.linkUrl({ message: '', action: 'unsubscribe', recipient: address, language: this.#domain(domainOf(address))!.reports.digest.language });
    const raw = await this.#compose(address, r, { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    await this.#deps.send(raw, [address], 'quarantine digest');
    return true;
  }

  async #sendWelcome(d: Domain, address: string): Promise<void> {
    const language = d.reports.digest.language;
    const r = renderWelcome({
      language, zone: this.#zone(d), hostname: this.#deps.config().hostname, address, times: [d.reports.digest.time, ...d.reports.digest.extraTimes],
      unsubscribeUrl: this.linkUrl({ message: '', action: 'unsubscribe', recipient: address, language }),
      subscribeUrl: this.linkUrl({ message: '', action: 'subscribe', recipient: address, language }),
    });
    await this.#deps.send(await this.#compose(address, r), [address], 'quarantine digest welcome');
    await this.store.setSubscription(address, true, this.#now());
  }

  async #runDigests(d: Domain, slot: number, previous: RunRecord, now: number): Promise<number> {
    const s = d.reports.digest;
    const since = s.horizonDays ? now - s.horizonDays * 86_400_000 : previous.ranAt;
    const addresses = new Set((await this.#held(d, since, now)).map((h) => h.to));
    if (!s.skipEmpty && d.recipients.mode === 'listed') {
      for (const a of d.recipients.addresses) addresses.add(lower(a.includes('@') ? a : `${a}@${d.name}`));
    }
    let sent = 0;
    for (const address of [...addresses].sort()) {
      const key = `digest!${lower(d.name)}!${address}`;
      const done = await this.store.lastRun(key);
      if (done && done.slot >= slot) continue;
      const subscription = await this.store.subscription(address);
      if (subscription?.subscribed === false) continue;
      // A mailbox that never had a digest nor chose gets the explanation first; choosing or being welcomed is recorded.
      if (s.welcome && !subscription && !done) await this.#sendWelcome(d, address);
      const ok = await this.#sendDigest(address, previous.ranAt, now, s.skipEmpty);
      if (ok) sent++;
      await this.store.recordRun(key, { slot, ranAt: now, sent: ok ? 1 : 0 });
    }
    return sent;
  }

  async #runDomainReport(d: Domain, _slot: number, previous: RunRecord, now: number): Promise<number> {
    const s = d.reports.domain;
    const r = await this.domainReport(d.name, previous.ranAt, now, s.language, s.withoutMessages);
    const raw = await this.#compose(s.recipients.join(', '), r);
    await this.#deps.send(raw, s.recipients, 'domain protection report');
    return 1;
  }

  /** Runs a report if its latest slot is newer than the one it last ran for (see schedule.ts). */
  async #due(key: string, schedule: Schedule, zone: string, now: number, run: (slot: number, previous: RunRecord) => Promise<number>): Promise<void> {
    const slot = latestSlot(schedule, zone, now);
    const last = await this.store.lastRun(key);
    if (!last) {
      // Just enabled: the first report covers what is held from now on and goes at the next slot.
      await this.store.recordRun(key, { slot, ranAt: now, sent: 0 });
      return;
    }
    if (last.slot >= slot) return;
    const sent = await run(slot, last);
    await this.store.recordRun(key, { slot, ranAt: now, sent });
  }

  /** One pass of the scheduler: every enabled report whose time has come is sent. Passes never overlap. */
  tick(): Promise<void> {
    const next = this.#ticks.then(() => this.#tick());
    this.#ticks = next.catch(() => undefined);
    return next;
  }

  async #tick(): Promise<void> {
    const now = this.#now();
    for (const d of this.#deps.config().domains) {
      const zone = this.#zone(d);
      const { digest, domain } = d.reports;
      if (digest.enabled) await this.#due(`digest!${lower(d.name)}`, digest, zone, now, (slot, last) => this.#runDigests(d, slot, last, now));
      if (domain.enabled && domain.recipients.length) await this.#due(`domain!${lower(d.name)}`, domain, zone, now, (slot, last) => this.#runDomainReport(d, slot, last, now));
    }
    if (now - this.#lastPrune > 3_600_000) {
      this.#lastPrune = now;
      await this.store.pruneTokens(now);
    }
  }

  /** The period a "send now" or preview of a domain report covers, from a date in the domain's zone. */
  period(domainName: string, date: string, period: 'day' | 'week'): { since: number; until: number } {
    const d = this.#domain(domainName);
    if (!d) throw new Error(`${domainName} is not a served domain`);
    const [y, m, day] = date.split('-').map(Number);
    const zone = this.#zone(d);
    return { since: zonedInstant(y, m, day, 0, 0, zone), until: zonedInstant(y, m, day + (period === 'week' ? 7 : 1), 0, 0, zone) };
  }

  /** "Send now": the domain report for a chosen day or week, to the given addresses. */
  async sendDomainReport(req: DomainReportRequest): Promise<{ held: number }> {
    const { since, until } = this.period(req.domain, req.date, req.period);
    const r = await this.domainReport(req.domain, since, until, req.language, req.withoutMessages);
    await this.#deps.send(await this.#compose(req.recipients.join(', '), r), req.recipients, 'domain protection report (sent now)');
    return { held: r.count };
  }

  /** The period the next digest of a mailbox would cover (for previews). */
  async nextDigestPeriod(address: string): Promise<{ since: number; until: number }> {
    const d = this.#domain(domainOf(address));
    const now = this.#now();
    const last = d && await this.store.lastRun(`digest!${lower(d.name)}`);
    return { since: last?.ranAt ?? now - periodMs(d?.reports.digest ?? { frequency: 'daily', time: '00:00', weekday: 0 }), until: now };
  }

  // ---- Links -------------------------------------------------------------------------------

  #page(language: Language, key: MessageKey, params: Record<string, string | number>, status: number, extra?: { href: string; text: string }): LinkOutcome {
    return { status, html: linkPage({ language, message: translate(language, key, params), status: status >= 400 ? 'error' : 'ok', extra }) };
  }

  async #check(token: string): Promise<LinkOutcome | { claims: LinkClaims; id: string; record?: QuarantineRecord }> {
    const now = this.#now();
    const fallback = this.#deps.config().console.language;
    const v = this.#signer.verify(token, now);
    if (!v.ok) return this.#page(fallback, `link.error.${v.reason}`, {}, v.reason === 'expired' ? 410 : 400);
    const { claims, id } = v;
    // Refusals of a genuine link say which link it was, for the audit log.
    const refused = (key: MessageKey, params: Record<string, string | number>, status: number, why: string): LinkOutcome => ({
      ...this.#page(claims.language, key, params, status),
      audit: { action: claims.action, message: claims.message, recipient: claims.recipient, result: `refused: ${why}` },
    });
    const used = singleUse(claims.action) ? await this.store.tokenUsed(id) : undefined;
    if (used) return refused('link.error.used', { date: formatTime(used.usedAt, this.#zoneOf(claims.recipient), claims.language) }, 410, 'used before');
    if (!this.#domain(domainOf(claims.recipient))) return refused('link.error.forged', {}, 400, 'not a served domain');
    if (!claims.message) return { claims, id };
    const record = await this.#deps.quarantine.get(claims.message);
    const copy = record?.recipients.find((c) => lower(c.address) === claims.recipient && c.state === 'held');
    if (!record || !copy) return refused('link.error.gone', { recipient: claims.recipient }, 410, 'no copy held');
    return { claims, id, record };
  }

  #zoneOf(address: string): string {
    const d = this.#domain(domainOf(address));
    return d ? this.#zone(d) : this.#deps.config().time.timezone;
  }

  #question(c: LinkClaims, r?: QuarantineRecord): string {
    const l = c.language;
    if (c.action === 'open') return translate(l, 'link.question.open', { recipient: c.recipient, minutes: this.#deps.config().reports.sessionMinutes });
    if (c.action === 'unsubscribe' || c.action === 'subscribe') return translate(l, `link.question.${c.action}`, { recipient: c.recipient });
    return translate(l, 'link.question', { action: translate(l, `quarantine.action.${c.action}` as MessageKey), subject: r?.subject ?? '', from: r?.fromHeader || r?.mailFrom || '<>', recipient: c.recipient });
  }

  /** GET: shows what the link would do and a button to do it; changes nothing. */
  async showLink(token: string, formAction: string): Promise<LinkOutcome> {
    const checked = await this.#check(token);
    if ('html' in checked) return checked;
    const { claims, record } = checked;
    const button = claims.action === 'open' ? translate(claims.language, 'report.openQuarantine') : translate(claims.language, 'link.confirm');
    return { status: 200, html: linkPage({ language: claims.language, message: this.#question(claims, record), form: { action: formAction, button } }) };
  }

  /** POST: does what the link says, once for destructive actions. */
  async useLink(token: string): Promise<LinkOutcome> {
    const checked = await this.#check(token);
    if ('html' in checked) return checked;
    const { claims, id } = checked;
    if (this.#inFlight.has(id)) return this.#page(claims.language, 'link.error.used', { date: formatTime(this.#now(), this.#zoneOf(claims.recipient), claims.language) }, 409);
    this.#inFlight.add(id);
    try {
      return await this.#act(claims, id);
    } finally {
      this.#inFlight.delete(id);
    }
  }

  async #act(c: LinkClaims, id: string): Promise<LinkOutcome> {
    const audit = (result: string) => ({ action: c.action, message: c.message, recipient: c.recipient, result });
    const l = c.language;
    if (c.action === 'open') {
      const minutes = this.#deps.config().reports.sessionMinutes;
      return { status: 303, html: '', openSession: { address: c.recipient, language: l, minutes }, audit: audit('session opened') };
    }
    if (c.action === 'unsubscribe' || c.action === 'subscribe') {
      await this.store.setSubscription(c.recipient, c.action === 'subscribe', this.#now());
      const again = c.action === 'unsubscribe'
        ? { href: this.linkUrl({ message: '', action: 'subscribe', recipient: c.recipient, language: l }), text: translate(l, 'link.resubscribe') }
        : undefined;
      return { ...this.#page(l, `link.done.${c.action}`, { recipient: c.recipient }, 200, again), audit: audit(c.action === 'subscribe' ? 'subscribed' : 'unsubscribed') };
    }
    const act: Record<ReportAction, (qid: string, to: string[]) => Promise<string[]>> = {
      release: (q, to) => this.#deps.actions.release(q, to),
      'release-train': (q, to) => this.#deps.actions.releaseAndTrain(q, to),
      'allow-release': (q, to) => this.#deps.actions.allowSenderAndRelease(q, to),
      'block-delete': (q, to) => this.#deps.actions.blockSenderAndDelete(q, to),
      delete: (q, to) => this.#deps.actions.delete(q, to),
    };
    try {
      await act[c.action as ReportAction](c.message, [c.recipient]);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      return { ...this.#page(l, 'link.error.failed', { detail }, 500), audit: audit(`failed: ${detail}`) };
    }
    await this.store.useToken(id, c.expiresAt, c.recipient, this.#now());
    const action = translate(l, `quarantine.action.${c.action}` as MessageKey);
    return { ...this.#page(l, 'link.done', { action, recipient: c.recipient }, 200), audit: audit('done') };
  }

  // ---- Notices -----------------------------------------------------------------------------

  /**
   * Outbound mail was quarantined: tell the sending domain's contact (a compromised account
   * sends a burst), at most once per `reports.noticeMinutes` per domain.
   */
  outboundQuarantined(log: MessageLogRecord): Promise<boolean> {
    const next = this.#notices.then(() => this.#outboundNotice(log));
    this.#notices = next.catch(() => undefined);
    return next;
  }

  async #outboundNotice(log: MessageLogRecord): Promise<boolean> {
    const cfg = this.#deps.config();
    const d = this.#domain(domainOf(log.mailFrom || log.client?.authUser || ''));
    const to = d?.reports.contact ?? cfg.postmaster;
    if (!to) return false;
    const key = d ? d.name : '*';
    if (!await this.store.takeNotice('outbound', key, cfg.reports.noticeMinutes * 60_000, this.#now())) return false;
    const l: Language = d?.reports.digest.language ?? cfg.console.language;
    const held = log.recipients.filter((r) => r.status === 'quarantined');
    const text = translate(l, 'notice.outbound.text', {
      hostname: cfg.hostname, domain: key, sender: log.mailFrom || '<>', recipients: held.map((r) => r.address).join(', '),
      subject: log.subject ?? '', class: [...new Set(held.map((r) => r.mainClass ?? ''))].join(', '),
      client: log.client ? `${log.client.hostname || 'unknown'}[${log.client.ip}]${log.client.authUser ? ` (${log.client.authUser})` : ''}` : '', minutes: cfg.reports.noticeMinutes,
    });
    const subject = translate(l, 'notice.outbound.subject', { domain: key });
    const raw = await this.#compose(to, { subject, text });
    await this.#deps.send(raw, [to], 'notice: outbound mail quarantined');
    return true;
  }
}
