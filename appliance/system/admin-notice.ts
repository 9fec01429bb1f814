// A notice mailed to the admin contact (disk thresholds and other alarms): a plain UTF-8 text
// message from the configured notice sender (reports.sender, default the appliance's
// mailer-daemon), sent with the null sender so it can never bounce.
import { randomBytes } from 'node:crypto';

export function adminNotice(o: { hostname: string; to: string; subject: string; text: string; from?: string }): Buffer {
  const subject = /^[\x20-\x7e]*$/.test(o.subject) ? o.subject : `=?UTF-8?B?${Buffer.from(o.subject).toString('base64')}?=`;
  return Buffer.from([
    `From: Mailmoat <${o.from ?? `mailer-daemon@${o.hostname}`}>`,
    `To: <${o.to}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
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
