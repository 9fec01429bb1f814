// Which recipients we take mail for. A recipient is ours when its domain is a served domain or
// one of its aliases; mailbox aliases then rewrite the address (alias@d → user@d), and the
// domain's verification mode decides whether the mailbox exists (accept-all, listed, callout).
import type { Config, Domain } from '../config/schema.ts';
import { servedDomain } from '../config/served-domains.ts';
import type { CalloutVerifier } from './callout.ts';

export interface ResolvedRecipient {
  /** The address mail is delivered to after domain and mailbox aliases. */
  address: string;
  original: string;
  domain: Domain;
}

export type RecipientDecision =
  | { kind: 'accept'; recipient: ResolvedRecipient }
  | { kind: 'not-served' }
  | { kind: 'unknown-user' }
  | { kind: 'tempfail'; reason: string };

export class RecipientPolicy {
  #config: Config;
  #mailboxAliases = new Map<string, string>();
  #callout: CalloutVerifier;

  constructor(config: Config, callout: CalloutVerifier) {
    this.#callout = callout;
    this.#config = config;
    for (const d of config.domains) {
      for (const a of d.mailboxAliases) this.#mailboxAliases.set(a.from.toLowerCase(), a.to);
    }
  }

  /** Maps an address through mailbox and domain aliases; undefined if the domain is not served. */
  resolve(original: string): ResolvedRecipient | undefined {
    let address = this.#mailboxAliases.get(original.toLowerCase()) ?? original;
    const at = address.lastIndexOf('@');
    const domain = at > 0 ? servedDomain(this.#config, address.slice(at + 1)) : undefined;
    if (!domain) return undefined;
    address = `${address.slice(0, at)}@${domain.name}`;
    address = this.#mailboxAliases.get(address.toLowerCase()) ?? address;
    return { address, original, domain };
  }

  async decide(original: string): Promise<RecipientDecision> {
    const recipient = this.resolve(original);
    if (!recipient) return { kind: 'not-served' };
    const verification = recipient.domain.recipients;
    if (verification.mode === 'listed') {
      const local = recipient.address.slice(0, recipient.address.lastIndexOf('@')).toLowerCase();
      const full = recipient.address.toLowerCase();
      const known = verification.addresses.some((a) => {
        const x = a.toLowerCase();
        return x.includes('@') ? x === full : x === local;
      });
      return known ? { kind: 'accept', recipient } : { kind: 'unknown-user' };
    }
    if (verification.mode === 'callout') {
      const answer = await this.#callout.verify(recipient.address, recipient.domain);
      if (answer.kind === 'valid') return { kind: 'accept', recipient };
      if (answer.kind === 'unknown') return { kind: 'unknown-user' };
      return { kind: 'tempfail', reason: answer.reason };
    }
    return { kind: 'accept', recipient };
  }
}
