// Retention and quota enforcement, one job: a held copy older than its recipient's retention
// (`retentionDays` of the mailbox, else its domain, else `filtering.quarantine.retentionDays`;
// 1–30, default 30; appliance/policy/) is deleted, and a message goes with its file once no copy
// is held. Then mailboxes and domains over their quarantine quota (lowered since their mail came)
// lose their oldest copies until they fit, and warnings of those now below the warning level are
// re-armed. The job runs at start and then hourly, and says what it removed; it also removes
// message files left without a record by a crash between storing the file and writing its record.
import type { ConfigService } from '../config/config-service.ts';
import type { Config } from '../config/schema.ts';
import { retentionDaysFor, shortestRetentionDays } from '../policy/policy.ts';
import type { Quarantine } from './quarantine-store.ts';
import type { QuarantineQuota } from './quota.ts';

const DAY = 24 * 60 * 60 * 1000;

export interface Purged {
  /** Messages removed whole (no copy held any more). */
  messages: number;
  /** Copies deleted for their age. */
  copies: number;
  orphans: number;
  /** Copies deleted because their mailbox or domain was over its quota. */
  overQuota: { level: 'mailbox' | 'domain'; name: string; copies: number; bytes: number }[];
}

async function expire(quarantine: Quarantine, shortest: number, daysOf: (domain: string, address: string) => number, now: number): Promise<{ messages: number; copies: number }> {
  const candidates = [];
  for await (const r of quarantine.olderThan(now - shortest * DAY)) candidates.push(r);
  let messages = 0;
  let copies = 0;
  for (const r of candidates) {
    const expired = r.recipients.filter((c) => c.state === 'held' && r.quarantinedAt < now - daysOf(c.domain, c.address) * DAY);
    if (!expired.length) continue;
    copies += expired.length;
    if (await quarantine.settle(r.id, expired.map((c) => c.address), 'deleted') === undefined) messages++;
  }
  return { messages, copies };
}

/** Deletes what is older than `retentionDays` for every copy alike, and orphaned files. */
export async function purgeExpired(quarantine: Quarantine, retentionDays: number, now = Date.now()): Promise<{ messages: number; orphans: number }> {
  const { messages } = await expire(quarantine, retentionDays, () => retentionDays, now);
  return { messages, orphans: await quarantine.removeOrphans(now - DAY) };
}

/** One run of the job: each copy's own retention, then the quotas, then orphaned files. */
export async function runRetention(quarantine: Quarantine, cfg: Config, now = Date.now(), quota?: QuarantineQuota): Promise<Purged> {
  const { messages, copies } = await expire(quarantine, shortestRetentionDays(cfg), (domain, address) => retentionDaysFor(cfg, domain, address), now);
  const overQuota = quota ? await quota.enforce() : [];
  await quota?.rearm();
  return { messages, copies, orphans: await quarantine.removeOrphans(now - DAY), overQuota };
}

/** Starts the hourly job; returns a function that stops it. Errors go to `onError`, the job keeps running. */
export function startRetention(quarantine: Quarantine, config: ConfigService, onError: (err: Error) => void, intervalMs = 60 * 60 * 1000,
  opts: { quota?: QuarantineQuota; say?: (line: string) => void } = {}): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const done = await runRetention(quarantine, config.current, Date.now(), opts.quota);
      if (done.copies || done.orphans) opts.say?.(`mailmoat: quarantine retention removed ${done.copies} expired copies (${done.messages} messages whole) and ${done.orphans} orphaned files`);
      for (const q of done.overQuota) opts.say?.(`mailmoat: quarantine quota removed the ${q.copies} oldest copies (${q.bytes} bytes) of the ${q.level} ${q.name}: over its quota`);
    } catch (err) {
      onError(err as Error);
    } finally {
      running = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
