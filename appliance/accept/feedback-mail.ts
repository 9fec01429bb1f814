// Spam and not-spam reports by mail: a mailbox user forwards a message to `spam@<box>` or
// `ham@<box>` (<box> = the appliance's host name), as an attachment (message/rfc822: each
// attached message is learnt) or redirected as it is (the message itself is learnt). The report
// must come through the submission listener — from a relay network or an authenticated client,
// i.e. the customer's own mail server relaying its user's mail, as it relays all its outbound
// mail — with an envelope sender in a served domain whose admin has not turned feedback off.
// Anything else addressed there is not learnt from (a stranger could otherwise teach the filter),
// and is not relayed either: a report address is never a real mailbox.
// Each report is learnt through the classifier's order-free lessons and audited. The copies for
// the report addresses are "deleted" (logged, never delivered); any other recipients of the same
// message go through the pipeline as usual.
import { simpleParser } from 'mailparser';
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.ts';
import { servedDomain } from '../config/served-domains.ts';
import { domainOf, feedbackEnabled } from '../policy/policy.ts';
import type { FilterInput, FilterOutcome, MessageFilter } from './message-filter.ts';

export interface FeedbackMailDeps {
  config: () => Config;
  /** The classifier's training: true when learnt, false when it already knew it with that label. */
  train: (raw: Buffer, label: 'spam' | 'ham') => Promise<boolean>;
  /** Writes the audit record of one report. */
  audit: (record: { actor: string; ip: string; domain: string; detail: Record<string, unknown> }) => Promise<void>;
}

/** 'spam' or 'ham' when the address is one of the appliance's report addresses. */
export function reportKind(cfg: Config, address: string): 'spam' | 'ham' | undefined {
  const at = address.lastIndexOf('@');
  if (at < 1 || address.slice(at + 1).toLowerCase() !== cfg.hostname.toLowerCase()) return undefined;
  const local = address.slice(0, at).toLowerCase();
  return local === 'spam' || local === 'ham' ? local : undefined;
}

/** The messages a report carries: its attached messages, or itself when it has none. */
async function reported(raw: Buffer): Promise<Buffer[]> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipHtmlToText: true, skipTextToHtml: true });
  const attached = parsed.attachments.filter((a) => a.contentType.toLowerCase() === 'message/rfc822').map((a) => a.content);
  return attached.length ? attached : [raw];
}

/** Wraps the filter: report recipients are handled here, the others by `filter`. */
export function withFeedbackMail(filter: MessageFilter, deps: FeedbackMailDeps): MessageFilter {
  return async (input: FilterInput): Promise<FilterOutcome> => {
    const cfg = deps.config();
    const reports = input.recipients.filter((r) => reportKind(cfg, r.address));
    if (!reports.length) return filter(input);
    const why = await learn(input, reports.map((r) => reportKind(cfg, r.address)!), cfg, deps);
    const rest = input.recipients.filter((r) => !reportKind(cfg, r.address));
    const outcome: FilterOutcome = rest.length ? await filter({ ...input, recipients: rest }) : { reply: { code: 250, message: 'queued' }, recipients: [] };
    return {
      ...outcome,
      recipients: [...outcome.recipients, ...reports.map((r) => ({ address: r.address, disposition: 'delete' as const, mainClass: 'Not Spam', why }))],
    };
  };
}

async function learn(input: FilterInput, kinds: ('spam' | 'ham')[], cfg: Config, deps: FeedbackMailDeps): Promise<string[]> {
  const reporter = input.mailFrom.toLowerCase();
  const domain = servedDomain(cfg, domainOf(reporter))?.name.toLowerCase();
  if (input.direction !== 'outbound') return ['a report must come through the submission listener (the customer\'s mail server): not learnt'];
  if (!domain) return [`the reporter ${reporter || '<>'} is not in a served domain: not learnt`];
  if (!feedbackEnabled(cfg, domain)) return [`reports are turned off for ${domain}: not learnt`];
  const messages = await reported(input.raw ?? await readFile(input.spoolPath));
  const why: string[] = [];
  for (const as of new Set(kinds)) {
    let learnt = 0;
    for (const m of messages) if (await deps.train(m, as)) learnt++;
    why.push(`${as} report from ${reporter}: ${learnt} of ${messages.length} message(s) learnt`);
    await deps.audit({ actor: reporter, ip: input.client.ip, domain, detail: { queueId: input.id, as, messages: messages.length, learnt, via: 'mail' } });
  }
  return why;
}
