// The dashboard's graphs in a real browser, over mail sent through the appliance (one message
// delivered, one quarantined by a list entry, both scored by the starter model): besides the 24
// hours by outcome, the queue's and quarantine's sampled size by hour (the queue for the appliance
// admin only) and today's spam-score histogram, all drawn by the statistics' SVG renderer, with the
// numbers behind them in tables and the same figures as CSV downloads; the tagged count in the
// flow table. A domain admin sees their quarantine's size and no queue. Screenshots go to
// test-artifacts/screenshots.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import type { MessageLogRecord } from '../../appliance/logsearch/message-log.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { ADMIN, DORA, addConsolePeople } from '../helpers/console-people.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

test.before(async () => {
  await ensureWebBuilt();
});

test('dashboard: size graphs and score histogram with their numbers and CSVs, within each role\'s scope', async (t) => {
  const sink = await startSink();
  const ta = await startTestAppliance({
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    time: { timezone: 'UTC' },
    console: { language: 'en' },
    filtering: { antivirus: { enabled: false }, quarantineResponse: 'accept' },
  }, { console: true, starterModel: true });
  t.teardown(async () => { await ta.cleanup(); await sink.stop(); });
  const { app } = ta;
  const url = app.consoleUrl!;
  const ctx = app.console!.context;
  await addConsolePeople(ctx, { dora: ['example.com'] });
  await app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'example.com', field: 'subject', mode: 'partial', value: 'invoice' });
  for (const subject of ['Hello there', 'Your invoice']) {
    const sent = await sendMail({ port: ta.inbound, from: 'shop@sender.test', to: ['bob@example.com'], raw: message({ subject }) });
    t.is(sent.code, 250, sent.response);
  }
  await sink.waitFor(1);
  await eventually(() => (app.queue.length === 0 ? true : undefined));
  t.is(app.quarantine.usage('domain', 'example.com').messages, 1);
  // One sample of the sizes now (the sampler's clock is the test's to drive).
  app.gauges.sample();
  const records: MessageLogRecord[] = [];
  for await (const r of app.log.newest()) records.push(r);

  const browser = await launchBrowser(t);
  const page = await (await newContext(browser)).newPage();
  await logIn(page, url, ADMIN.username, ADMIN.password);
  const chart = (label: string) => page.locator(`figure.chart svg[aria-label^="${label}"]`);
  await chart('Messages held in quarantine (average) — the last 24 hours').waitFor();
  t.is(await chart('Messages in the queue (average) — the last 24 hours').count(), 1, 'the admin sees the queue');
  t.true(await chart('Messages held in quarantine (average)').locator('rect[fill="#f5a623"]').count() > 0, 'the held message has a bar');
  const scores = chart('Spam scores — ');
  await scores.waitFor();
  await page.getByRole('row', { name: 'Received 2', exact: true }).waitFor();
  await page.getByRole('row', { name: 'Delivered tagged 0', exact: true }).waitFor();

  // The numbers behind the graphs: the quarantine's hour reads 1 / 1 (average / peak); the
  // histogram's rows hold each scored message of the day it names.
  await page.getByText('The numbers behind the graphs').click();
  const hours = page.getByRole('table', { name: 'Mail in the last 24 hours, by hour' });
  t.true(await hours.locator('tbody tr').count() >= 24);
  t.is(await hours.locator('tbody tr').filter({ has: page.getByRole('cell', { name: '1 / 1', exact: true }) }).count(), 1, 'one hour with the held message');
  const day = /— (\d{4}-\d{2}-\d{2}) –/.exec((await scores.getAttribute('aria-label'))!)![1];
  const scored = records.filter((r) => new Date(r.receivedAt).toISOString().startsWith(day) && (r.findings as { spam?: { score?: number } }).spam?.score !== undefined).length;
  const bins = page.getByRole('table', { name: 'Spam scores today (messages per 5 points)' });
  t.is(await bins.locator('tbody tr').count(), 20);
  const binCounts = (await bins.locator('tbody td:nth-child(2)').allTextContents()).map(Number);
  t.is(binCounts.reduce((a, b) => a + b, 0), scored);
  await page.screenshot({ path: await screenshotPath('dashboard-desktop-graphs'), fullPage: true });

  // The same numbers as CSV.
  const [hoursCsv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
  const lines = (await readFile((await hoursCsv.path())!, 'utf8')).trimEnd().split('\r\n');
  t.true(lines[0].startsWith('\uFEFFstart (UTC),received'));
  const header = lines[0].split(',');
  t.is(lines.slice(1).reduce((n, l) => n + Number(l.split(',')[header.indexOf('received')]), 0), 2);
  t.true(lines.slice(1).some((l) => l.split(',')[header.indexOf('quarantined (peak)')] === '1'));
  const [scoresCsv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export scores (CSV)' }).click()]);
  const csvBins = (await readFile((await scoresCsv.path())!, 'utf8')).trim().split('\r\n').slice(1).map((l) => Number(l.split(',')[2]));
  t.deepEqual(csvBins, binCounts);

  // A domain admin: their quarantine's size and the histogram, no queue.
  const phone = await (await newContext(browser, 'phone')).newPage();
  await logIn(phone, url, DORA.username, DORA.password);
  await phone.locator('figure.chart svg[aria-label^="Messages held in quarantine (average)"]').waitFor();
  await phone.locator('figure.chart svg[aria-label^="Spam scores — "]').waitFor();
  t.is(await phone.locator('figure.chart svg[aria-label^="Messages in the queue"]').count(), 0, 'the queue is the whole box\'s');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  t.true(overflow <= 1, `the dashboard fits the phone's width (overflow ${overflow}px)`);
  await phone.screenshot({ path: await screenshotPath('dashboard-phone-domain-admin'), fullPage: true });
});
