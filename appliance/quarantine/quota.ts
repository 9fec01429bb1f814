// Quarantine quotas: how much one mailbox and one domain may hold (bytes and messages, from
// appliance/policy/), what happens to a copy that does not fit, and the warning at
// `policy.quota.warnPercent`.
//   - A copy that would take its mailbox or its domain past a limit does not go in. The admin
//     chose what happens instead (`policy.quota.whenFull`): it is delivered with `fullTag` added
//     to its subject, or the whole message is answered 452 so the sender retries later. Never a
//     silent drop. A virus is held whatever the quota (delivering it is no answer to a full box).
//   - Crossing the warning level mails the mailbox user (mailbox quota) and the domain's contact
//     (both quotas) once; the warning is re-armed when use falls below the level again. The
//     outstanding warnings are kept in the quarantine's store, so a restart does not repeat them.
//   - `enforce` removes the oldest held copies of a mailbox or domain that is over its limit
//     (after the admin lowered it); the retention job runs it and logs what it removed.
import type { Config } from '../config/schema.ts';
import type { HeaderEdits } from '../message/message.ts';
import { domainContact, domainOf, quotaFor } from '../policy/policy.ts';
import type { Quarantine, QuarantineRecord, Usage, UsageLevel } from './quarantine-store.ts';

export interface QuotaDeps {
  quarantine: Quarantine;
  config: () => Config;
  /** Mails a notice (the disk watcher's notice path); failures are reported, not thrown. */
  notify: (to: string[], subject: string, text: string) => Promise<void>;
  say?: (line: string) => void;
}

/** What the pipeline is deciding (its MessageContext and RecipientOutcome, as far as quotas read them). */
export interface QuotaMessage { direction: 'inbound' | 'outbound'; size: number; recipients: { address: string; domain: string }[] }
export interface QuotaOutcome { address: string; disposition: string; mainClass: string; headerEdits: HeaderEdits; tagged?: boolean; why: string[] }

export interface Limit { maxBytes: number; maxMessages: number }

/** Percent of the limit used (the larger of bytes and messages); 0 with no limit. */
export function percentUsed(u: Usage, l: Limit): number {
  return Math.max(l.maxBytes > 0 ? (u.bytes / l.maxBytes) * 100 : 0, l.maxMessages > 0 ? (u.messages / l.maxMessages) * 100 : 0);
}

function fits(u: Usage, l: Limit, size: number): boolean {
  return (l.maxBytes === 0 || u.bytes + size <= l.maxBytes) && (l.maxMessages === 0 || u.messages + 1 <= l.maxMessages);
}

const over = (u: Usage, l: Limit) => (l.maxBytes > 0 && u.bytes > l.maxBytes) || (l.maxMessages > 0 && u.messages > l.maxMessages);

export class QuarantineQuota {
  readonly #deps: QuotaDeps;
  constructor(deps: QuotaDeps) {
    this.#deps = deps;
  }

  /** Usage and limits of a mailbox and of its domain. */
  status(domain: string, address?: string): { domain: { name: string; usage: Usage; limit: Limit; percent: number }; mailbox?: { address: string; usage: Usage; limit: Limit; percent: number } } {
    const q = quotaFor(this.#deps.config(), domain, address);
    const du = this.#deps.quarantine.usage('domain', domain);
    const out: ReturnType<QuarantineQuota['status']> = { domain: { name: domain.toLowerCase(), usage: du, limit: q.domain, percent: percentUsed(du, q.domain) } };
    if (address) {
      const mu = this.#deps.quarantine.usage('mailbox', address);
      out.mailbox = { address: address.toLowerCase(), usage: mu, limit: q.mailbox, percent: percentUsed(mu, q.mailbox) };
    }
    return out;
  }

  /**
   * Applies the quotas to the copies the pipeline is about to quarantine: each copy that does not
   * fit is delivered tagged instead (mutating its outcome), or the 452 reply is returned.
   */
  async admit(msg: QuotaMessage, outcomes: QuotaOutcome[]): Promise<{ code: number; message: string } | undefined> {
    const cfg = this.#deps.config();
    const { quarantine } = this.#deps;
    for (const o of outcomes) {
      if (o.disposition !== 'quarantine' || o.mainClass === 'Virus') continue;
      const domain = msg.recipients.find((r) => r.address === o.address)?.domain || domainOf(o.address);
      if (msg.direction !== 'inbound') continue;
      const q = quotaFor(cfg, domain, o.address);
      const mailboxFits = fits(quarantine.usage('mailbox', o.address), q.mailbox, msg.size);
      if (mailboxFits && fits(quarantine.usage('domain', domain), q.domain, msg.size)) continue;
      const which = mailboxFits ? `the domain ${domain}` : o.address;
      if (q.whenFull === 'tempfail') {
        return { code: 452, message: `4.2.2 The quarantine of ${which} is full, please try again later` };
      }
      o.disposition = 'deliver';
      o.tagged = true;
      o.headerEdits = { ...o.headerEdits, subjectPrefix: [q.fullTag, o.headerEdits.subjectPrefix].filter(Boolean).join(' ') };
      o.why = [...o.why, `the quarantine of ${which} is full (policy.quota): delivered with the subject tag ${q.fullTag} instead`];
    }
    return undefined;
  }

  /** After copies were stored: warns each mailbox and domain that crossed the warning level. */
  async stored(record: Pick<QuarantineRecord, 'recipients' | 'direction'>): Promise<void> {
    if (record.direction !== 'inbound') return;
    const held = record.recipients.filter((c) => c.state === 'held');
    for (const c of held) await this.#check('mailbox', c.address, c.domain || domainOf(c.address));
    for (const d of new Set(held.map((c) => (c.domain || domainOf(c.address)).toLowerCase()))) await this.#check('domain', d, d);
  }

  async #check(level: UsageLevel, name: string, domain: string): Promise<void> {
    const cfg = this.#deps.config();
    const q = quotaFor(cfg, domain, level === 'mailbox' ? name : undefined);
    const limit = level === 'mailbox' ? q.mailbox : q.domain;
    const usage = this.#deps.quarantine.usage(level, name);
    const pct = percentUsed(usage, limit);
    const warned = await this.#deps.quarantine.warned(level, name);
    if (pct < q.warnPercent) {
      if (warned) await this.#deps.quarantine.setWarned(level, name, false);
      return;
    }
    if (warned) return;
    // Marked first: a failing mail is reported, and not retried on every message that follows.
    await this.#deps.quarantine.setWarned(level, name, true);
    const contact = domainContact(cfg, domain);
    const to = [...new Set([...(level === 'mailbox' ? [name.toLowerCase()] : []), ...(contact ? [contact.toLowerCase()] : [])])];
    const what = level === 'mailbox' ? `the mailbox ${name}` : `the domain ${domain}`;
    const subject = `Quarantine of ${name} is ${Math.floor(pct)}% full`;
    const text = [
      `The quarantine of ${what} on ${cfg.hostname} is ${Math.floor(pct)}% full`,
      `(${usage.messages} messages, ${usage.bytes} bytes; limit ${limit.maxMessages || 'none'} messages, ${limit.maxBytes || 'none'} bytes).`,
      '',
      cfg.policy.quota.whenFull === 'tempfail'
        ? 'When it is full, new mail that would be held is refused for a while (452) until space is freed.'
        : `When it is full, mail that would be held is delivered with "${q.fullTag}" in its subject instead.`,
      'Release or delete held messages in the console to free space.',
    ].join('\n');
    this.#deps.say?.(`mailmoat: quarantine quota: ${what} at ${Math.floor(pct)}%, warning mailed to ${to.join(', ') || 'nobody (no contact)'}`);
    if (to.length) await this.#deps.notify(to, subject, text).catch((err: Error) => this.#deps.say?.(`mailmoat: quarantine quota warning to ${to.join(', ')} failed: ${err.message}`));
  }

  /** Re-arms the warnings of mailboxes and domains now below the level (after removals). */
  async rearm(): Promise<void> {
    const cfg = this.#deps.config();
    const done: { level: UsageLevel; name: string }[] = [];
    for await (const w of this.#deps.quarantine.warnings()) done.push(w);
    for (const w of done) {
      const domain = w.level === 'mailbox' ? domainOf(w.name) : w.name;
      const q = quotaFor(cfg, domain, w.level === 'mailbox' ? w.name : undefined);
      if (percentUsed(this.#deps.quarantine.usage(w.level, w.name), w.level === 'mailbox' ? q.mailbox : q.domain) < q.warnPercent) {
        await this.#deps.quarantine.setWarned(w.level, w.name, false);
      }
    }
  }

  /**
   * Removes the oldest held copies of every mailbox and domain over its limit until it fits.
   * Returns what was removed, per mailbox or domain, for the log.
   */
  async enforce(): Promise<{ level: UsageLevel; name: string; copies: number; bytes: number }[]> {
    const cfg = this.#deps.config();
    const { quarantine } = this.#deps;
    const removed: { level: UsageLevel; name: string; copies: number; bytes: number }[] = [];
    for (const level of ['mailbox', 'domain'] as const) {
      for (const [name] of quarantine.usages(level)) {
        const domain = level === 'mailbox' ? domainOf(name) : name;
        const q = quotaFor(cfg, domain, level === 'mailbox' ? name : undefined);
        const limit = level === 'mailbox' ? q.mailbox : q.domain;
        if (!over(quarantine.usage(level, name), limit)) continue;
        const oldest: QuarantineRecord[] = [];
        for await (const { record } of quarantine.walk(level === 'mailbox' ? { recipient: name } : { domain: name })) if (record) oldest.unshift(record);
        let copies = 0;
        let bytes = 0;
        for (const r of oldest) {
          if (!over(quarantine.usage(level, name), limit)) break;
          const mine = r.recipients.filter((c) => c.state === 'held' && (level === 'mailbox' ? c.address.toLowerCase() === name : (c.domain || domainOf(c.address)).toLowerCase() === name));
          if (!mine.length) continue;
          await quarantine.settle(r.id, mine.map((c) => c.address), 'deleted');
          copies += mine.length;
          bytes += r.size;
        }
        if (copies) removed.push({ level, name, copies, bytes });
      }
    }
    return removed;
  }
}
