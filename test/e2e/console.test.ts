// The web console in a real browser: the first-boot wizard end to end over HTTPS (with a live
// route test against a loopback SMTP server), then logging in as each role and visiting every
// page that role has, at desktop and phone width. Screenshots go to test-artifacts/screenshots.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ConfigService } from '../../appliance/config/config-service.ts';
import { startConsole } from '../../appliance/api/server.ts';
import { openStore } from '../../appliance/store/store.ts';
import { ensureWebBuilt, launchBrowser, newContext, screenshotPath } from '../helpers/browser.ts';

test.before(async () => {
  await ensureWebBuilt();
});

async function fakeMailServer(t: Parameters<typeof launchBrowser>[0]): Promise<number> {
  const server = net.createServer((s) => {
    s.write('220 customer-mx ESMTP ready\r\n');
    s.on('data', (d) => s.write(/^QUIT/i.test(d.toString()) ? '221 bye\r\n' : '250 customer-mx\r\n'));
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

test('first-boot wizard end to end, then every role and page', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-e2e-'));
  const store = await openStore(dataDir);
  const config = await ConfigService.open(store);
  const lines: string[] = [];
  const consoleServer = await startConsole({ store, config, dataDir, address: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
  t.teardown(async () => {
    await consoleServer.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const mxPort = await fakeMailServer(t);
  const code = (await readFile(path.join(dataDir, 'setup-code'), 'utf8')).trim();
  t.true(lines.some((l) => l.includes(code)), 'the setup code is printed to the log');

  const browser = await launchBrowser(t);
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(consoleServer.url);

  // Claim: a wrong code first, then the right one.
  await page.getByLabel('セットアップコード').fill('AAAA-BBBB');
  await page.getByRole('button', { name: 'セットアップを開始' }).click();
  await page.getByRole('alert').filter({ hasText: 'セットアップコードが違います' }).waitFor();
  await page.screenshot({ path: await screenshotPath('wizard-0-claim') });
  await page.getByLabel('セットアップコード').fill(code);
  await page.getByRole('button', { name: 'セットアップを開始' }).click();

  // Language: switch to English for the rest of the wizard.
  await page.getByRole('radio', { name: 'English' }).check();
  await page.screenshot({ path: await screenshotPath('wizard-1-language') });
  await page.getByRole('button', { name: 'Next' }).click();

  // Admin account: a short password is refused in the browser, next to its field.
  await page.getByLabel('Password (at least 10 characters)').fill('short');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText('must be at least 10 characters').waitFor();
  await page.getByLabel('Password (at least 10 characters)').fill('wizard password 1');
  await page.getByLabel('Password again').fill('wizard password 1');
  await page.screenshot({ path: await screenshotPath('wizard-2-admin') });
  await page.getByRole('button', { name: 'Next' }).click();

  // A host name that is not fully qualified is refused at its field before it can be published.
  await page.getByLabel(/Host name of this appliance/).fill('-bad host name-');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText('is not a full DNS name such as mx.example.com').waitFor();
  t.is(await page.getByLabel(/Host name of this appliance/).getAttribute('aria-invalid'), 'true');
  await page.getByLabel(/Host name of this appliance/).fill('mx.customer.example');
  await page.screenshot({ path: await screenshotPath('wizard-3-host') });
  await page.getByRole('button', { name: 'Next' }).click();

  // The zone is typed with suggestions from the appliance's list; a name not on it is refused here.
  const zone = page.getByLabel('Time zone');
  t.is(await zone.inputValue(), 'Asia/Tokyo');
  t.true(await page.locator(`datalist#${await zone.getAttribute('list')} option[value="America/New_York"]`).count() === 1);
  await zone.fill('Asia/Tokio');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText('"Asia/Tokio" is not a known time zone').waitFor();
  t.is(await zone.getAttribute('aria-invalid'), 'true');
  await zone.fill('Asia/Tokyo');
  // So is an NTP server that is neither a host name nor an address.
  await page.getByLabel(/NTP/).fill('bad host!!');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText('is not a host name or an IP address').waitFor();
  await page.getByLabel(/NTP/).fill('ntp.nict.jp');
  await page.screenshot({ path: await screenshotPath('wizard-4-time') });
  await page.getByRole('button', { name: 'Next' }).click();

  await page.getByLabel(/Domain to filter/).fill('customer.example');
  await page.getByLabel(/Your mail server/).fill('127.0.0.1');
  await page.getByLabel('Its SMTP port').fill('1');
  await page.getByRole('button', { name: 'Test' }).click();
  await page.getByText('Connection failed: connection refused (nothing listens on that port)').waitFor();
  await page.getByLabel('Its SMTP port').fill(String(mxPort));
  await page.getByRole('button', { name: 'Test' }).click();
  await page.getByRole('status').filter({ hasText: 'customer-mx ESMTP ready' }).waitFor();
  await page.screenshot({ path: await screenshotPath('wizard-5-domain') });
  await page.getByRole('button', { name: 'Next' }).click();

  await page.getByRole('radio', { name: 'Keep the generated certificate' }).waitFor();
  await page.screenshot({ path: await screenshotPath('wizard-6-tls') });
  await page.getByRole('button', { name: 'Next' }).click();

  await page.getByLabel(/Admin contact address/).fill('postmaster@customer.example');
  await page.getByRole('button', { name: 'Next' }).click();

  await page.getByRole('cell', { name: 'v=spf1 include:mx.customer.example ~all' }).waitFor();
  await page.screenshot({ path: await screenshotPath('wizard-8-summary'), fullPage: true });
  await page.getByRole('button', { name: 'Finish setup' }).click();
  await page.getByRole('heading', { name: 'Setup is complete' }).waitFor();
  await page.screenshot({ path: await screenshotPath('wizard-9-done'), fullPage: true });
  t.false(consoleServer.context.setup.inSetup);
  t.is(config.current.domains[0].routes[0].port, mxPort);

  // Into the console as the new admin; the wizard is gone for good.
  await page.getByRole('button', { name: 'Open the console' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  const again = await page.request.post(new URL('/api/setup/claim', consoleServer.url).href, { data: { code } });
  t.is(again.status(), 410);

  // The admin creates a domain admin and a mailbox user through the Users page.
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByLabel(/User name \(mailbox users/).fill('carol@customer.example');
  await page.locator('input[name=new-password]').fill('mailbox password 1');
  await page.locator('input[name=new-password-again]').fill('mailbox password 1');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('cell', { name: 'carol@customer.example', exact: true }).waitFor();
  await page.getByLabel(/User name \(mailbox users/).fill('dora');
  await page.getByLabel('Role').selectOption('domain-admin');
  await page.getByRole('checkbox', { name: 'customer.example' }).check();
  await page.locator('input[name=new-password]').fill('domain password 1');
  await page.locator('input[name=new-password-again]').fill('domain password 1');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('cell', { name: 'dora', exact: true }).waitFor();

  const roles: [string, string, string[]][] = [
    ['admin', 'wizard password 1', ['dashboard', 'domains', 'dns', 'filtering', 'policy', 'lists', 'quarantine', 'training', 'messages', 'statistics', 'reports', 'queue', 'audit', 'users', 'system', 'update', 'account']],
    ['dora', 'domain password 1', ['dashboard', 'domains', 'dns', 'filtering', 'policy', 'lists', 'quarantine', 'training', 'messages', 'statistics', 'reports', 'queue', 'audit', 'users', 'account']],
    ['carol@customer.example', 'mailbox password 1', ['dashboard', 'lists', 'quarantine', 'messages', 'reports', 'account']],
  ];
  for (const size of ['desktop', 'phone'] as const) {
    for (const [username, password, pages] of roles) {
      const ctx = await newContext(browser, size);
      const p = await ctx.newPage();
      await p.goto(consoleServer.url);
      await p.getByLabel('User name or email address').fill(username);
      await p.getByLabel('Password').fill(password);
      await p.getByRole('button', { name: 'Log in' }).click();
      await p.getByRole('button', { name: 'Log out' }).waitFor();
      const nav = p.getByRole('navigation');
      if (size === 'phone') await p.getByRole('button', { name: /Menu/ }).click();
      const links = await nav.getByRole('link').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).hash.slice(2)));
      t.deepEqual(links, pages, `${username} sees exactly their pages`);
      for (const id of pages) {
        await p.goto(`${consoleServer.url}#/${id}`);
        await p.locator('main h1').first().waitFor();
        await p.waitForLoadState('networkidle');
        const who = username.split('@')[0];
        await p.screenshot({ path: await screenshotPath(`${size}-${who}-${id}`), fullPage: true });
      }
      // Pages outside the role fall back to the dashboard; their API refuses.
      if (username !== 'admin') {
        const res = await p.request.get(new URL('/api/system/config', consoleServer.url).href);
        t.is(res.status(), 403);
      }
      await ctx.close();
    }
  }
});
