// The audit log page and the time zone field in a real browser: the admin changes a domain's
// time zone (a misspelt zone is refused next to the field; the field suggests the known zones) and
// finds the change in the audit log, filters it and pages with "Load more"; a domain admin sees
// only entries about their own domain. Screenshots at desktop and phone width go to
// test-artifacts/screenshots.
import test from 'ava';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { ADMIN, DORA, addConsolePeople } from '../helpers/console-people.ts';
import { startTestAppliance } from '../helpers/appliance.ts';

test.before(async () => {
  await ensureWebBuilt();
});

test('audit log: the admin finds their change, filters and pages; a domain admin sees only their domain', async (t) => {
  const ta = await startTestAppliance({
    domains: [
      { name: 'customer.example', routes: [{ host: '127.0.0.1', port: 2599, tls: 'none' }], timezone: 'America/New_York' },
      { name: 'tokyo.example', routes: [{ host: '127.0.0.1', port: 2599, tls: 'none' }] },
    ],
    time: { timezone: 'Asia/Tokyo' },
    console: { language: 'en' },
    filtering: { antivirus: { enabled: false } },
  }, { console: true });
  t.teardown(() => ta.cleanup());
  const { app } = ta;
  const url = app.consoleUrl!;
  const ctx = app.console!.context;
  await addConsolePeople(ctx, { dora: ['customer.example'] });
  // Older entries about the customer's domain, enough for a second page.
  for (let i = 0; i < 55; i++) {
    await ctx.audit.record({ actor: 'importer', role: 'admin', ip: '192.0.2.7', action: 'POST /api/lists', domains: ['customer.example'], detail: { value: `spam${i}@shop.test` } });
  }

  const browser = await launchBrowser(t);
  const page = await (await newContext(browser)).newPage();
  await logIn(page, url, ADMIN.username, ADMIN.password);

  // The domain's zone: suggested from the appliance's list, a misspelt one refused at the field.
  await page.goto(`${url}#/domains`);
  await page.getByRole('button', { name: 'tokyo.example' }).click();
  const zone = page.locator('input[name=timezone]');
  t.is(await page.locator(`datalist#${await zone.getAttribute('list')} option[value="Europe/London"]`).count(), 1);
  await zone.fill('Europe/Londn');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('"Europe/Londn" is not a known time zone').waitFor();
  t.is(await zone.getAttribute('aria-invalid'), 'true');
  t.is(app.config.current.domains[1].timezone, undefined);
  await zone.fill('Europe/London');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  t.is(app.config.current.domains[1].timezone, 'Europe/London');

  // The change is the newest entry of the audit log.
  await page.getByRole('link', { name: 'Audit log' }).click();
  const first = page.getByRole('row').nth(1);
  // What was done, in words (the recorded action stays in the cell's title).
  await first.getByText('Changed a domain', { exact: true }).waitFor();
  t.is(await first.getByTitle('PUT /api/domains/:name').count(), 1);
  await first.getByRole('cell', { name: 'tokyo.example', exact: true }).waitFor();
  await first.getByRole('cell', { name: /^admin\s*Appliance admin$/ }).waitFor();
  await page.getByText('50 shown').waitFor();
  await page.screenshot({ path: await screenshotPath('audit-desktop-admin'), fullPage: true });
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.getByText(/^(5[6-9]|6\d) shown$/).waitFor();
  t.is(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'no more pages');
  t.is(await page.getByText('value: spam0@shop.test').count(), 1, 'the oldest entry came with the second page');

  // Filters: what was done, and a user.
  await page.getByLabel('What').fill('tokyo');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('1 shown').waitFor();
  await page.getByLabel('What').fill('');
  await page.getByLabel('User').fill('import');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('50 shown').waitFor();
  t.is(await page.getByRole('cell', { name: 'tokyo.example' }).count(), 0);
  // A date range that ends before today finds nothing.
  await page.getByLabel('User').fill('');
  await page.getByLabel('To date').fill('2020-01-01');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('Nothing found.').waitFor();

  // The domain admin: their own domain's entries and their login, nothing about tokyo.example nor
  // the admin's own login; at desktop and phone width.
  for (const size of ['desktop', 'phone'] as const) {
    const p = await (await newContext(browser, size)).newPage();
    await logIn(p, url, DORA.username, DORA.password);
    await p.goto(`${url}#/audit`);
    await p.getByRole('cell', { name: /^dora\s*Domain admin$/ }).first().waitFor();
    await p.getByText('50 shown').waitFor();
    t.is(await p.getByRole('cell', { name: 'tokyo.example' }).count(), 0, 'another domain\'s entry is not shown');
    t.is(await p.getByText('Changed a domain').count(), 0);
    await p.waitForLoadState('networkidle');
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    t.true(overflow <= 1, `the audit page fits the ${size} width (overflow ${overflow}px)`);
    await p.screenshot({ path: await screenshotPath(`audit-${size}-domain-admin`), fullPage: true });
    await p.close();
  }
  const phone = await (await newContext(browser, 'phone')).newPage();
  await logIn(phone, url, ADMIN.username, ADMIN.password);
  await phone.goto(`${url}#/audit`);
  await phone.getByText('50 shown').waitFor();
  await phone.screenshot({ path: await screenshotPath('audit-phone-admin'), fullPage: true });
});
