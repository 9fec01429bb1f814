// The console's view of the delivery queue (appliance/delivery/queue.ts): its size for the
// dashboard, the messages waiting (paged, by recipient domain and state) and the admin's
// operations on one message. A domain admin sees and acts on the recipients their domains own:
// an inbound copy belongs to its recipient's served domain, relayed outbound mail to its sender's
// domain (bounces and notices go to a recipient of ours, so to that recipient's domain).
import type { DeliveryQueue, QueueOpResult, RecipientPick } from '../../delivery/queue.ts';
import type { QueueRecord, QueuedRecipient } from '../../delivery/queue-record.ts';
import { LocalizedError } from '../../i18n/server-messages.ts';
import type { QueueItem, QueueProvider, QueueState, Scope } from './interfaces.ts';
import { domainOfAddress } from './scope.ts';

/** The served domain a queued recipient belongs to, for scope. */
export function ownerDomain(record: QueueRecord, r: QueuedRecipient): string {
  if (record.direction === 'outbound') return domainOfAddress(record.mailFrom);
  return (r.domain || domainOfAddress(r.address)).toLowerCase();
}

function pickFor(scope: Scope): RecipientPick {
  if ('all' in scope) return () => true;
  if ('domains' in scope) return (record, r) => scope.domains.includes(ownerDomain(record, r));
  return () => false; // mailbox users have no queue (the route refuses them first)
}

const iso = (ms: number) => new Date(ms).toISOString();

export function queueProvider(queue: DeliveryQueue): QueueProvider {
  return {
    size: async () => queue.size(),
    async list(q) {
      const domain = q.domain?.toLowerCase();
      const matches: QueueItem[] = [];
      for (const v of queue.list(pickFor(q.scope))) {
        if (domain && !v.recipients.some((r) => domainOfAddress(r.address) === domain)) continue;
        const state: QueueState = v.running ? 'sending' : v.recipients.some((r) => r.attempts > 0) ? 'deferred' : 'new';
        if (q.state && q.state !== state) continue;
        const tried = v.recipients.filter((r) => r.attempts > 0 && r.lastReply);
        const lastError = tried.length ? tried.reduce((a, b) => (b.nextAttemptAt > a.nextAttemptAt ? b : a)).lastReply : undefined;
        matches.push({
          id: v.record.id, receivedAt: iso(v.record.receivedAt), direction: v.record.direction, sender: v.record.mailFrom,
          ...(v.subject !== undefined ? { subject: v.subject } : {}), size: v.record.size, state,
          recipients: v.recipients.map((r) => ({ address: r.address, attempts: r.attempts, ...(r.lastReply ? { lastError: r.lastReply } : {}), nextAttemptAt: iso(r.nextAttemptAt) })),
          ...(lastError ? { lastError } : {}),
          nextAttemptAt: iso(Math.min(...v.recipients.map((r) => r.nextAttemptAt))),
          expiresAt: iso(v.record.expiresAt),
        });
      }
      return { items: matches.slice(q.offset, q.offset + q.limit), total: matches.length };
    },
    async act(id, action, { scope, by }) {
      const inScope = pickFor(scope);
      const domains = new Set<string>();
      const pick: RecipientPick = (record, r) => inScope(record, r) && Boolean(domains.add(ownerDomain(record, r)));
      const result: QueueOpResult = action === 'retry' ? await queue.retryNow(id, pick)
        : action === 'bounce' ? await queue.bounceNow(id, pick, by)
        : await queue.remove(id, pick, by);
      if (result.kind === 'not-found') return undefined;
      if (result.kind === 'busy') throw new LocalizedError('queue.busy', { id });
      if (result.kind === 'null-sender') throw new LocalizedError('queue.null-sender', { id });
      return { affected: result.recipients, domains: [...domains].filter(Boolean) };
    },
  };
}
