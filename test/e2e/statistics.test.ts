// The statistics page and the dashboard's graph in a real browser, over mail sent through the
// appliance: the admin sees the whole box by day with its graphs (SVG drawn by our renderer), the
// totals and the numbers behind them, the queue and quarantine sizes, the spam-score histogram and
// the top-20 tables (switching kind, each with its CSV), pages to the day before, switches to
// Japanese, and exports the CSV; a domain admin is offered only their domain and sees only its
// mail, its own recipients and no queue. The message log
// page: columns chosen and reordered are remembered after a reload and go into the CSV export,
// which downloads. Screenshots at desktop and phone width go to test-artifacts/screenshots.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { deliverAll, type MessageFilter } from '../../appliance/accept/message-filter.ts';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { isoDate, localTime } from '../../appliance/stats/calendar.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { ADMIN, DORA, addConsolePeople } from '../helpers/console-people.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

test.before(async () => {
  await ensureWebBuilt();
});

/** Delivers everything, as scored 12.5 (the histogram's 10–15 bin). */
const scored: MessageFilter = async (input) => ({ ...(await deliverAll(input)), findings: { lists: {}, spam: { score: 12.5, classHint: 'Not Spam', reasons: [] } } });

test('statistics: graphs, totals, paging, languages and scope; the message log remembers its columns', async (t) => {
  const sink = await startSink();
  const ta = await startTestAppliance({
    domains: [
      { name: 'tokyo.example', routes: [{ host: '127.0.0.1', port: sink.port }], recipients: { mode: 'listed', addresses: ['sato', 'ito'] } },
      { name: 'customer.example', routes: [{ host: '127.0.0.1', port: sink.port }], timezone: 'America/New_York' },
    ],
    time: { timezone: 'Asia/Tokyo' },
    console: { language: 'en' },
    filtering: { antivirus: { enabled: false } },
  }, { console: true, filter: scored });
  t.teardown(async () => { await ta.cleanup(); await sink.stop(); });
  const { app } = ta;
  const url = app.consoleUrl!;
  const ctx = app.console!.context;
  await addConsolePeople(ctx, { dora: ['customer.example'] });
  for (const [to, subject] of [[['sato@tokyo.example'], 'Invoice 1'], [['ito@tokyo.example'], 'Invoice 2'], [['nobody@tokyo.example', 'sato@tokyo.example'], 'Invoice 3'], [['kim@customer.example'], 'Order 4']] as const) {
    t.true((await sendMail({ port: ta.inbound, from: 'shop@sender.test', to: [...to], raw: message({ subject }) })).ok);
  }
  await sink.waitFor(4);
  await eventually(() => (app.queue.length === 0 ? true : undefined));
  const records: MessageLogRecord[] = [];
  for await (const r of app.log.newest()) records.push(r);
  // The day of the mail in the appliance's zone, and how many were received on it (should the test
  // run across midnight in Tokyo, the page is asked for the first message's day).
  const day = isoDate(localTime(records[records.length - 1].receivedAt, 'Asia/Tokyo'));
  const receivedThatDay = records.filter((r) => isoDate(localTime(r.receivedAt, 'Asia/Tokyo')) === day).length;
  const customerDay = isoDate(localTime(records.find((r) => r.recipients[0].address === 'kim@customer.example')!.receivedAt, 'America/New_York'));

  const browser = await launchBrowser(t);
  const page = await (await newContext(browser)).newPage();
  await logIn(page, url, ADMIN.username, ADMIN.password);

  // The dashboard draws the last 24 hours by hour.
  const hours = page.locator('figure.chart svg[aria-label="Mail in the last 24 hours, by hour"]');
  await hours.waitFor();
  t.true(await hours.locator('rect[fill="#1d5fa8"]').count() > 0, 'delivered mail has bars');
  await page.screenshot({ path: await screenshotPath('statistics-desktop-dashboard'), fullPage: true });

  // The statistics page: the day of the mail, box-wide.
  await page.getByRole('link', { name: 'Statistics' }).click();
  await page.getByRole('heading', { name: 'Statistics' }).waitFor();
  await page.getByLabel('Date in the period').fill(day);
  await page.getByRole('button', { name: 'Show' }).click();
  const totals = page.getByRole('table', { name: 'Totals' });
  await totals.getByRole('row', { name: `Received ${receivedThatDay}`, exact: true }).waitFor();
  await totals.getByRole('row', { name: 'Refused at RCPT 1', exact: true }).waitFor();
  for (const name of ['Outcomes', 'Messages received and sent', 'Spam, phishing and viruses', 'Messages in the queue (average)', 'Messages held in quarantine (average)', 'Spam scores']) {
    t.is(await page.locator(`figure.chart svg[aria-label^="${name} — "]`).count(), 1, name);
  }
  t.is(await page.locator('figure.chart svg').first().locator('text', { hasText: 'Delivered' }).count(), 1, 'the legend names the series');
  await page.getByText('Times are in Asia/Tokyo.').waitFor();
  await page.getByText('The numbers behind the graphs').click();
  t.is(await page.getByRole('table', { name: 'The numbers behind the graphs' }).locator('tbody tr').count(), 24);
  await page.screenshot({ path: await screenshotPath('statistics-desktop-admin-day'), fullPage: true });

  // The CSV behind the graphs downloads with the same numbers.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const text = await readFile((await csv.path())!, 'utf8');
  t.true(text.startsWith('\uFEFFstart (Asia/Tokyo),received'));
  t.is(text.trim().split('\r\n').slice(1).reduce((n, l) => n + Number(l.split(',')[1]), 0), receivedThatDay);

  // The score histogram's numbers, and the top-20 tables: senders first, then recipients.
  const [scoresCsv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export scores (CSV)' }).click()]);
  const bins = (await readFile((await scoresCsv.path())!, 'utf8')).split('\r\n');
  t.is(bins[0], '\uFEFFscore from,score below,messages');
  t.is(bins[3], `10,15,${receivedThatDay}`);
  await page.getByRole('table', { name: 'Senders' }).getByRole('row', { name: `1 shop@sender.test ${receivedThatDay}`, exact: true }).waitFor();
  await page.getByRole('combobox', { name: /^Table/ }).selectOption('recipient');
  const recipients = page.getByRole('table', { name: 'Recipients' });
  await recipients.getByRole('cell', { name: 'sato@tokyo.example', exact: true }).waitFor();
  t.is(await recipients.getByRole('cell', { name: 'nobody@tokyo.example' }).count(), 0, 'a recipient refused at RCPT received nothing');
  await page.screenshot({ path: await screenshotPath('statistics-desktop-admin-tables'), fullPage: true });
  const [topCsv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export table (CSV)' }).click()]);
  const top = (await readFile((await topCsv.path())!, 'utf8')).split('\r\n');
  t.is(top[0], '\uFEFFrecipient,count,error');
  const toSato = records.filter((r) => isoDate(localTime(r.receivedAt, 'Asia/Tokyo')) === day && r.recipients.some((x) => x.address === 'sato@tokyo.example')).length;
  t.true(top.includes(`sato@tokyo.example,${toSato},0`), top.join('\n'));

  // The day before has none of it; a year by month has it all.
  await page.getByRole('button', { name: 'Earlier' }).click();
  await totals.getByRole('row', { name: 'Received 0', exact: true }).waitFor();
  await page.getByRole('combobox', { name: /^Period/ }).selectOption('year');
  await page.getByLabel('Date in the period').fill(day);
  await page.getByRole('button', { name: 'Show' }).click();
  await totals.getByRole('row', { name: /^Received [1-9]/ }).waitFor();
  t.is(await page.getByRole('table', { name: 'The numbers behind the graphs' }).locator('tbody tr').count(), 12);

  // In Japanese, from the catalog.
  await page.locator('header select').selectOption('ja');
  await page.getByRole('heading', { name: '統計' }).waitFor();
  t.is(await page.locator('figure.chart svg').first().locator('text', { hasText: '配送済み' }).count(), 1);
  await page.screenshot({ path: await screenshotPath('statistics-desktop-admin-year-ja'), fullPage: true });
  await page.locator('header select').selectOption('en');

  // The message log: columns chosen and ordered, remembered after a reload, used by the export.
  await page.goto(`${url}#/messages`);
  await page.getByRole('link', { name: 'Invoice 1', exact: true }).waitFor();
  await page.getByText('Columns', { exact: true }).click();
  await page.getByRole('checkbox', { name: 'Client IP address' }).check();
  await page.getByRole('checkbox', { name: 'Sender', exact: true }).uncheck();
  await page.getByRole('button', { name: 'Move Client IP address up' }).click();
  t.deepEqual(await page.locator('mm-messages table thead th').allTextContents(), ['Date', 'Recipient', 'Subject', 'Client IP address', 'Status']);
  await page.reload();
  await page.getByRole('link', { name: 'Invoice 1', exact: true }).waitFor();
  t.deepEqual(await page.locator('mm-messages table thead th').allTextContents(), ['Date', 'Recipient', 'Subject', 'Client IP address', 'Status'], 'remembered in this browser');
  await page.getByRole('row', { name: /Invoice 1/ }).getByRole('cell', { name: '127.0.0.1' }).waitFor();
  await page.screenshot({ path: await screenshotPath('statistics-desktop-messages-columns'), fullPage: true });
  const [log] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const exported = (await readFile((await log.path())!, 'utf8')).split('\r\n');
  t.is(exported[0], '\uFEFFreceivedAt,recipients,subject,clientIp,status');
  t.true(exported.some((l) => l.includes(',Invoice 1,127.0.0.1,delivered')));

  // A domain admin: only their domain is offered, and only its mail is counted, by its own days.
  const phone = await (await newContext(browser, 'phone')).newPage();
  await logIn(phone, url, DORA.username, DORA.password);
  await phone.goto(`${url}#/statistics`);
  await phone.getByRole('heading', { name: 'Statistics' }).waitFor();
  const domains = await phone.getByRole('combobox', { name: /^Domain/ }).locator('option').allTextContents();
  t.deepEqual(domains, ['All my domains', 'customer.example']);
  await phone.getByLabel('Date in the period').fill(customerDay);
  await phone.getByRole('button', { name: 'Show' }).click();
  await phone.getByRole('table', { name: 'Totals' }).getByRole('row', { name: 'Received 1', exact: true }).waitFor();
  await phone.getByRole('table', { name: 'Senders' }).getByRole('row', { name: '1 shop@sender.test 1', exact: true }).waitFor();
  await phone.getByRole('combobox', { name: /^Table/ }).selectOption('recipient');
  const theirs = phone.getByRole('table', { name: 'Recipients' });
  await theirs.getByRole('cell', { name: 'kim@customer.example', exact: true }).waitFor();
  t.deepEqual(await theirs.locator('tbody td:nth-child(2)').allTextContents(), ['kim@customer.example']);
  t.is(await phone.locator('figure.chart svg[aria-label^="Messages in the queue"]').count(), 0, 'the queue is the whole box\'s');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  t.true(overflow <= 1, `the page fits the phone's width (overflow ${overflow}px)`);
  await phone.screenshot({ path: await screenshotPath('statistics-phone-domain-admin'), fullPage: true });
  const other = await phone.request.get(new URL('/api/stats?period=day&domain=tokyo.example', url).href);
  t.is(other.status(), 403);
});
