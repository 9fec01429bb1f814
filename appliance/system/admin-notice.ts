// A notice mailed to the admin contact (disk thresholds and other alarms): a plain UTF-8 text
// message from the configured notice sender (reports.sender, default the appliance's
// mailer-daemon), sent with the null sender so it can never bounce. Alarms read in the console's
// language: a subject and an opening sentence from the catalog, then the module's own detail.
import { randomBytes } from 'node:crypto';
import { translate, type Language } from '../i18n/catalog.ts';
import { encodeEncodedWords } from '../message/encoded-words.ts';
import { mailDate } from '../message/mail-date.ts';

/** What the box mails the admin contact about by itself. */
export type AdminAlarm = 'diskWarning' | 'diskFull' | 'signaturesStale' | 'signatureUpdatesFailing' | 'backupFailed';

/** The subject and text of an alarm: the catalog's subject and opening sentence, then the detail. */
export function adminAlarmText(lang: Language, alarm: AdminAlarm, hostname: string, detail: string): { subject: string; text: string } {
  return {
    subject: translate(lang, `notice.alarm.${alarm}.subject`, { hostname }),
    text: `${translate(lang, `notice.alarm.${alarm}.lead`, { hostname })}\n\n${detail}`,
  };
}

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
