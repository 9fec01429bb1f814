// Notices to the admin contact (disk, stale signatures, quarantine quota) come from the configured
// notice sender, else the appliance's mailer-daemon; a Japanese subject is encoded, not mangled.
import test from 'ava';
import { simpleParser } from 'mailparser';
import { adminNotice } from '../../../appliance/system/admin-notice.ts';

test('a notice comes from the configured notice sender, else mailer-daemon@<hostname>', async (t) => {
  const base = { hostname: 'mx.mailmoat.test', to: 'it@example.jp', subject: '隔離領域が 80% に達しました', text: '本文\nline two' };
  const configured = await simpleParser(adminNotice({ ...base, from: 'alerts@example.jp' }));
  t.is(configured.from?.value[0].address, 'alerts@example.jp');
  t.is(configured.subject, base.subject);
  t.is(String(configured.text).trim(), '本文\nline two');
  const fallback = await simpleParser(adminNotice(base));
  t.is(fallback.from?.value[0].address, 'mailer-daemon@mx.mailmoat.test');
});
