// The settings forms and the DNS records page in a real browser: the admin fills the System
// page's network form with a host name that is not a FQDN and sees the problem at the field (the
// browser's check, then the server's when the request is altered on its way), saves a good one
// with NTP servers and an SNMP community row, tries and keeps an interface and the box's own DNS
// servers (a name refused at the field), changes a spam setting on the Filtering page, and
// reads the DNS records page — each record's state as the loopback DNS server answers, a warning
// for the box's private address, and a copy button that puts the value on the clipboard.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ConfigService } from '../../appliance/config/config-service.ts';
import { startConsole } from '../../appliance/api/server.ts';
import { openStore } from '../../appliance/store/store.ts';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { ADMIN, addConsolePeople } from '../helpers/console-people.ts';
import { startDnsServer } from '../helpers/dns-server.ts';

test.before(async () => {
  await ensureWebBuilt();
});

test('settings forms: field errors for a bad host name, saving, and the DNS records page', async (t) => {
  const dns = await startDnsServer({
    'customer.example': { MX: [{ exchange: 'mx.customer.example', priority: 10 }], TXT: ['v=spf1 include:mx.customer.example ~all'] },
    'mx.customer.example': { A: ['192.168.10.25'] },
  });
  t.teardown(() => dns.close());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-e2e-settings-'));
  const store = await openStore(dataDir);
  const config = await ConfigService.open(store);
  await config.replace({
    hostname: 'mx.customer.example', console: { language: 'en' }, relay: { resolver: [dns.address] },
    domains: [{ name: 'customer.example', routes: [{ host: '127.0.0.1', port: 2599 }] }],
  });
  const server = await startConsole({ store, config, dataDir, address: '127.0.0.1', port: 0, log: () => undefined });
  t.teardown(async () => {
    await server.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const ctx = server.context;
  ctx.addresses = () => ['192.168.10.25'];
  await addConsolePeople(ctx);

  const browser = await launchBrowser(t);
  const context = await newContext(browser);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const page = await context.newPage();
  await logIn(page, server.url, ADMIN.username, ADMIN.password);

  // System → Network: the browser refuses a host name that is not fully qualified, at the field.
  await page.goto(`${server.url}#/system`);
  const network = page.getByRole('region', { name: 'Network and mail flow' });
  const host = network.getByLabel('Host name (FQDN)');
  t.is(await host.inputValue(), 'mx.customer.example');
  await host.fill('-bad host name-');
  await network.getByRole('button', { name: 'Save' }).click();
  await network.getByRole('alert').filter({ hasText: 'is not a full DNS name such as mx.example.com' }).first().waitFor();
  t.is(await host.getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: await screenshotPath('settings-hostname-refused'), fullPage: true });
  // The server's own check says the same at the same field: the request is altered on its way.
  await host.fill('mx2.customer.example');
  await page.route('**/api/system/settings/network', async (route) => {
    const body = route.request().postDataJSON() as { values: Record<string, unknown> };
    body.values['/hostname'] = 'bad host!!';
    await route.continue({ postData: JSON.stringify(body) });
  }, { times: 1 });
  await network.getByRole('button', { name: 'Save' }).click();
  await network.getByRole('alert').filter({ hasText: 'is not a full DNS name' }).first().waitFor();
  t.is(await host.getAttribute('aria-invalid'), 'true');
  t.is(config.current.hostname, 'mx.customer.example', 'nothing was saved');
  await network.getByRole('button', { name: 'Save' }).click();
  await network.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  t.is(config.current.hostname, 'mx2.customer.example');
  t.is(await host.getAttribute('aria-invalid'), 'false');

  // Time: an NTP server that is not a host is refused at the field; good ones are saved.
  const time = page.getByRole('region', { name: 'Time', exact: true });
  const ntp = time.getByLabel(/NTP servers/);
  await ntp.fill('ntp.nict.jp\nbad host!!');
  await time.getByRole('button', { name: 'Save' }).click();
  await time.getByRole('alert').filter({ hasText: 'is not a host name or an IP address' }).first().waitFor();
  await ntp.fill('ntp.nict.jp\n192.0.2.123');
  await time.getByRole('button', { name: 'Save' }).click();
  await time.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  t.deepEqual(config.current.time.ntpServers, ['ntp.nict.jp', '192.0.2.123']);

  // Monitoring: an SNMP community as a row of fields, no JSON.
  const monitoring = page.getByRole('region', { name: 'Monitoring' });
  await monitoring.getByRole('button', { name: 'Add a row: SNMPv2c communities (read-only)' }).click();
  await monitoring.getByLabel('Community 1', { exact: true }).fill('watchers');
  await monitoring.getByLabel('Allowed from 1').fill('192.0.2.0/24');
  await monitoring.getByRole('button', { name: 'Save' }).click();
  await monitoring.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  t.deepEqual(config.current.system.snmp.communities, [{ name: 'watchers', source: '192.0.2.0/24' }]);
  t.is(await page.locator('textarea').filter({ hasText: '{' }).count(), 0, 'no JSON shown outside the advanced view');
  await page.screenshot({ path: await screenshotPath('settings-system'), fullPage: true });

  // Network interfaces: a wrong gateway is refused at its field; a change is a trial until kept.
  const nics = page.getByRole('region', { name: 'Network interfaces' });
  await nics.getByLabel('Address').selectOption('static'); // before "Address/prefix" appears
  await nics.getByLabel('Address/prefix').fill('192.0.2.10/24');
  await nics.getByLabel('Gateway').fill('198.51.100.1');
  await nics.getByRole('button', { name: 'Apply for a trial' }).click();
  await nics.getByRole('alert').filter({ hasText: 'is not inside 192.0.2.10/24' }).waitFor();
  t.is(await nics.getByLabel('Gateway').getAttribute('aria-invalid'), 'true');
  await nics.getByLabel('Gateway').fill('192.0.2.1');
  await nics.getByRole('button', { name: 'Apply for a trial' }).click();
  await nics.getByRole('alert').filter({ hasText: /Confirm before .*, or the previous settings come back by themselves/ }).waitFor();
  t.is(ctx.network.current?.state, 'pending');
  await page.screenshot({ path: await screenshotPath('settings-network-trial'), fullPage: true });
  await nics.getByRole('button', { name: 'Keep these settings' }).click();
  await nics.getByRole('status').filter({ hasText: 'The new network settings are kept.' }).waitFor();
  t.is(ctx.network.current?.state, 'confirmed');

  // The box's own DNS servers: a name is refused at the field; addresses are a trial until kept.
  const resolvers = page.getByRole('region', { name: 'DNS servers of the box' });
  await resolvers.getByLabel('DNS servers (one address per line)').fill('192.0.2.53\ndns.example');
  await resolvers.getByRole('button', { name: 'Apply for a trial' }).click();
  await resolvers.getByRole('alert').filter({ hasText: '"dns.example" is not an IP address of a DNS server' }).first().waitFor();
  await resolvers.getByLabel('DNS servers (one address per line)').fill('192.0.2.53\n2001:db8::53');
  await resolvers.getByRole('button', { name: 'Apply for a trial' }).click();
  await resolvers.getByRole('alert').filter({ hasText: /The box's DNS servers are applied\. Confirm before .*, or the previous ones come back by themselves/ }).waitFor();
  t.deepEqual(ctx.network.current?.resolvers, ['192.0.2.53', '2001:db8::53']);
  await page.screenshot({ path: await screenshotPath('settings-resolvers-trial'), fullPage: true });
  await resolvers.getByRole('button', { name: 'Keep these settings' }).click();
  await resolvers.getByRole('status').filter({ hasText: 'The new network settings are kept.' }).waitFor();
  t.is(ctx.network.current?.state, 'confirmed');

  // Filtering → Spam: a threshold out of range is refused at the field, a good one saved.
  await page.goto(`${server.url}#/filtering`);
  const spam = page.getByRole('region', { name: 'Spam', exact: true });
  const threshold = spam.getByLabel('Spam threshold (%)');
  await threshold.fill('150');
  await spam.getByRole('button', { name: 'Save' }).click();
  await spam.getByRole('alert').filter({ hasText: 'must be <= 100' }).first().waitFor();
  await threshold.fill('85');
  await spam.getByRole('button', { name: 'Save' }).click();
  await spam.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  t.is(config.current.filtering.spamThreshold, 85);

  // DNS records: states from the loopback DNS server (the host name is now mx2, not yet published).
  await page.getByRole('link', { name: 'DNS records' }).click();
  const domain = page.getByRole('region', { name: 'customer.example' });
  await domain.getByRole('row', { name: /MX/ }).getByText('Published differently: 10 mx.customer.example').waitFor();
  await domain.getByRole('row', { name: /v=spf1 include:mx2\.customer\.example/ }).getByText('Published differently').waitFor();
  await page.getByRole('alert').filter({ hasText: '192.168.10.25 is a private address' }).waitFor();
  // Once the zone says what the page asks for, a re-check shows it published.
  dns.zone['customer.example'] = { MX: [{ exchange: 'mx2.customer.example', priority: 10 }], TXT: ['v=spf1 include:mx2.customer.example ~all'] };
  await page.getByRole('button', { name: 'Check again' }).click();
  await domain.getByRole('row', { name: /MX/ }).getByText('Published', { exact: false }).filter({ hasText: /^✓/ }).waitFor();
  await domain.getByRole('button', { name: 'Copy: MX 10 mx2.customer.example.' }).click();
  await page.getByRole('status').filter({ hasText: 'Copied: 10 mx2.customer.example.' }).waitFor();
  t.is(await page.evaluate(() => navigator.clipboard.readText()), '10 mx2.customer.example.');
  await page.screenshot({ path: await screenshotPath('settings-dns-records'), fullPage: true });
});
