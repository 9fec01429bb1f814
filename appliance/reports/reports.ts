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
//
// Language: a mailbox whose console account chose a language gets its digest (and welcome) in it;
// other mailboxes get the domain's report language. Saved searches go in their owner's language.
// PDF: a report set to PDF is a short text mail with the report attached (pdf.ts); when the PDF
// cannot be made (the font is missing) the report goes as HTML and the log says what to install.
// The "extra table" lists what the message log shows refused at SMTP or deferred in the period.
import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config, Domain, ReportAction } from '../config/schema.ts';
import { servedDomain } from '../config/served-domains.ts';
import { domainContact } from '../policy/policy.ts';
import { translate, type Language, type MessageKey } from '../i18n/catalog.ts';
import type { MessageLogRecord } from '../logsearch/message-log.ts';
import type { QuarantineActions } from '../quarantine/actions.ts';
import type { Quarantine, QuarantineRecord } from '../quarantine/quarantine-store.ts';
import type { Store } from '../store/store.ts';
import { LinkSigner, singleUse, type LinkClaims } from './links.ts';
import { PdfUnavailable, renderPdf } from './pdf.ts';
import { linkPage, renderDigest, renderDomainReport, renderWelcome, formatTime, type RefusedItem, type Rendered, type ReportItem, type Totals } from './render.ts';
import { ownerScope, recipientsOutOfScope, renderSearchMail, searchCsv, SEARCH_MAIL_LIMIT, type LogSearch, type SavedSearch, type Scope, type SearchOwner } from './saved-searches.ts';
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
  /** The same bucket by bucket, for the domain report's graph. */
  timeline?: (domain: string, since: number, until: number) => Promise<{ at: number; unit: 'hour' | 'day'; totals: Totals }[]>;
  send: SendMail;
  /** The link key (links.ts loadLinkKey). */
  linkKey: Buffer;
  now?: () => number;
  /** The console's port, for the default link address. */
  consolePort?: () => number | undefined;
  /** The message log as the console searches it (saved searches, the extra table). */
  log?: LogSearch;
  /** A console account by id (saved searches run as their owner). */
  user?: (id: string) => Promise<SearchOwner | undefined>;
  /** The language a mailbox's console account chose, if it has one. */
  userLanguage?: (address: string) => Promise<Language | undefined>;
  /** The Japanese font for PDF reports (default pdf.ts JAPANESE_FONT). */
  pdfFont?: string;
  /** The daemon's log, for what an admin must fix (a PDF sent as HTML). */
  say?: (line: string) => void;
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
  /** Default: the domain report's format. */
  format?: 'html' | 'pdf';
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
    const language = await this.mailboxLanguage(address);
    const refused = s.extraTable ? await this.#refused({ address: lower(address) }, from, until) : undefined;
    const rendered = renderDigest({
      language, zone: this.#zone(d), hostname: this.#deps.config().hostname, address: lower(address), since: from, until,
      horizonDays: s.horizonDays, items: this.#items(held, d.reports.actions, language, expiresAt),
      openUrl: this.linkUrl({ message: '', action: 'open', recipient: address, language, expiresAt }),
      unsubscribeUrl: this.linkUrl({ message: '', action: 'unsubscribe', recipient: address, language, expiresAt }),
      linksUntil: expiresAt, ...(refused ? { refused } : {}),
    });
    return { ...rendered, count: held.length };
  }

  /** The mailbox's own language (its console account's), else its domain's digest language. */
  async mailboxLanguage(address: string): Promise<Language> {
    const own = await this.#deps.userLanguage?.(lower(address)).catch(() => undefined);
    return own ?? this.#domain(domainOf(address))?.reports.digest.language ?? this.#deps.config().console.language;
  }

  /** Mail refused at SMTP or deferred in [since, until) for a mailbox or domains, one row per recipient, oldest first. */
  async #refused(scope: Scope, since: number, until: number): Promise<RefusedItem[]> {
    const log = this.#deps.log;
    if (!log) return [];
    const seen = new Set<string>();
    const out: RefusedItem[] = [];
    for (const status of ['rejected at RCPT', 'rejected', 'tempfailed']) {
      let after: string | undefined;
      do {
        const page = await log.search({ scope, fields: { status }, match: 'all', mode: 'exact', from: since, to: until, limit: 500, after });
        for (const i of page.items) {
          if (seen.has(i.id) || !['rejected at RCPT', 'rejected', 'tempfailed'].includes(i.status)) continue;
          seen.add(i.id);
          for (const r of i.recipients) out.push({ at: Date.parse(i.receivedAt), from: i.from || i.sender, to: r.address, subject: i.subject, status: i.status, reply: i.reply ?? '' });
        }
        after = page.resume;
      } while (after !== undefined && out.length < SEARCH_MAIL_LIMIT);
    }
    return out.sort((a, b) => a.at - b.at).slice(0, SEARCH_MAIL_LIMIT);
  }

  /** The domain report for [since, until). */
  async domainReport(domainName: string, since: number, until: number, language: Language, withoutMessages: boolean, extraTable?: boolean): Promise<Rendered & { count: number }> {
    const d = this.#domain(domainName);
    if (!d) throw new Error(`${domainName} is not a served domain`);
    const held = await this.#held(d, since, until - 1);
    const expiresAt = this.#now() + this.#deps.config().reports.linkDays * 86_400_000;
    const totals = await this.#deps.totals?.(d.name, since, until) ?? { received: 0, delivered: 0, quarantined: 0, rejected: 0, spam: 0, virus: 0 };
    const refused = extraTable ?? d.reports.domain.extraTable ? await this.#refused({ domains: [d.name, ...d.aliases].map(lower) }, since, until) : undefined;
    const timeline = await this.#deps.timeline?.(d.name, since, until);
    const rendered = renderDomainReport({
      language, zone: this.#zone(d), hostname: this.#deps.config().hostname, domain: d.name, since, until, totals,
      held: held.length, items: withoutMessages ? undefined : this.#items(held, d.reports.actions, language, expiresAt), linksUntil: expiresAt,
      ...(refused ? { refused } : {}), ...(timeline ? { timeline } : {}),
    });
    return { ...rendered, count: held.length };
  }

  async #compose(to: string, r: Omit<Rendered, 'html'> & { html?: string }, extraHeaders: Record<string, string> = {},
    attachments: { filename: string; content: Buffer; contentType: string }[] = []): Promise<Buffer> {
    const cfg = this.#deps.config();
    const mail = new MailComposer({
      from: { name: 'Mailmoat', address: cfg.reports.sender ?? `mailer-daemon@${cfg.hostname}` },
      to, subject: r.subject, text: r.text, ...(r.html ? { html: r.html } : {}), date: new Date(this.#now()),
      ...(attachments.length ? { attachments } : {}),
      messageId: `<report.${randomBytes(8).toString('hex')}@${cfg.hostname}>`,
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All', ...extraHeaders },
    });
    return mail.compile().build();
  }

  /**
   * A report's mail in its format: HTML, or a short text with the PDF attached. A PDF that
   * cannot be made is logged with what to do, and the report goes as HTML: never a broken PDF.
   */
  async #reportMail(to: string, r: Rendered, format: 'html' | 'pdf', language: Language, name: string, headers: Record<string, string> = {}): Promise<Buffer> {
    if (format === 'pdf' && r.document) {
      try {
        const pdf = await renderPdf(r.document, this.#deps.pdfFont);
        const file = `${name}-${new Date(this.#now()).toISOString().slice(0, 10)}.pdf`;
        const text = `${r.document.paragraphs[0] ?? ''}\n\n${translate(language, 'report.pdf.attached', { file })}\n`;
        return await this.#compose(to, { subject: r.subject, text }, headers, [{ filename: file, content: pdf, contentType: 'application/pdf' }]);
      } catch (err) {
        if (!(err instanceof PdfUnavailable)) throw err;
        this.#deps.say?.(`<3>mailmoat: the PDF report "${r.subject}" to ${to} was sent as HTML instead: ${err.message}`);
      }
    }
    return this.#compose(to, r, headers);
  }

  async #sendDigest(address: string, since: number, until: number, skipEmpty: boolean): Promise<boolean> {
    const r = await this.digest(address, since, until);
    if (!r.count && skipEmpty) return false;
    const language = await this.mailboxLanguage(address);
    const unsubscribe = this.linkUrl({ message: '', action: 'unsubscribe', recipient: address, language });
    const raw = await this.#reportMail(address, r, this.#domain(domainOf(address))!.reports.digest.format, language, 'quarantine-report',
      { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    await this.#deps.send(raw, [address], 'quarantine digest');
    return true;
  }

  async #sendWelcome(d: Domain, address: string): Promise<void> {
    const language = await this.mailboxLanguage(address);
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
    const raw = await this.#reportMail(s.recipients.join(', '), r, s.format, s.language, `protection-report-${lower(d.name)}`);
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
    for (const search of await this.store.savedSearches()) {
      if (!this.#deps.user) break;
      const owner = await this.#deps.user(search.owner);
      // A deleted account's searches go with it; a disabled one's wait.
      if (!owner) await this.store.deleteSavedSearch(search.id);
      if (!owner || owner.disabled) continue;
      await this.#due(`search!${search.id}`, search.schedule, this.ownerZone(owner), now, async (_slot, last) => (await this.#runSearch(search, owner, last.ranAt, now)) ? 1 : 0);
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
    const format = req.format ?? this.#domain(req.domain)!.reports.domain.format;
    await this.#deps.send(await this.#reportMail(req.recipients.join(', '), r, format, req.language, `protection-report-${lower(req.domain)}`), req.recipients, 'domain protection report (sent now)');
    return { held: r.count };
  }

  // ---- Saved searches ----------------------------------------------------------------------

  /** A saved search's dates: its owner's domain's zone (the first, for a domain admin), else the appliance's. */
  ownerZone(owner: SearchOwner): string {
    const domain = owner.role === 'user' ? domainOf(owner.username) : owner.domains[0];
    const d = domain ? this.#domain(domain) : undefined;
    return d ? this.#zone(d) : this.#deps.config().time.timezone;
  }

  /**
   * Mails one saved search over the mail received in [since, until), as its owner may see it now,
   * to those of its recipients the owner may still mail. False when there is no one to mail.
   */
  async #runSearch(search: SavedSearch, owner: SearchOwner, since: number, until: number): Promise<boolean> {
    const log = this.#deps.log;
    const out = new Set(recipientsOutOfScope(owner, search.recipients));
    const to = search.recipients.filter((r) => !out.has(r));
    if (!log || !to.length) return false;
    const items = [];
    let after: string | undefined;
    let truncated = false;
    do {
      const page = await log.search({ scope: ownerScope(owner), fields: search.query.fields, match: search.query.match, mode: search.query.mode, from: since, to: until, limit: 500, after });
      items.push(...page.items);
      after = page.resume;
      if (items.length >= SEARCH_MAIL_LIMIT) { truncated = items.length > SEARCH_MAIL_LIMIT || after !== undefined; break; }
    } while (after !== undefined);
    items.splice(SEARCH_MAIL_LIMIT);
    const cfg = this.#deps.config();
    const file = `mailmoat-search-${new Date(until).toISOString().slice(0, 10)}.csv`;
    const r = renderSearchMail({ language: owner.language, zone: this.ownerZone(owner), hostname: cfg.hostname, name: search.name, since, until, items, truncated, format: search.format, file });
    const attachments = search.format === 'csv' ? [{ filename: file, content: searchCsv(items), contentType: 'text/csv; charset=utf-8' }] : [];
    const raw = await this.#compose(to.join(', '), search.format === 'csv' ? { subject: r.subject, text: r.text } : r, {}, attachments);
    await this.#deps.send(raw, to, 'saved search');
    return true;
  }

  /** "Send now": a saved search over the last period of its schedule (ending now). */
  async sendSavedSearch(id: string): Promise<{ sent: boolean }> {
    const search = await this.store.savedSearch(id);
    const owner = search && await this.#deps.user?.(search.owner);
    if (!search || !owner || owner.disabled) return { sent: false };
    const now = this.#now();
    return { sent: await this.#runSearch(search, owner, now - periodMs(search.schedule), now) };
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
    const to = d ? domainContact(cfg, d.name) : cfg.postmaster;
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
