// The mail pages in a real browser against the real appliance: a message matching a
// condition-quarantine list entry is quarantined by the pipeline; the admin sets the appliance up
// through the wizard, finds the message on the Quarantine page, sees its score reasons and a
// preview that loads nothing remote, releases it while the customer's server defers and undoes
// the release (the message is held again), releases it once more and it arrives at the customer's
// mail server (a loopback SMTP sink); the Message log shows the released copy's delivery with the sink's
// reply. Screenshots go to test-artifacts/screenshots.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { ensureWebBuilt, launchBrowser, newContext, screenshotPath } from '../helpers/browser.ts';
import { eventually, startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

test.before(async () => {
  await ensureWebBuilt();
});

test('quarantined message found, previewed safely, released and delivered; message log shows the delivery', async (t) => {
  // A web server standing in for a tracker: the preview must never fetch from it.
  const trackerHits: string[] = [];
  const tracker = http.createServer((req, res) => { trackerHits.push(req.url ?? ''); res.end(); });
  await new Promise<void>((r) => tracker.listen(0, '127.0.0.1', r));
  t.teardown(() => tracker.close());
  const trackerUrl = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}`;

  let defer = false;
  const sink = await startSink({ rcptReply: () => (defer ? '451 4.3.0 mailbox busy, try again later' : undefined) });
  t.teardown(() => sink.stop());
  const ta = await startTestAppliance({
    domains: [{ name: 'customer.example', routes: [{ host: '127.0.0.1', port: sink.port, tls: 'none' }] }],
    // A deferred copy waits an hour for its next try, so that undo finds it waiting.
    delivery: { retryMinutes: [60], connectTimeoutSeconds: 5 },
    filtering: { antivirus: { enabled: false }, quarantineResponse: 'accept' },
  }, { console: true });
  t.teardown(() => ta.cleanup());
  const { app } = ta;
  await app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'customer.example', field: 'subject', value: '[hold-me]', mode: 'partial' });

  const subject = 'Invoice [hold-me] 2026';
  const raw = [
    'From: billing@vendor.test', 'To: carol@customer.example', `Subject: ${subject}`, 'Message-ID: <inv-1@vendor.test>',
    'Date: Mon, 23 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '',
    `<p>Please find the invoice attached.</p><img src="${trackerUrl}/pixel.gif" alt="tracker"><script>document.title = 'script ran'</script>`, '',
  ].join('\r\n');
  const sent = await sendMail({ port: ta.inbound, from: 'billing@vendor.test', to: ['carol@customer.example'], raw });
  t.is(sent.code, 250, sent.response);
  const held = await app.quarantine.search({});
  t.is(held.length, 1, 'the pipeline quarantined the message');
  t.is(sink.messages.length, 0);

  // First boot: the wizard, in English, with the same domain and route.
  const code = (await readFile(path.join(ta.dataDir, 'setup-code'), 'utf8')).trim();
  const browser = await launchBrowser(t);
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(app.consoleUrl!);
  await page.getByLabel('セットアップコード').fill(code);
  await page.getByRole('button', { name: 'セットアップを開始' }).click();
  await page.getByRole('radio', { name: 'English' }).check();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('Password (at least 10 characters)').fill('wizard password 1');
  await page.getByLabel('Password again').fill('wizard password 1');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel(/Host name of this appliance/).fill('mx.mailmoat.test');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel(/Domain to filter/).fill('customer.example');
  await page.getByLabel(/Your mail server/).fill('127.0.0.1');
  await page.getByLabel('Its SMTP port').fill(String(sink.port));
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('radio', { name: 'Keep the generated certificate' }).waitFor();
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel(/Admin contact address/).fill('postmaster@customer.example');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Finish setup' }).click();
  await page.getByRole('button', { name: 'Open the console' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

  // Quarantine: search by subject, open the message, see why it was held.
  await page.getByRole('link', { name: 'Quarantine' }).click();
  await page.getByLabel('Subject').fill('hold-me');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('1 shown').waitFor();
  await page.screenshot({ path: await screenshotPath('quarantine-1-list'), fullPage: true });
  await page.getByRole('link', { name: subject }).click();
  const detail = page.getByRole('region', { name: subject });
  await detail.waitFor();
  await detail.getByText('Why it was held').waitFor();
  const preview = page.frameLocator('iframe[title^="Preview"]');
  await preview.getByText('Please find the invoice attached.').waitFor();
  t.not(await page.title(), 'script ran');
  await page.screenshot({ path: await screenshotPath('quarantine-2-detail'), fullPage: true });
  t.deepEqual(trackerHits, [], 'the preview loaded no remote image');

  // Released while the customer's server defers: the copy waits in the queue, and undo takes it back.
  defer = true;
  await detail.getByRole('button', { name: 'Release', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Release: done for carol@customer.example' }).waitFor();
  await page.getByText('0 shown').waitFor();
  await eventually(() => (app.queue.list(() => true).some((v) => !v.running && v.recipients.some((r) => r.attempts > 0)) ? true : undefined));
  await page.screenshot({ path: await screenshotPath('quarantine-3-undo-offered'), fullPage: true });
  await page.getByRole('button', { name: 'Undo the release (1)' }).click();
  await page.getByRole('status').filter({ hasText: '1 back in quarantine, 0 could not be taken back.' }).waitFor();
  await page.getByText('1 shown').waitFor();
  t.is(app.queue.length, 0, 'the copy left the queue');
  t.is((await app.quarantine.search({})).length, 1, 'held again');
  t.is(sink.messages.length, 0);

  // Released again with the server accepting: it arrives, and leaves the quarantine.
  defer = false;
  await page.getByRole('link', { name: subject }).click();
  await detail.getByRole('button', { name: 'Release', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Release: done for carol@customer.example' }).waitFor();
  const [delivered] = await sink.waitFor(1);
  t.deepEqual(delivered.to, ['carol@customer.example']);
  t.regex(delivered.raw.toString(), /X-Mailmoat-Quarantine: released/);
  t.regex(delivered.raw.toString(), /Subject: Invoice \[hold-me\] 2026/);
  await page.getByText('0 shown').waitFor();
  t.deepEqual(await app.quarantine.search({}), []);
  await page.screenshot({ path: await screenshotPath('quarantine-4-released'), fullPage: true });

  // Message log: the released copy with its delivery attempt and the sink's reply.
  await page.getByRole('link', { name: 'Message log' }).click();
  // The message as held, and the first released copy, taken back into quarantine by the undo.
  await t.notThrowsAsync(() => eventually(async () => (await page.getByRole('cell', { name: 'quarantined', exact: true }).count()) === 2 || undefined));
  await page.getByLabel('Sender').fill('billing@vendor.test');
  await page.getByRole('combobox', { name: 'Status' }).selectOption('delivered');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('cell', { name: 'quarantined', exact: true }).first().waitFor({ state: 'detached' });
  await page.getByRole('row').filter({ hasText: 'delivered' }).getByRole('link').click();
  await page.getByRole('heading', { name: 'Delivery attempts' }).waitFor();
  await page.getByRole('cell', { name: /^250 / }).first().waitFor();
  await page.screenshot({ path: await screenshotPath('messages-1-delivery'), fullPage: true });

  // Lists: the entry that held the message is there, in the domain's inbound quarantine list.
  await page.getByRole('link', { name: 'Lists' }).click();
  await page.getByRole('heading', { name: 'Lists' }).waitFor();
  await page.getByLabel(/^List(?!s)/).selectOption('condition-quarantine');
  await page.getByText('Subject contains: [hold-me]').waitFor();
  await page.screenshot({ path: await screenshotPath('lists-1-condition'), fullPage: true });
});
