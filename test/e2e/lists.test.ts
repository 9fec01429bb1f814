// The Lists page in a real browser: the admin picks the appliance-wide level, adds a sender block
// there, and mail from that sender to either served domain is judged Blacklisted by it over real
// SMTP; a domain admin is not offered the level and does not see the entry.
import test from 'ava';
import { ensureWebBuilt, launchBrowser, logIn, newContext } from '../helpers/browser.ts';
import { ADMIN, DORA, addConsolePeople } from '../helpers/console-people.ts';
import { eventually, message, startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

test.before(async () => {
  await ensureWebBuilt();
});

test('lists: an appliance-wide sender block from the page holds for every domain; a domain admin does not get the level', async (t) => {
  const sink = await startSink();
  const route = [{ host: '127.0.0.1', port: sink.port, tls: 'none' }];
  const ta = await startTestAppliance({
    domains: [{ name: 'customer.example', routes: route }, { name: 'other.example', routes: route }],
    console: { language: 'en' },
    filtering: { antivirus: { enabled: false } },
  }, { console: true });
  t.teardown(async () => { await ta.cleanup(); await sink.stop(); });
  const { app } = ta;
  const url = app.consoleUrl!;
  await addConsolePeople(app.console!.context, { dora: ['customer.example'] });

  const browser = await launchBrowser(t);
  const page = await (await newContext(browser)).newPage();
  await logIn(page, url, ADMIN.username, ADMIN.password);
  await page.goto(`${url}#/lists`);
  await page.getByLabel('Applies to').selectOption({ label: 'Every domain (appliance-wide)' });
  await page.getByRole('heading', { name: /Every domain \(appliance-wide\)/ }).waitFor();
  await page.getByLabel('Address, domain or text').fill('bulk.test');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('cell', { name: 'bulk.test', exact: true }).waitFor();
  t.deepEqual(app.lists.search({ scope: 'appliance' }).map((e) => [e.owner, e.value]), [['*', 'bulk.test']]);

  for (const to of ['sato@customer.example', 'kim@other.example']) {
    const sent = await sendMail({ port: ta.inbound, from: 'promo@bulk.test', to: [to], raw: message({ from: 'promo@bulk.test', to, subject: 'Sale' }) });
    t.true(sent.code >= 250, sent.response);
  }
  const judged = await eventually(async () => {
    const found = [];
    for await (const r of app.log.newest()) if (r.mailFrom === 'promo@bulk.test' && r.status !== 'queued') found.push(r);
    return found.length === 2 ? found : undefined;
  });
  for (const r of judged) t.is(r.recipients[0].mainClass, 'Blacklisted', r.recipients[0].address);

  const dora = await (await newContext(browser)).newPage();
  await logIn(dora, url, DORA.username, DORA.password);
  await dora.goto(`${url}#/lists`);
  const levels = await dora.getByLabel('Applies to').locator('option').allTextContents();
  t.deepEqual(levels, ['Whole domain', 'One mailbox']);
  t.is(await dora.getByRole('cell', { name: 'bulk.test', exact: true }).count(), 0);
});
