// Reports in a real browser against the real appliance: the pipeline quarantines a message with a
// Japanese subject; at 09:00 in the domain's zone the recipient's digest goes over SMTP to a
// loopback sink; its HTML renders in chromium with nothing fetched; its Release link shows a
// confirmation page, releases on the button (the message arrives at the sink) and refuses a second
// use; "open my quarantine" logs the recipient in to their own mailbox only; the domain admin's
// Reports page edits the settings and previews the domain report. Screenshots: test-artifacts/screenshots.
import test from 'ava';
import { simpleParser } from 'mailparser';
import type { Page } from 'playwright-core';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';
import { latestSlot } from '../../appliance/reports/schedule.ts';

const PASSWORD = 'correct horse battery';

test.before(async () => {
  await ensureWebBuilt();
});

/** Only the page itself and (for the console) the appliance: a report must fetch nothing. */
function watchRequests(page: Page, allowed: string): string[] {
  const foreign: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(allowed) && !/^(about|data):/.test(r.url())) foreign.push(r.url()); });
  return foreign;
}

test('a digest reaches the mailbox over SMTP, renders in chromium, and its links confirm, act once and open the own quarantine', async (t) => {
  const sink = await startSink();
  t.teardown(() => sink.stop());
  let clock = Date.now();
  const ta = await startTestAppliance({
    domains: [{
      name: 'customer.example', timezone: 'Asia/Tokyo', routes: [{ host: '127.0.0.1', port: sink.port, tls: 'none' }],
      reports: { digest: { enabled: true, time: '09:00', language: 'ja' }, actions: ['release', 'allow-release', 'delete'] },
    }],
    filtering: { antivirus: { enabled: false }, quarantineResponse: 'accept' },
    console: { language: 'en' },
  }, { console: true, now: () => clock });
  t.teardown(() => ta.cleanup());
  const { app } = ta;
  const server = app.console!;
  await server.context.setup.complete('test');
  await server.context.users.create({ username: 'cadmin', role: 'domain-admin', domains: ['customer.example'], password: PASSWORD, language: 'en' });
  await app.reports.tick(); // the digest's first period starts now

  await app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'customer.example', field: 'subject', value: '請求書', mode: 'partial' });
  const subject = '【至急】請求書の再発行について';
  for (const [to, s] of [['carol@customer.example', subject], ['dave@customer.example', 'dave 請求書']]) {
    const raw = [`From: billing@vendor.test`, `To: ${to}`, `Subject: =?UTF-8?B?${Buffer.from(s).toString('base64')}?=`, `Message-ID: <${to}@vendor.test>`,
      'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'ご確認ください。', ''].join('\r\n');
    t.is((await sendMail({ port: ta.inbound, from: 'billing@vendor.test', to: [to], raw })).code, 250);
  }
  t.is((await app.quarantine.search({})).length, 2, 'the pipeline quarantined both');

  // The next 09:00 in Tokyo.
  clock = latestSlot({ frequency: 'daily', time: '09:00', weekday: 0 }, 'Asia/Tokyo', Date.now()) + 86_400_000;
  await app.reports.tick();
  const mails = await sink.waitFor(2);
  const carolMail = mails.find((m) => m.to.includes('carol@customer.example'))!;
  const digest = await simpleParser(carolMail.raw);
  t.is(digest.subject, '隔離レポート carol@customer.example: 1 件を保留中');

  const browser = await launchBrowser(t);
  const context = await newContext(browser);
  const mailView = await context.newPage();
  const foreign = watchRequests(mailView, 'about:');
  await mailView.setContent(String(digest.html));
  await mailView.getByRole('cell', { name: subject }).waitFor();
  await mailView.getByRole('link', { name: '解放', exact: true }).waitFor();
  await mailView.screenshot({ path: await screenshotPath('report-1-digest-mail'), fullPage: true });
  t.deepEqual(foreign, [], 'the report fetched nothing');
  t.false(String(digest.html).includes('dave'), 'a mailbox sees only its own mail');

  // The mail's links name the appliance's host name; the browser reaches it on loopback.
  const consoleAt = new URL(app.consoleUrl!);
  const local = (href: string) => { const u = new URL(href); u.host = consoleAt.host; return u.toString(); };
  const hrefOf = async (name: string) => local((await mailView.getByRole('link', { name, exact: true }).getAttribute('href'))!);

  const page = await context.newPage();
  const release = await hrefOf('解放');
  await page.goto(release);
  await page.getByText(`「${subject}」: 解放。実行しますか？`).waitFor();
  await page.screenshot({ path: await screenshotPath('report-2-confirm'), fullPage: true });
  t.is(sink.messages.length, 2, 'following the link released nothing');
  await page.getByRole('button', { name: '実行する' }).click();
  await page.getByText('完了しました（carol@customer.example）: 解放').waitFor();
  await page.screenshot({ path: await screenshotPath('report-3-done'), fullPage: true });
  const [, , released] = await sink.waitFor(3);
  t.deepEqual(released.to, ['carol@customer.example']);
  t.regex(released.raw.toString(), /X-Mailmoat-Quarantine: released/);
  await page.goto(release);
  await page.getByText(/このリンクは .* に使用済みです。/).waitFor();

  // "Open my quarantine": carol's own mailbox, without a password; dave's mail is not there.
  await app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'customer.example', field: 'subject', value: '再送', mode: 'partial' });
  const again = [`From: billing@vendor.test`, 'To: carol@customer.example', 'Subject: resend 再送', 'Message-ID: <r2@vendor.test>', '', 'x', ''].join('\r\n');
  t.is((await sendMail({ port: ta.inbound, from: 'billing@vendor.test', to: ['carol@customer.example'], raw: again })).code, 250);
  await page.goto(await hrefOf('自分の隔離ボックスを開く'));
  await page.getByRole('button', { name: '自分の隔離ボックスを開く' }).click();
  await page.getByRole('link', { name: 'resend 再送' }).waitFor();
  await page.getByText('carol@customer.example').first().waitFor();
  t.is(await page.getByText('dave 請求書').count(), 0);
  await page.screenshot({ path: await screenshotPath('report-4-my-quarantine'), fullPage: true });

  // The domain admin's Reports page: the settings as a labelled form (a bad time refused at its
  // field, a good one and an added action saved with the domain), the domain report previewed.
  const admin = await (await newContext(browser)).newPage();
  await logIn(admin, app.consoleUrl!, 'cadmin', PASSWORD);
  await admin.getByRole('link', { name: 'Reports' }).click();
  await admin.getByRole('heading', { name: 'Report settings' }).waitFor();
  const digestTime = admin.getByLabel('Digest: time of day (HH:MM)');
  t.is(await digestTime.inputValue(), '09:00');
  await digestTime.fill('25:00');
  await admin.getByRole('button', { name: 'Save' }).click();
  await admin.locator('input[aria-invalid="true"]').waitFor();
  t.is(await digestTime.getAttribute('aria-invalid'), 'true');
  await digestTime.fill('08:30');
  await admin.getByLabel('Block sender and delete').check();
  await admin.getByRole('button', { name: 'Save' }).click();
  await admin.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const reports = app.config.current.domains.find((d) => d.name === 'customer.example')!.reports;
  t.is(reports.digest.time, '08:30');
  t.deepEqual([...reports.actions].sort(), ['allow-release', 'block-delete', 'delete', 'release']);
  await admin.getByRole('button', { name: 'Preview of the domain report' }).click();
  const preview = admin.frameLocator('iframe[title="Preview"]');
  await preview.getByText('Protection report for customer.example').waitFor();
  await admin.screenshot({ path: await screenshotPath('report-5-console'), fullPage: true });

  // The message log's search saved, mailed now as CSV, and listed on the Reports page.
  await admin.getByRole('link', { name: 'Message log' }).click();
  await admin.getByLabel('Subject', { exact: true }).fill('請求書');
  await admin.getByText('Mail this search on a schedule').click();
  await admin.getByLabel('Name', { exact: true }).fill('Invoices');
  await admin.getByLabel('Recipients (one per line; empty: your own address)').fill('cadmin@customer.example');
  await admin.getByRole('button', { name: 'Save search' }).click();
  await admin.getByRole('status').filter({ hasText: 'Saved: "Invoices" will be mailed.' }).waitFor();
  await admin.getByRole('button', { name: 'Send now' }).click();
  await admin.getByRole('status').filter({ hasText: 'Sent.' }).waitFor();
  const searchMail = await simpleParser((await sink.waitFor(4))[3].raw);
  // Both held messages and the released copy of carol's (a log record of its own).
  t.is(searchMail.subject, 'Saved search "Invoices": 3 message(s)');
  const csv = searchMail.attachments[0].content.toString('utf8');
  t.true(csv.includes(subject) && csv.includes('dave 請求書'));
  await admin.getByRole('link', { name: 'Reports' }).click();
  await admin.getByRole('cell', { name: 'Invoices' }).waitFor();
  await admin.screenshot({ path: await screenshotPath('report-6-saved-searches'), fullPage: true });
});
