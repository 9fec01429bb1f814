// Roles and scope: who may act on what. Three roles exist — the appliance admin (everything), the
// domain admin (only the domains listed on the account) and the mailbox user (only their own
// address). Every API route names the roles it admits and the targets a request touches; the
// guard (guard.ts) checks both with the functions here, so the rules live in one place.

export type Role = 'admin' | 'domain-admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'domain-admin', 'user'];

/** The authenticated caller of one request. */
export interface Principal {
  userId: string;
  username: string;
  role: Role;
  /** Domains a domain admin manages (lower case); empty for the other roles. */
  domains: string[];
  /** The mailbox of a mailbox user (lower case). */
  address?: string;
  language: 'ja' | 'en';
  /** 'link': a mailbox session opened from a report's signed link, with no account behind it. */
  via: 'session' | 'token' | 'link';
  /** For API tokens: read-only tokens may only use GET. */
  tokenAccess?: 'read' | 'write';
  tokenName?: string;
}

/** Something a request acts on: a whole domain, one mailbox, or the appliance itself. */
export type Target = { domain: string } | { address: string } | { system: true };

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Whether the principal may act on the target. */
export function canReach(p: Principal, target: Target): boolean {
  if (p.role === 'admin') return true;
  if ('system' in target) return false;
  if ('domain' in target) return p.role === 'domain-admin' && p.domains.includes(target.domain.toLowerCase());
  const address = target.address.toLowerCase();
  if (p.role === 'domain-admin') return p.domains.includes(domainOf(address));
  return p.address === address;
}

/** The domains whose data the principal may see: 'all' for the admin. */
export function visibleDomains(p: Principal): 'all' | string[] {
  return p.role === 'admin' ? 'all' : p.role === 'domain-admin' ? p.domains : [domainOf(p.address ?? '')];
}

export function actorName(p: Principal | null): string {
  if (!p) return 'anonymous';
  return p.via === 'token' ? `${p.username} (token ${p.tokenName ?? ''})` : p.username;
}
