// The message log's record: what one message (or one refused recipient) left in the log. Its own
// module because the indexes (log-index.ts) and the mail events read it as the log (message-log.ts)
// writes it, and the log uses the indexes.
import type { Direction } from '../message/message.ts';

export interface DeliveryAttempt {
  at: number;
  recipients: string[];
  host: string;
  port: number;
  /** SMTP reply code, or 0 when the destination could not be reached. */
  code: number;
  reply: string;
}

export type LogStatus = 'queued' | 'deferred' | 'delivered' | 'partially delivered' | 'bounced' |
  'quarantined' | 'deleted' | 'rejected' | 'tempfailed' | 'rejected at RCPT';

export interface LoggedRecipient {
  address: string;
  original: string;
  status: 'pending' | 'delivered' | 'bounced' | 'quarantined' | 'deleted' | 'rejected';
  mainClass?: string;
  /** Passed for delivery with its subject tagged (a rule's "tag" action for its class, SPF's, or a full quarantine's fullTag). */
  tagged?: true;
}

export interface MessageLogRecord {
  id: string;
  receivedAt: number;
  /** The box that received it (its host name), for logs gathered from several boxes. */
  server?: string;
  direction: Direction;
  client?: { ip: string; hostname: string; helo: string; authUser?: string; tls: boolean };
  mailFrom: string;
  recipients: LoggedRecipient[];
  size: number;
  messageId?: string;
  subject?: string;
  from?: string;
  /** What the filtering pipeline found (auth results, virus, lists, score and reasons). */
  findings?: unknown;
  /** The SMTP reply we gave to DATA. */
  reply?: string;
  attempts: DeliveryAttempt[];
  status: LogStatus;
  finishedAt?: number;
}
