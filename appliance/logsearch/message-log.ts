// The message log: one record per message we accepted (or refused at DATA), with the session it
// came from, its envelope, the verdicts, every delivery attempt with the remote's reply, and the
// final status. Keys are our message ids, which sort by time. The console searches these.
import { putOp, type BatchOp, type Store, type Sublevel } from '../store/store.ts';
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
  'quarantined' | 'deleted' | 'rejected' | 'tempfailed';

export interface LoggedRecipient {
  address: string;
  original: string;
  status: 'pending' | 'delivered' | 'bounced' | 'quarantined' | 'deleted' | 'rejected';
  mainClass?: string;
}

export interface MessageLogRecord {
  id: string;
  receivedAt: number;
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

export class MessageLog {
  #db: Sublevel<MessageLogRecord>;

  constructor(store: Store) {
    this.#db = store.sublevel<MessageLogRecord>('log');
  }

  /** Whether `position` can be a record's key (a message id), the resume point `newest` takes. */
  static isPosition(position: string): boolean {
    return /^[A-Za-z0-9._-]{1,200}$/.test(position);
  }

  /** A batch operation writing the record, so it commits atomically with the queue record. */
  putOp(record: MessageLogRecord): BatchOp {
    return putOp(this.#db, record.id, record);
  }

  put(record: MessageLogRecord): Promise<void> {
    return this.#db.put(record.id, record);
  }

  get(id: string): Promise<MessageLogRecord | undefined> {
    return this.#db.get(id);
  }

  /**
   * Newest first, optionally only the records older than the one with id `before` (ids sort by
   * time, so the console's paged search resumes where its last page ended).
   */
  async *newest(before?: string): AsyncGenerator<MessageLogRecord> {
    yield* this.#db.values({ reverse: true, ...(before === undefined ? {} : { lt: before }) });
  }
}

/** The overall status from the recipients' states. */
export function overallStatus(recipients: LoggedRecipient[]): LogStatus {
  const states = new Set(recipients.map((r) => r.status));
  if (states.has('pending')) return 'queued';
  if (states.size === 1) return [...states][0] as LogStatus;
  if (states.has('delivered')) return 'partially delivered';
  if (states.has('bounced')) return 'bounced';
  return states.has('quarantined') ? 'quarantined' : 'deleted';
}
