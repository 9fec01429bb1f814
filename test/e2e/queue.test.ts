// The mail queue page in a real browser, against the daemon with mail that waits: a.example's
// server defers, so three messages sit in the queue. The admin (English, desktop) deletes one
// (the dialog names sender and recipient; Cancel leaves it) and bounces one (its sender gets the
// report); a domain admin (Japanese, phone width) sees the last one as a card, the page no wider
// than the screen, and retries it once the server accepts. The audit log says each change in words.
// Screenshots go to test-artifacts/screenshots.
import test from 'ava';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { ADMIN, DORA, addConsolePeople } from '../helpers/console-people.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

test.before(async () => {
  await ensureWebBuilt();
});

test('mail queue page: delete and bounce ask first, retry delivers, on a phone too, audited in words', async (t) => {
  let defer = true;
  const sinkA = await startSink({ rcptReply: () => (defer ? '451 4.3.0 mailbox busy, try again later' : undefined) });
  const sinkB = await startSink();
  t.teardown(async () => { await sinkA.stop(); await sinkB.stop(); });
  const route = (port: number) => [{ host: '127.0.0.1', port, tls: 'none' }];
  const ta = await startTestAppliance({
    domains: [{ name: 'a.example', routes: route(sinkA.port) }, { name: 'b.example', routes: route(sinkB.port) }],
    delivery: { retryMinutes: [60], connectTimeoutSeconds: 5 },
    filtering: { antivirus: { enabled: false } },
    console: { language: 'en' },
  }, { console: true, filter: deliverAll });
  t.teardown(() => ta.cleanup());
  const { app } = ta;
  const url = app.consoleUrl!;
  const ctx = app.console!.context;
  await addConsolePeople(ctx, { dora: ['a.example'], doraLanguage: 'ja' });
  for (const subject of ['Invoice', 'Newsletter', 'Report']) {
    t.true((await sendMail({ port: ta.inbound, from: 'sender@b.example', to: ['x@a.example'], raw: message({ from: 'sender@b.example', to: 'x@a.example', subject }) })).ok);
  }
  await eventually(() => (app.queue.size().deferred === 3 ? true : undefined));

  const browser = await launchBrowser(t);
  const page = await (await newContext(browser)).newPage();
  await logIn(page, url, ADMIN.username, ADMIN.password);
  await page.getByRole('link', { name: 'Mail queue' }).click();
  await page.getByText('3 waiting').waitFor();
  await page.getByRole('row').filter({ hasText: 'Newsletter' }).getByText('Waiting to retry').waitFor();
  await page.getByRole('row').filter({ hasText: 'Newsletter' }).getByText('451 4.3.0 mailbox busy, try again later').waitFor();
  await page.screenshot({ path: await screenshotPath('queue-desktop-admin'), fullPage: true });

  // Delete asks, naming sender and recipient; Cancel leaves the message queued.
  const dialog = page.getByRole('dialog');
  await page.getByRole('button', { name: 'Delete: Newsletter' }).click();
  await dialog.getByText(/^The message from sender@b\.example to x@a\.example will not be delivered and the sender is not told\./).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  t.is(app.queue.length, 3);
  await page.getByRole('button', { name: 'Delete: Newsletter' }).click();
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('status').filter({ hasText: 'Deleted: x@a.example.' }).waitFor();
  await page.getByText('2 waiting').waitFor();
  t.is(await page.getByRole('row').filter({ hasText: 'Newsletter' }).count(), 0);

  // Bounce asks too, then the sender's server gets the report.
  await page.getByRole('button', { name: 'Bounce: Report' }).click();
  await dialog.getByText('Return the message to its sender?').waitFor();
  await dialog.getByRole('button', { name: 'Bounce' }).click();
  await page.getByRole('status').filter({ hasText: 'Returned to the sender: x@a.example.' }).waitFor();
  const [report] = await sinkB.waitFor(1);
  t.deepEqual([report.from, report.to], ['', ['sender@b.example']]);
  t.true(report.raw.toString('utf8').includes('Subject: Report'));

  // The filters: a state with nothing in it, then back.
  await page.getByLabel('State').selectOption({ label: 'Not tried yet' });
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('The queue is empty: everything accepted has been delivered.').waitFor();
  await page.getByLabel('State').selectOption({ label: '(any)' });
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('1 waiting').waitFor();

  // The domain admin, in Japanese on a phone: the message as a card, nothing wider than the screen.
  const phone = await (await newContext(browser, 'phone')).newPage();
  await logIn(phone, url, DORA.username, DORA.password);
  await phone.goto(`${url}#/queue`);
  await phone.getByText('1 通が待機中').waitFor();
  await phone.getByRole('cell', { name: /再送待ち/ }).waitFor();
  t.true(await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth) <= 1, 'fits 390 px');
  await phone.screenshot({ path: await screenshotPath('queue-phone-ja-dora'), fullPage: true });
  defer = false;
  await phone.getByRole('button', { name: '今すぐ再送: Invoice' }).click();
  await phone.getByRole('status').filter({ hasText: 'x@a.example への配送を今すぐ試みます。' }).waitFor();
  const [delivered] = await sinkA.waitFor(1);
  t.true(delivered.raw.toString('utf8').includes('Subject: Invoice'));
  await eventually(() => (app.queue.length === 0 ? true : undefined));
  await phone.getByRole('button', { name: '再読み込み' }).click();
  await phone.getByText('キューは空です。受け付けたメールはすべて配送済みです。').waitFor();
  await phone.close();

  // The audit log says what was done, in words.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByText('Mail queue: Delete', { exact: true }).waitFor();
  await page.getByText('Mail queue: Bounce', { exact: true }).waitFor();
  await page.getByText('Mail queue: Retry now', { exact: true }).waitFor();
  await page.close();
});
