// The queue record: the durable promise we made when we answered 250. It lives in the `queue`
// sublevel (owned by queue.ts) beside the message file in <data>/spool until every recipient
// reached a final state (delivered, bounced, quarantined or deleted); then both are removed.
import type { Direction, HeaderEdits } from '../message/message.ts';

export type RecipientStatus = 'pending' | 'delivered' | 'bounced' | 'quarantined' | 'deleted';

export interface QueuedRecipient {
  /** Where the message goes (after aliases). */
  address: string;
  /** What the client sent in RCPT TO. */
  original: string;
  /** Served domain name for inbound mail; '' for outbound. */
  domain: string;
  status: RecipientStatus;
  headerEdits?: HeaderEdits;
  attempts: number;
  nextAttemptAt: number;
  lastReply?: string;
}

export interface QueueRecord {
  id: string;
  direction: Direction;
  receivedAt: number;
  expiresAt: number;
  /** '' is the null sender (bounces). */
  mailFrom: string;
  size: number;
  /** File name of the message under <data>/spool. */
  file: string;
  recipients: QueuedRecipient[];
}

export const isFinal = (r: QueuedRecipient) => r.status !== 'pending';
