// A notice mailed to the admin contact (disk thresholds and other alarms): a plain UTF-8 text
// message from the configured notice sender (reports.sender, default the appliance's
// mailer-daemon), sent with the null sender so it can never bounce.
import { randomBytes } from 'node:crypto';
import { encodeEncodedWords } from '../message/encoded-words.ts';
import { mailDate } from '../message/mail-date.ts';

export function adminNotice(o: { hostname: string; to: string; subject: string; text: string; from?: string }): Buffer {
  const subject = encodeEncodedWords(o.subject);
  return Buffer.from([
    `From: Mailmoat <${o.from ?? `mailer-daemon@${o.hostname}`}>`,
    `To: <${o.to}>`,
    `Subject: ${subject}`,
    `Date: ${mailDate()}`,
    `Message-ID: <notice.${randomBytes(8).toString('hex')}@${o.hostname}>`,
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    o.text.replace(/\r?\n/g, '\r\n'),
    '',
  ].join('\r\n'), 'utf8');
}
