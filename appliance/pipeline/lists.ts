// Stage 4, lists: which allow/block/condition entry (if any) decides for one recipient.
//
// Two levels are looked at — the address-level lists and the domain-level lists — in the order of
// the domain's priority mode ("address-first" or "domain-first"), then the appliance-wide lists the
// appliance admin keeps for every domain (last, so a domain or mailbox can make its own exception);
// the first level with a hit decides. Inbound, the levels belong to the recipient (its address, its served domain);
// outbound, to the sender, our user (its address, its domain). Within one level the kinds are
// tried from the most to the least severe, so a block beats an allow set at the same level:
//   recipient-block, condition-block, sender-block, recipient-lock, sender-lock,
//   condition-quarantine, recipient-allow, condition-allow, sender-allow
// (a lock is an admin holding everything from or to an address: an allow at its level cannot free it).
import type { MailDirection } from '../config/schema.ts';
import type { ListHit, ParseFindings } from './message-context.ts';
import {
  APPLIANCE_OWNER, normalizeAddressOrDomain, normalizeText,
  type ListEntry, type ListScope, type ListKind, type ListsStore,
} from '../lists/lists-store.ts';

export type ListEffect = 'refuse' | 'delete' | 'block' | 'lock' | 'quarantine' | 'allow';
export type PriorityMode = 'address-first' | 'domain-first';

const ORDER: [ListKind, ListEffect][] = [
  ['recipient-block', 'refuse'],
  ['condition-block', 'delete'],
  ['sender-block', 'block'],
  ['recipient-lock', 'lock'],
  ['sender-lock', 'lock'],
  ['condition-quarantine', 'quarantine'],
  ['recipient-allow', 'allow'],
  ['condition-allow', 'allow'],
  ['sender-allow', 'allow'],
];

/** What the lists can see of a message. */
export interface MessageFacts {
  envelopeFrom: string;
  fromHeader: string;
  subject: string;
  /** Values of a named (lower-case) header, RFC 2047-decoded and unfolded (the parse stage's). */
  header(name: string): string[];
}

export function factsFrom(mailFrom: string, parse: ParseFindings | undefined, headers: Record<string, string[]> | undefined): MessageFacts {
  return {
    envelopeFrom: mailFrom.toLowerCase(),
    fromHeader: parse?.fromAddress ?? '',
    subject: parse?.subject ?? '',
    header: (name) => headers?.[name] ?? [],
  };
}

/** Does an entry value (an address, or a domain covering its subdomains) match the address? */
export function addressMatches(value: string, address: string): boolean {
  const a = address.toLowerCase();
  if (!a) return false;
  if (value.includes('@')) return a === value;
  const domain = a.slice(a.lastIndexOf('@') + 1);
  return domain === value || domain.endsWith('.' + value);
}

function textMatches(entry: ListEntry, text: string): boolean {
  const want = normalizeText(entry.value);
  const have = normalizeText(text);
  return entry.mode === 'exact' ? have === want : have.includes(want);
}

function entryMatches(e: ListEntry, facts: MessageFacts, recipient: string): boolean {
  switch (e.kind) {
    case 'sender-allow': case 'sender-block': case 'sender-lock': return addressMatches(e.value, facts.envelopeFrom);
    case 'recipient-allow': case 'recipient-block': case 'recipient-lock': return addressMatches(e.value, recipient);
    default:
      switch (e.field) {
        case 'envelope-from': return addressMatches(e.value, facts.envelopeFrom);
        case 'from-header': return addressMatches(e.value, facts.fromHeader);
        case 'subject': return textMatches(e, facts.subject);
        case 'header': return facts.header(e.header ?? '').some((v) => textMatches(e, v));
        default: return false;
      }
  }
}

export interface ListQuestion {
  direction: MailDirection;
  recipient: string;
  /** Inbound: the recipient's served domain. Outbound: ignored (the sender's domain is used). */
  recipientDomain: string;
  priority: PriorityMode;
  /** Only these kinds (e.g. recipient-block at RCPT time). */
  kinds?: ListKind[];
}

export interface ListDecision {
  effect: ListEffect;
  hit: ListHit;
}

/** The deciding list entry for one recipient of a message, or undefined when no list matches. */
export function decideLists(lists: ListsStore, facts: MessageFacts, q: ListQuestion): ListDecision | undefined {
  const owner = q.direction === 'inbound' ? normalizeAddressOrDomain(q.recipient) : facts.envelopeFrom;
  const ownerDomain = q.direction === 'inbound'
    ? normalizeAddressOrDomain(q.recipientDomain || owner.slice(owner.lastIndexOf('@') + 1))
    : owner.slice(owner.lastIndexOf('@') + 1);
  const levels: [ListScope, string][] = [['address', owner], ['domain', ownerDomain]];
  if (q.priority === 'domain-first') levels.reverse();
  levels.push(['appliance', APPLIANCE_OWNER]);
  const order = q.kinds ? ORDER.filter(([k]) => q.kinds!.includes(k)) : ORDER;
  for (const [scope, who] of levels) {
    if (!who || (scope === 'address' && !who.includes('@'))) continue;
    for (const [kind, effect] of order) {
      for (const e of lists.list({ direction: q.direction, kind, scope, owner: who })) {
        if (entryMatches(e, facts, q.recipient)) {
          return { effect, hit: { kind, scope, owner: who, entryId: e.id, value: e.field ? `${e.field}${e.header ? `(${e.header})` : ''}: ${e.value}` : e.value } };
        }
      }
    }
  }
  return undefined;
}
