// The contract between the mail path and the filtering pipeline.
//
// Accepting a message (appliance/accept/) spools it, builds a MessageContext and calls
// `pipeline.run(ctx)` before the SMTP session answers DATA. The pipeline never modifies the spool file: what it wants changed in the relayed copy
// comes back as HeaderEdits per recipient, which the delivery path applies while streaming. Every
// stage adds what it found to `Findings`, so the message log and the quarantine can show *why* a
// message got its class (the same idea as rspamd's named symbols).
import type { ParsedMessage } from '../classifier/index.ts';
import type { MailDirection } from '../config/schema.ts';
import type { HeaderEdits, MainClass, Reason } from '../message/message.ts';

export interface MessageContext {
  /** Our queue id. */
  id: string;
  direction: MailDirection;
  /** ms since the epoch. */
  receivedAt: number;
  /** The raw message as received (our Received header first). Read it, never modify it. */
  spoolPath: string;
  /** The same bytes, when the session kept them while spooling (saves reading the file back). */
  raw?: Buffer;
  size: number;
  client: { ip: string; hostname: string; helo: string; authUser?: string };
  /** '' is the null sender. */
  mailFrom: string;
  /** `address` after alias mapping; `domain` is the served domain name ('' for outbound). */
  recipients: { address: string; original: string; domain: string }[];
  /** What the SMTP session found about the client at RCPT (DNS lists, HELO/reverse DNS), inbound only. */
  connection?: ConnectionFindings;
}

/**
 * The session's connection-time findings (appliance/smtp/screening.ts): each listing or HELO/rDNS
 * finding is a named reason in spam-score points, added to the message's score (connection.ts).
 */
export interface ConnectionFindings {
  reasons: Reason[];
  /** DNS list zones that did not answer in time, left out. */
  unanswered: string[];
}


export type Disposition = 'deliver' | 'quarantine' | 'delete' | 'reject';

export interface RecipientOutcome {
  address: string;
  disposition: Disposition;
  mainClass: MainClass;
  headerEdits: HeaderEdits;
  /** Its subject is tagged (a rule's or SPF's "tag" action, or a full quarantine's fullTag): delivered, but marked. */
  tagged?: boolean;
  /** Why this recipient got its class and disposition, in words an admin reads in the log. */
  why: string[];
}

export interface ParseFindings {
  ok: boolean;
  /** Set when the message could not be parsed; the message then gets class Error. */
  error?: string;
  subject: string;
  fromAddress: string;
  messageId: string;
  attachments: { filename: string; contentType: string; size: number }[];
}

export type AuthVerdict = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy' | string;

export interface AuthFindings {
  spf: { result: AuthVerdict; domain: string; ng: boolean };
  dkim: { result: AuthVerdict; domain: string; selector: string; aligned: boolean }[];
  dmarc: { result: AuthVerdict; policy: string; domain: string } | null;
  arc: { result: AuthVerdict };
  /** The From header's domain, as DMARC saw it. */
  fromDomain: string;
  /** Authentication-Results and Received-SPF, ready to prepend. */
  headers: [name: string, value: string][];
  error?: string;
}

export interface AntivirusFindings {
  status: 'clean' | 'infected' | 'failed' | 'skipped';
  virus?: string;
  error?: string;
}

export interface ListHit {
  kind: string;
  scope: 'domain' | 'address' | 'appliance';
  owner: string;
  entryId: string;
  value: string;
}

export interface SpamFindings {
  score: number;
  classHint: 'Spam' | 'Phish' | 'Unsure' | 'Not Spam' | 'Unknown';
  reasons: Reason[];
  error?: string;
}

export interface Findings {
  parse?: ParseFindings;
  auth?: AuthFindings;
  antivirus?: AntivirusFindings;
  /** List hits by recipient address. */
  lists: Record<string, ListHit | undefined>;
  spam?: SpamFindings;
  /** The session's DNS list and HELO/reverse-DNS findings, as the SMTP session handed them over. */
  connection?: ConnectionFindings;
  /** Set (to the limit, in bytes) when the message was too large to scan: see filtering.oversize. */
  oversize?: number;
  /** Milliseconds each stage took, for the benchmarks and the log. */
  timings: Record<string, number>;
}

export interface PipelineOutcome {
  /** What the SMTP session answers to DATA: 250 accept, 451 tempfail, 550/554 reject. */
  reply: { code: number; message: string };
  /** Only meaningful when reply.code is 250. */
  recipients: RecipientOutcome[];
  findings: Findings;
  /** Set when at least one copy went to the quarantine (it is durable when run() returns). */
  quarantineId?: string;
}

/** What the stages share for one message: read once, parsed once. */
export interface StageContext {
  msg: MessageContext;
  raw: Buffer;
  /** The message's one parse (the parse stage's), read by the later stages. */
  mime?: ParsedMessage;
  /** Lower-case names of the headers whose values the condition lists need (default: all). */
  headerNames?: readonly string[];
  /** Their decoded values, by name, from the parse stage. */
  headers?: Record<string, string[]>;
  findings: Findings;
}
