// What accepting a message asks of the filtering pipeline before the SMTP session answers DATA:
// the reply to give and, per recipient, whether the message is delivered (with header edits),
// quarantined (already stored by the pipeline) or deleted. Without a filter every recipient is
// delivered as received.
import type { HeaderEdits } from '../message/message.ts';
import type { Disposition, MessageContext } from '../pipeline/message-context.ts';

/** What the filter is given: the pipeline's MessageContext (appliance/pipeline/message-context.ts). */
export type FilterInput = MessageContext;

export interface FilterOutcome {
  reply: { code: number; message: string };
  /** tagged: delivered with its subject tagged (a rule's or SPF's "tag" action, or a full quarantine's fullTag). */
  recipients: { address: string; disposition: Disposition; mainClass?: string; headerEdits?: HeaderEdits; tagged?: boolean }[];
  findings?: unknown;
}

export type MessageFilter = (input: FilterInput) => Promise<FilterOutcome>;

export const deliverAll: MessageFilter = async (input) => ({
  reply: { code: 250, message: 'queued' },
  recipients: input.recipients.map((r) => ({ address: r.address, disposition: 'deliver' })),
});
