// The words every part of the mail path uses about one message, kept below all of them so the
// imports run one way (smtp → accept → spool, pipeline → quarantine, delivery → store): which way
// it travels, the class a verdict gives it and the named reasons behind it, and the header edits
// its relayed copy gets. The modules that decide these (pipeline/) and the ones that carry them out
// (quarantine/, delivery/) import them from here rather than from each other.
import type { MailDirection } from '../config/schema.ts';

/** A queued message's way: the configuration's mail direction, or a bounce we made. */
export type Direction = MailDirection | 'bounce';

export type MainClass =
  | 'Not Spam' | 'Whitelisted' | 'Blacklisted' | 'Spam' | 'Phish' | 'Virus' | 'Unsure' | 'Unknown' | 'Error'
  | 'False-positive' | 'False-negative'
  /** Deferred at RCPT by greylisting (smtp/greylist.ts); a message log class, never a verdict's. */
  | 'Greylist'
  /** Held because an admin locked its sender or recipient (the lock lists). */
  | 'Locked';

/** One named contribution to a verdict (a scorer reason, a list hit, an auth result). */
export interface Reason {
  name: string;
  contribution: number;
  /** What was seen, in English (logs, the CLI, the stamped header's readers). */
  detail?: string;
  /** The values of the reason's sentence, for rendering it in the reader's language (i18n/reasons.ts). */
  params?: Record<string, string>;
}

/**
 * What the relayed copy gets changed, applied while streaming (delivery/message-stream.ts): the
 * spool file itself is never rewritten, so one copy serves recipients whose verdicts differ.
 */
export interface HeaderEdits {
  prepend: [name: string, value: string][];
  subjectPrefix?: string;
  /** Fields taken out of the message (names, any case): copies of our stamps a sender made up. */
  remove?: string[];
  /** Authentication-Results fields naming this authserv-id are taken out too (RFC 8601 section 5). */
  removeAuthResultsOf?: string;
}
