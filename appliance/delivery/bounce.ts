// Delivery status notifications (RFC 3464): when a recipient is refused for good or the message
// outlives the queue lifetime, the sender gets one report naming each failed recipient with the
// remote's reply, and the original headers. Never sent for the null sender or for a bounce.
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { mailDate } from '../message/mail-date.ts';

export interface FailedRecipient {
  address: string;
  original: string;
  status: string; // enhanced status, e.g. 5.1.1
  diagnostic: string; // the remote's reply or our reason
  remoteHost?: string;
}

const HEADER_LIMIT = 64 * 1024;

export async function buildBounce(opts: {
  hostname: string;
  postmaster: string;
  sender: string;
  messageFile: string;
  queueId: string;
  receivedAt: number;
  failed: FailedRecipient[];
}): Promise<Buffer> {
  const headers = await readHeaders(opts.messageFile);
  const boundary = `mm-${randomBytes(12).toString('hex')}`;
  const date = mailDate();
  const lines = opts.failed.map((f) => `  <${f.original}>${f.original !== f.address ? ` (delivered as <${f.address}>)` : ''}: ${f.diagnostic}`);
  const human = [
    `This is the mail system at ${opts.hostname}.`,
    '',
    'Your message could not be delivered to one or more recipients. It was not delivered to:',
    '',
    ...lines,
    '',
    `Queue id: ${opts.queueId}`,
  ].join('\r\n');
  const perRecipient = opts.failed.map((f) => [
    `Final-Recipient: rfc822; ${f.address}`,
    ...(f.original !== f.address ? [`Original-Recipient: rfc822; ${f.original}`] : []),
    'Action: failed',
    `Status: ${f.status}`,
    ...(f.remoteHost ? [`Remote-MTA: dns; ${f.remoteHost}`] : []),
    `Diagnostic-Code: smtp; ${f.diagnostic.replace(/[\r\n]+/g, ' ')}`,
  ].join('\r\n')).join('\r\n\r\n');
  const message = [
    `From: Mail Delivery System <${opts.postmaster}>`,
    `To: <${opts.sender}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${date}`,
    `Message-ID: <${opts.queueId}.bounce.${randomBytes(4).toString('hex')}@${opts.hostname}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    human,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${opts.hostname}`,
    `Arrival-Date: ${mailDate(opts.receivedAt)}`,
    '',
    perRecipient,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    headers.replace(/\r?\n/g, '\r\n').trimEnd(),
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return Buffer.from(message, 'utf8');
}

/** Enhanced status for a reply: the one the remote gave, or one derived from the code. */
export function enhancedStatus(code: number, reply: string): string {
  const m = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply);
  if (m) return m[1];
  return code >= 500 ? '5.0.0' : '4.0.0';
}

async function readHeaders(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(HEADER_LIMIT);
    const { bytesRead } = await handle.read(buf, 0, HEADER_LIMIT, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    const end = text.search(/\r?\n\r?\n/);
    return end >= 0 ? text.slice(0, end) : text;
  } finally {
    await handle.close();
  }
}
