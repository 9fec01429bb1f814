// Notices to the admin contact (disk, stale signatures, quarantine quota) come from the configured
// notice sender, else the appliance's mailer-daemon; a Japanese subject is encoded, not mangled.
// The alarms read in the console's language: each has its own subject naming the box and an
// opening sentence, and the module's detail follows unchanged.
import test from 'ava';
import { simpleParser } from 'mailparser';
import { adminAlarmText, adminNotice, type AdminAlarm } from '../../../appliance/system/admin-notice.ts';

test('a notice comes from the configured notice sender, else mailer-daemon@<hostname>', async (t) => {
  const base = { hostname: 'mx.mailmoat.test', to: 'it@example.jp', subject: '隔離領域が 80% に達しました', text: '本文\nline two' };
  const configured = await simpleParser(adminNotice({ ...base, from: 'alerts@example.jp' }));
  t.is(configured.from?.value[0].address, 'alerts@example.jp');
  t.is(configured.subject, base.subject);
  t.is(String(configured.text).trim(), '本文\nline two');
  const fallback = await simpleParser(adminNotice(base));
  t.is(fallback.from?.value[0].address, 'mailer-daemon@mx.mailmoat.test');
});

const ALARMS: AdminAlarm[] = ['diskWarning', 'diskFull', 'signaturesStale', 'signatureUpdatesFailing', 'backupFailed'];

test('every alarm has its own subject and opening in Japanese and English, with the host name and the detail', (t) => {
  for (const lang of ['ja', 'en'] as const) {
    const subjects = new Set<string>();
    for (const alarm of ALARMS) {
      const { subject, text } = adminAlarmText(lang, alarm, 'mx1.example.jp', 'the data filesystem / is 97 % full');
      t.true(subject.includes('mx1.example.jp'), `${lang} ${alarm}: ${subject}`);
      t.true(text.endsWith('\n\nthe data filesystem / is 97 % full'), `${lang} ${alarm}`);
      t.true(text.includes('mx1.example.jp'), `${lang} ${alarm}`);
      subjects.add(subject);
    }
    t.is(subjects.size, ALARMS.length, 'no two alarms share a subject');
  }
  t.regex(adminAlarmText('ja', 'backupFailed', 'mx1.example.jp', '-').subject, /定期バックアップに失敗/);
});
