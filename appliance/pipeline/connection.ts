// Connection findings into the score: what the SMTP session found about the client at RCPT — DNS
// list listings and HELO/reverse-DNS findings (smtp/screening.ts), each a named reason in
// spam-score points — is added to the classifier's score and shown among its reasons, so the
// verdict, the stamped X-Mailmoat-Reasons and the quarantine explain it like any other symbol.
// Without a score (no scorer, or scoring failed) there is nothing to add to: the findings stay in
// the message log only.
import type { ConnectionFindings, SpamFindings } from './message-context.ts';

export function withConnection(spam: SpamFindings, connection: ConnectionFindings | undefined): SpamFindings {
  if (!connection?.reasons.length || spam.classHint === 'Unknown') return spam;
  const added = connection.reasons.reduce((sum, r) => sum + r.contribution, 0);
  return {
    ...spam,
    score: Math.min(100, Math.max(0, spam.score + added)),
    reasons: [...spam.reasons, ...connection.reasons],
  };
}
