// The wizard's "restore from a backup" in a real browser: a fresh daemon (the real `mailmoat start`
// process) in setup mode is claimed with its setup code, then given a backup archive of another box
// and its passphrase instead of the setup steps; a wrong passphrase is refused on the page, the
// right one restores, the daemon restarts onto the backup by itself, and the restored admin logs in
// through the login page and sees the restored domain.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { SetupState } from '../../appliance/api/setup-state.ts';
import { UserStore } from '../../appliance/api/users.ts';
import { backupToFile } from '../../appliance/backup/backup.ts';
import { eventually, startTestAppliance, testConfig, writeConfig } from '../helpers/appliance.ts';
import { ensureWebBuilt, launchBrowser, newContext, screenshotPath } from '../helpers/browser.ts';
import { startDaemon } from '../helpers/daemon.ts';

const PASS = 'wizard restore passphrase';

test.before(async () => { await ensureWebBuilt(); });

test('a first-boot admin restores a backup in the wizard instead of the setup steps', async (t) => {
  const work = await mkdtemp(path.join(os.tmpdir(), 'mailmoat-e2e-restore-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  // The box that was backed up: a domain and an admin, setup finished. No clamd: the test needs none.
  const source = await startTestAppliance({ domains: [{ name: 'restored.example', routes: [{ host: '127.0.0.1', port: 2525 }] }], filtering: { antivirus: { enabled: false } } });
  t.teardown(() => source.cleanup());
  await new UserStore(source.app.store).create({ username: 'boss', role: 'admin', password: PASS, language: 'en' });
  await (await SetupState.open(source.app.store, source.dataDir)).complete('test');
  const archive = path.join(work, 'box.mmbackup');
  await backupToFile(source.app.store, source.dataDir, archive, PASS);

  const configFile = await writeConfig(work, testConfig({ domains: [{ name: 'fresh.example', routes: [{ host: '127.0.0.1', port: 2525 }] }], filtering: { antivirus: { enabled: false } } }));
  // Started as the image starts it: the file seeds an empty store and never replaces the restored configuration.
  const daemon = await startDaemon(configFile, path.join(work, 'data'), { seed: true });
  t.teardown(async () => { if (daemon.child.exitCode === null) { daemon.child.kill('SIGTERM'); await daemon.exited; } });
  const [, url, code] = /console: setup mode — open (https:\/\/\S+?) and enter the setup code (\S+)/.exec(daemon.output())!;

  const browser = await launchBrowser(t);
  const page = await (await newContext(browser)).newPage();
  await page.goto(url);
  await page.getByLabel('セットアップコード').fill(code);
  await page.getByRole('button', { name: 'セットアップを開始' }).click();
  await page.getByRole('radio', { name: 'English' }).check();
  await page.getByRole('button', { name: 'Restore from a backup instead' }).click();

  // Nothing chosen, then a wrong passphrase: refused on the page, nothing restored.
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Choose the backup archive.' }).waitFor();
  await page.getByLabel('Backup archive (.mmbackup)').setInputFiles(archive);
  await page.getByLabel('Backup passphrase').fill('not the passphrase');
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: /passphrase/i }).waitFor();
  await page.screenshot({ path: await screenshotPath('wizard-restore-refused') });
  t.notRegex(daemon.output(), /restarting to apply the restored backup/);

  await page.getByLabel('Backup passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('status').filter({ hasText: /The backup was restored \(\d+ records, \d+ files\)\. The appliance restarts onto it/ }).waitFor();
  await page.screenshot({ path: await screenshotPath('wizard-restore-done') });

  // The same process restarts onto the backup (its console on a new port: the restored configuration asks for any free one).
  const again = await eventually(() => /restored the backup of [\s\S]*console: listening on (https:\/\/\S+)/.exec(daemon.output())?.[1], 60_000).catch((err: Error) => { t.log(daemon.output()); throw err; });
  t.is(daemon.child.exitCode, null);
  // A new origin (its port changed): the page starts in its default language again.
  await page.goto(again);
  await page.getByLabel('ユーザー名またはメールアドレス').fill('boss');
  await page.getByLabel('パスワード').fill(PASS);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.getByRole('button', { name: /Log out|ログアウト/ }).waitFor();
  await page.evaluate(() => { location.hash = '#/domains'; });
  await page.screenshot({ path: await screenshotPath('wizard-restore-domains') });
  await page.getByRole('button', { name: 'restored.example' }).waitFor();
  t.is(await page.getByRole('button', { name: 'fresh.example' }).count(), 0, 'the fresh box\'s seed configuration is gone');
});
