// The console's view of the quarantine quotas: each mailbox's and domain's use against its limits,
// within the caller's scope (a mailbox user sees their own mailbox; a domain admin their domains
// and the mailboxes in them that hold something; the admin every served domain).
import type { Config } from '../../config/schema.ts';
import type { Quarantine } from '../../quarantine/quarantine-store.ts';
import type { QuarantineQuota } from '../../quarantine/quota.ts';
import type { QuotaProvider, QuotaUsage } from './interfaces.ts';
import { addressInScope, domainInScope } from './scope.ts';

export function quotaProvider(quarantine: Quarantine, quota: QuarantineQuota, config: () => Config): QuotaProvider {
  return {
    async usage(scope) {
      const row = (name: string, s: { usage: { messages: number; bytes: number }; limit: { maxMessages: number; maxBytes: number }; percent: number }): QuotaUsage =>
        ({ name, ...s.usage, ...s.limit, percent: Math.round(s.percent * 10) / 10 });
      if ('address' in scope) {
        const domain = scope.address.slice(scope.address.lastIndexOf('@') + 1);
        return { mailboxes: [row(scope.address, quota.status(domain, scope.address).mailbox!)], domains: [] };
      }
      const domains = config().domains.map((d) => d.name.toLowerCase()).filter((d) => domainInScope(scope, d));
      const mailboxes = quarantine.usages('mailbox').map(([address]) => address)
        .filter((a) => addressInScope(scope, a) && domains.includes(a.slice(a.lastIndexOf('@') + 1)))
        .sort()
        .map((a) => row(a, quota.status(a.slice(a.lastIndexOf('@') + 1), a).mailbox!));
      return { mailboxes, domains: domains.map((d) => row(d, quota.status(d).domain)) };
    },
  };
}
