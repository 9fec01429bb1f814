// The system update page in a real browser, against the console with the stand-in rauc of the
// API test (test/helpers/rauc.ts) on a box "booted" from system A that fell back from B before.
// The admin (English, desktop) sees the running system, the other one empty, the fallback and its
// reason; a bundle RAUC refuses is refused with its reason; a good one is uploaded with its
// progress shown (the upload throttled, so there is a moment to see it), then its version and
// notes before anything is installed; "install and reboot" asks (Cancel does nothing), shows the
// install's progress (held by the stand-in's gate) and then the restart, asked of root; when the
// box "comes back" on B the page shows it, and while B's boot check runs, that settings are held.
// A domain admin has no such page. An admin in Japanese
// on a phone (first): the page in the catalog's words, no wider than the screen. Screenshots go to
// test-artifacts/screenshots.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ConfigService } from '../../appliance/config/config-service.ts';
import { startConsole } from '../../appliance/api/server.ts';
import { openStore } from '../../appliance/store/store.ts';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { ADMIN, DORA, addConsolePeople } from '../helpers/console-people.ts';
import { standInBundle, standInRauc } from '../helpers/rauc.ts';

test.before(async () => {
  await ensureWebBuilt();
});

test('system update page: status and fallback, refused and good bundles, version and notes first, install and reboot with progress; admins only; Japanese on a phone', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-e2e-update-'));
  const gate = path.join(dataDir, 'let-the-install-finish');
  const rauc = await standInRauc(dataDir, dataDir, { gate });
  await mkdir(path.join(dataDir, 'updates'));
  const reason = 'the daemon was not healthy within 10 min: SMTP on port 25 did not answer';
  await writeFile(path.join(dataDir, 'updates', 'fallback.json'), JSON.stringify({ from: 'B', to: 'A', reason, at: '2026-11-30T14:20:00Z' }));
  await writeFile(path.join(dataDir, 'updates', 'slot-check.json'), JSON.stringify({ slot: 'A', version: '0.1.0', result: 'good', at: '2026-11-30T14:25:00Z' }));
  const store = await openStore(dataDir);
  const config = await ConfigService.open(store);
  await config.replace({ console: { language: 'en' } });
  let cmdline = 'BOOT_IMAGE=/vmlinuz root=PARTUUID=x rauc.slot=A ro quiet';
  const server = await startConsole({ store, config, dataDir, address: '127.0.0.1', port: 0, log: () => undefined,
    updates: { rauc, get cmdline() { return cmdline; } } });
  t.teardown(async () => {
    await server.close();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const ctx = server.context;
  await addConsolePeople(ctx, { dora: ['customer.example'] });
  await ctx.users.create({ username: 'kanri', role: 'admin', password: ADMIN.password, language: 'ja' });
  const url = server.url;

  const browser = await launchBrowser(t);
  // An admin in Japanese on a phone: a bundle checked, in the catalog's words, no wider than 390 px; then discarded.
  const phone = await (await newContext(browser, 'phone')).newPage();
  await logIn(phone, url, 'kanri', ADMIN.password);
  await phone.goto(`${url}#/update`);
  await phone.getByRole('heading', { name: 'システム更新', level: 1 }).waitFor();
  const phoneUpload = phone.getByRole('region', { name: '更新のアップロード' });
  await phoneUpload.getByLabel('更新バンドル').setInputFiles({ name: 'mailmoat-0.3.0-amd64.raucb', mimeType: 'application/octet-stream', buffer: standInBundle({ version: '0.3.0' }) });
  await phoneUpload.getByRole('button', { name: 'アップロードして確認' }).click();
  const phoneBundle = phone.getByRole('region', { name: 'インストールの準備ができました' });
  await phoneBundle.getByRole('row', { name: /インストール先/ }).getByText('システム B').waitFor();
  await phoneBundle.getByRole('button', { name: 'インストールして再起動' }).waitFor();
  t.true(await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth) <= 1, 'fits 390 px');
  await phone.screenshot({ path: await screenshotPath('update-phone-ja'), fullPage: true });
  await phoneBundle.getByRole('button', { name: '破棄' }).click();
  await phone.getByRole('status').filter({ hasText: 'バンドルを破棄しました。' }).waitFor();
  await phone.close();

  const context = await newContext(browser);
  const page = await context.newPage();
  await logIn(page, url, ADMIN.username, ADMIN.password);
  await page.getByRole('link', { name: 'System update' }).click();
  await page.getByRole('heading', { name: 'System update', level: 1 }).waitFor();
  const running = page.getByRole('region', { name: 'Running system' });
  await running.getByText('System A').waitFor();
  const fallback = page.getByRole('alert').filter({ hasText: 'System B did not become healthy, so the box went back to system A by itself' });
  await fallback.getByText(reason).waitFor();
  const systems = page.getByRole('region', { name: 'Systems' });
  await systems.getByRole('row').filter({ hasText: 'System B' }).getByText('empty (nothing installed yet)').waitFor();
  await systems.getByRole('row').filter({ hasText: 'System A' }).getByText('(running now)').waitFor();
  await systems.getByText(/^System A \(0\.1\.0\) was found healthy on /).waitFor();

  // A bundle RAUC refuses: its reason, and nothing to install.
  const upload = page.getByRole('region', { name: 'Upload an update' });
  await upload.getByRole('button', { name: 'Upload and check' }).click();
  await page.getByRole('alert').filter({ hasText: 'Choose a bundle file first.' }).waitFor();
  await upload.getByLabel('Update bundle').setInputFiles({ name: 'forged.raucb', mimeType: 'application/octet-stream', buffer: standInBundle({ unsigned: true }) });
  await upload.getByRole('button', { name: 'Upload and check' }).click();
  await page.getByRole('alert').filter({ hasText: 'The update bundle was refused: Failed to verify bundle signature: signature verification failed: no certificate matches' }).waitFor();
  t.is(await page.getByRole('region', { name: 'Ready to install' }).count(), 0);

  // A good one, 6 MB at 1 MB/s: the upload's progress is there to be seen, then the bundle's version and notes.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024 });
  const notes = 'Mailmoat 0.2.0: mail queue page, faster message log export';
  await upload.getByLabel('Update bundle').setInputFiles({ name: 'mailmoat-0.2.0-amd64.raucb', mimeType: 'application/octet-stream',
    buffer: standInBundle({ version: '0.2.0', description: notes, size: 6 * 1024 * 1024 }) });
  await upload.getByRole('button', { name: 'Upload and check' }).click();
  await upload.getByText(/^Uploading: \d+% \([\d.]+ (byte|kB|MB) of 6\.3 MB\)$/).waitFor();
  t.true(await upload.getByRole('button', { name: 'Upload and check' }).isDisabled(), 'no second upload while one runs');
  await page.screenshot({ path: await screenshotPath('update-uploading'), fullPage: true });
  const bundle = page.getByRole('region', { name: 'Ready to install' });
  await bundle.getByRole('row', { name: /Version/ }).getByText('0.2.0').waitFor();
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await bundle.getByRole('row', { name: /Notes/ }).getByText(notes).waitFor();
  await bundle.getByRole('row', { name: /Installs into/ }).getByText('System B').waitFor();
  await bundle.getByRole('row', { name: /Size/ }).getByText('6.3 MB').waitFor();
  await page.screenshot({ path: await screenshotPath('update-bundle-checked'), fullPage: true });

  // Install and reboot asks first; Cancel leaves the bundle waiting.
  const dialog = page.getByRole('dialog');
  await bundle.getByRole('button', { name: 'Install and reboot' }).click();
  await dialog.getByRole('heading', { name: 'Install 0.2.0 and reboot?' }).waitFor();
  await dialog.getByText(/^Version 0\.2\.0 is installed into system B, then the box restarts into it\..*returns to system A by itself\.$/).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  t.is((await ctx.audit.search({ limit: 50, visible: () => true })).items.filter((r) => r.action === 'POST /api/system/update/bundle/install').length, 0);
  await bundle.getByRole('button', { name: 'Install and reboot' }).click();
  await dialog.getByRole('button', { name: 'Install and reboot' }).click();

  // The install's progress (the stand-in holds at 40 % until the gate opens), then the restart.
  await page.getByText('Installing into system B: 40%').waitFor();
  await page.getByText('Copying image to rootfs.1').waitFor();
  t.is(await page.locator('mm-update progress').getAttribute('value'), '40');
  t.true(await upload.getByRole('button', { name: 'Upload and check' }).isDisabled(), 'no upload while installing');
  await page.screenshot({ path: await screenshotPath('update-installing'), fullPage: true });
  await writeFile(gate, '');
  await page.getByRole('status').filter({ hasText: 'Version 0.2.0 is installed in system B. The box is restarting into it' }).waitFor();
  t.regex(await readFile(path.join(dataDir, 'updates', 'reboot-request'), 'utf8'), /to start system B \(0\.2\.0\)/);
  t.is(await page.getByRole('region', { name: 'Ready to install' }).count(), 0);
  // The box "comes back" on B: the page shows it without a reload.
  cmdline = 'BOOT_IMAGE=/vmlinuz root=PARTUUID=y rauc.slot=B ro quiet';
  await running.getByText('System B').waitFor();
  await systems.getByRole('row').filter({ hasText: 'System B' }).getByText('(running now)').waitFor();
  await systems.getByRole('row').filter({ hasText: 'System B' }).getByText('0.2.0').waitFor();
  t.is(await page.getByRole('alert').filter({ hasText: 'did not become healthy' }).count(), 0, 'the old fallback is no longer news');
  // System B on trial: its boot check runs and the box could still go back, so settings are held
  // (the API refuses them) and the page says until when; it follows the check until it has passed.
  const check = (record: object) => writeFile(path.join(dataDir, 'updates', 'slot-check.json'), JSON.stringify({ slot: 'B', version: '0.2.0', ...record }));
  await check({ result: 'checking', fallbackUntil: new Date(Date.now() + 15 * 60_000).toISOString(), at: new Date().toISOString() });
  await page.reload();
  await systems.getByText(/^System B \(0\.2\.0\) is being checked \(since /).waitFor();
  await systems.getByText(/^Until the check passes \(by .+ at the latest\) settings cannot be saved/).waitFor();
  await check({ result: 'good', at: new Date().toISOString() });
  await systems.getByText(/^System B \(0\.2\.0\) was found healthy on /).waitFor();
  t.is(await page.locator('#settings-held').count(), 0);
  await page.close();

  // A domain admin has no update page.
  const doraPage = await (await newContext(browser)).newPage();
  await logIn(doraPage, url, DORA.username, DORA.password);
  t.is(await doraPage.getByRole('link', { name: 'System update' }).count(), 0);
  await doraPage.close();

});
