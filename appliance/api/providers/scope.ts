// Scope tests shared by the provider adapters: whether a mailbox address or a domain lies within
// what the caller may see (everything, some domains, or one mailbox).
import type { Scope } from './interfaces.ts';

export function domainOfAddress(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export function addressInScope(scope: Scope, address: string): boolean {
  if ('all' in scope) return true;
  const a = address.toLowerCase();
  if ('domains' in scope) return scope.domains.includes(domainOfAddress(a));
  return scope.address.toLowerCase() === a;
}

/** A domain-level item (a domain's list) is visible to the admin and that domain's admins only. */
export function domainInScope(scope: Scope, domain: string): boolean {
  if ('all' in scope) return true;
  return 'domains' in scope && scope.domains.includes(domain.toLowerCase());
}

/** ISO date-time (or date) to ms; undefined when absent or not a date. */
export function msOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}
