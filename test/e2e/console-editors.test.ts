// The console's editors and lists in a real browser against the real appliance, set up without
// the wizard: the class → action rules editor (reorder by keyboard, add a tag rule, a bad tag
// caught next to its row, save, reload shows the order), the outbound rules (a list of their own
// from a copy, a server problem in its row, saved and reloaded, switched back), the confirmation
// dialog (Escape cancels and gives focus back, confirming acts), a user created through the form
// and their password reset in a dialog with the server's refusal next to the field, "Load more"
// on the quarantine (selection kept across pages) and message log, and times in each domain's own
// zone. Screenshots of the changed pages at desktop and phone width go to test-artifacts/screenshots.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type { Page } from 'playwright-core';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { startTestAppliance } from '../helpers/appliance.ts';

test.before(async () => {
  await ensureWebBuilt();
});

const NEWEST = Date.parse('2026-11-23T04:40:00Z');
const ADMIN_PASSWORD = 'admin password 1';

/** The element focused, looking into shadow roots. */
const focused = (page: Page) => page.evaluate(() => {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el ? `${el.tagName.toLowerCase()}:${el.getAttribute('aria-label') ?? el.textContent?.trim() ?? ''}` : '';
});

test('rules editor, dialogs, user form and password reset, paged lists, times in each domain\'s zone', async (t) => {
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
  await app.console!.context.setup.complete('test');
  await app.console!.context.users.create({ username: 'admin', role: 'admin', password: ADMIN_PASSWORD, language: 'en' });

  // 60 held messages a minute apart, alternating between the New York and the Tokyo domain, and
  // 60 message log records the same way.
  const raw = path.join(ta.dataDir, 'held.eml');
  await writeFile(raw, 'From: promo@shop.test\r\nSubject: Offer\r\n\r\nBuy now\r\n');
  for (let i = 0; i < 60; i++) {
    const address = i % 2 ? 'erin@customer.example' : 'taro@tokyo.example';
    const at = NEWEST - i * 60_000;
    await app.quarantine.put({
      queueId: `Q${String(i).padStart(3, '0')}`, receivedAt: at, direction: 'inbound', mailFrom: 'promo@shop.test', fromHeader: 'promo@shop.test',
      subject: `Offer ${i}`, messageId: `<o${i}@shop.test>`, size: 50, mainClass: 'Spam', score: 95, reasons: [], clientIp: '192.0.2.1',
      recipients: [{ address, domain: address.split('@')[1], mainClass: 'Spam', headerEdits: { prepend: [] }, why: ['test'] }],
    }, raw, at);
    await app.log.put({ id: `L${String(1000 - i).padStart(4, '0')}`, receivedAt: at, direction: 'inbound', mailFrom: 'promo@shop.test', subject: `Logged ${i}`, size: 50,
      recipients: [{ address, original: address, status: 'delivered' }], attempts: [], status: 'delivered' });
  }

  const browser = await launchBrowser(t);
  const page = await (await newContext(browser)).newPage();
  await logIn(page, url, 'admin', ADMIN_PASSWORD);

  // Rules editor: move "Blacklisted" (rule 2) to the top by keyboard; focus stays on the moved rule.
  await page.goto(`${url}#/filtering`);
  const rule = (n: number) => page.getByRole('listitem', { name: `Rule ${n}`, exact: true });
  t.is(await rule(2).getByLabel('Class').inputValue(), 'Blacklisted');
  await page.getByRole('button', { name: 'Move rule 2 up' }).focus();
  await page.keyboard.press('Enter');
  t.is(await rule(1).getByLabel('Class').inputValue(), 'Blacklisted');
  t.is(await rule(2).getByLabel('Class').inputValue(), 'Virus');
  t.is(await focused(page), 'button:Move rule 1 down', 'at the top, focus moves to the rule\'s other move button');
  await page.getByRole('status').filter({ hasText: 'Rule moved to position 1.' }).waitFor();
  await page.keyboard.press('Enter');
  t.is(await rule(2).getByLabel('Class').inputValue(), 'Blacklisted', 'and it moves back down by keyboard too');
  await page.getByRole('button', { name: 'Move rule 2 up' }).click();

  // Add a tag rule; a tag over 64 characters is refused next to its row before anything is sent.
  await page.getByRole('button', { name: 'Add a rule' }).click();
  await rule(7).getByLabel('Class').selectOption('Phish');
  await rule(7).getByLabel('Action').selectOption('tag');
  await rule(7).getByText('Never applies: rule 3 already decides Phish.').waitFor();
  await rule(7).getByLabel('Class').selectOption('Whitelisted');
  await rule(7).getByRole('textbox').fill('X'.repeat(70));
  await page.getByRole('button', { name: 'Save' }).first().click();
  await rule(7).getByRole('alert').waitFor();
  t.is(await rule(7).getAttribute('aria-invalid'), 'true');
  t.false(app.config.current.filtering.rules.some((r) => r.class === 'Whitelisted'), 'nothing was saved');
  await rule(7).getByRole('textbox').fill('CHECKED!!');
  await page.getByRole('button', { name: 'Save' }).first().click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const want = ['Blacklisted', 'Virus', 'Phish', 'Spam', 'Unsure', 'Error', 'Whitelisted'];
  t.deepEqual(app.config.current.filtering.rules.map((r) => r.class), want);
  t.deepEqual(app.config.current.filtering.rules.at(-1), { class: 'Whitelisted', action: 'tag', tag: 'CHECKED!!' });
  await page.screenshot({ path: await screenshotPath('editors-desktop-filtering'), fullPage: true });
  await page.reload();
  await rule(7).waitFor();
  for (const [i, cls] of want.entries()) t.is(await rule(i + 1).getByLabel('Class').inputValue(), cls, `rule ${i + 1} after reload`);
  t.is(await rule(7).getByRole('textbox').inputValue(), 'CHECKED!!');

  // Outbound rules: off by default (outbound mail uses the rules above); switched to a list of
  // their own, which starts as a copy of the inbound rules, edited, refused by the server next to
  // the right row, saved, shown again after a reload, then switched back (the key is removed).
  const outboundGroup = page.getByRole('group', { name: 'Outbound (submission) rules' });
  const own = outboundGroup.getByRole('switch', { name: 'Use the inbound rules' });
  const outRule = (n: number) => outboundGroup.getByRole('listitem', { name: `Rule ${n}`, exact: true });
  const inRule = (n: number) => page.getByRole('group', { name: 'Class → action rules' }).getByRole('listitem', { name: `Rule ${n}`, exact: true });
  t.true(await own.isChecked());
  t.is(await outboundGroup.getByRole('listitem').count(), 0);
  await own.uncheck();
  await outRule(7).waitFor();
  for (const [i, cls] of want.entries()) t.is(await outRule(i + 1).getByLabel('Class').inputValue(), cls, `outbound rule ${i + 1} copies the inbound one`);
  await outRule(4).getByLabel('Action').selectOption('reject');
  await outRule(7).getByRole('button', { name: 'Remove rule 7' }).click();
  t.is(await outboundGroup.getByRole('listitem').count(), 6);
  t.is(await inRule(4).getByLabel('Action').inputValue(), 'quarantine', 'the inbound rules are not changed by the copy');
  t.is(await inRule(7).getByLabel('Class').inputValue(), 'Whitelisted');
  // The browser checks the same schema first, so the server's refusal is provoked by changing the
  // request on its way: rule 2's action becomes one the server does not know.
  await page.route('**/api/system/settings/rules', async (route) => {
    const body = route.request().postDataJSON() as { values: { '/filtering/outboundRules': { action: string }[] } };
    body.values['/filtering/outboundRules'][1].action = 'bounce';
    await route.continue({ postData: JSON.stringify(body) });
  }, { times: 1 });
  await page.getByRole('button', { name: 'Save' }).first().click();
  await outRule(2).getByRole('alert').filter({ hasText: 'must be one of: accept, tag, quarantine, reject, delete' }).waitFor();
  t.is(await outRule(2).getAttribute('aria-invalid'), 'true');
  t.is(await inRule(2).getAttribute('aria-invalid'), 'false', 'the problem is shown in the outbound row, not the inbound one');
  t.is(app.config.current.filtering.outboundRules, undefined, 'nothing was saved');
  await page.getByRole('button', { name: 'Save' }).first().click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const wantOut = ['Blacklisted', 'Virus', 'Phish', 'Spam', 'Unsure', 'Error'];
  t.deepEqual(app.config.current.filtering.outboundRules?.map((r) => r.class), wantOut);
  t.deepEqual(app.config.current.filtering.outboundRules?.[3], { class: 'Spam', action: 'reject' });
  t.deepEqual(app.config.current.filtering.rules.map((r) => r.class), want, 'the inbound rules stay as they were');
  t.is(await outRule(2).getAttribute('aria-invalid'), 'false', 'the problem is gone once saved');
  await page.screenshot({ path: await screenshotPath('editors-desktop-filtering-outbound'), fullPage: true });
  await page.reload();
  await outRule(6).waitFor();
  t.false(await own.isChecked());
  for (const [i, cls] of wantOut.entries()) t.is(await outRule(i + 1).getByLabel('Class').inputValue(), cls, `outbound rule ${i + 1} after reload`);
  t.is(await outRule(4).getByLabel('Action').inputValue(), 'reject');
  await own.check();
  t.is(await outboundGroup.getByRole('listitem').count(), 0);
  await page.getByRole('button', { name: 'Save' }).first().click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  t.false('outboundRules' in app.config.current.filtering, 'switched back: the saved configuration has no outboundRules');
  await page.reload();
  await rule(7).waitFor();
  t.true(await own.isChecked());

  // Quarantine: the newest 50, each in its domain's zone; selection survives "Load more".
  await page.goto(`${url}#/quarantine`);
  await page.getByText('50 shown').waitFor();
  await page.getByRole('row', { name: /Offer 0\b/ }).getByText('23 Nov 2026, 13:40 GMT+9').waitFor();
  await page.getByRole('row', { name: /Offer 1\b/ }).getByText('22 Nov 2026, 23:39 GMT-5').waitFor();
  await page.getByRole('checkbox', { name: 'Offer 3', exact: true }).check();
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.getByText('60 shown').waitFor();
  t.is(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'no more pages');
  await page.getByRole('checkbox', { name: 'Offer 55', exact: true }).check();
  await page.getByText('2 selected').waitFor();

  // The delete dialog: labelled, focus on Cancel, Escape cancels and focus goes back.
  const del = page.getByRole('button', { name: 'Delete', exact: true }).first();
  await del.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Delete quarantined mail' });
  await dialog.getByText('Delete 2 message(s)? This cannot be undone.').waitFor();
  t.is(await focused(page), 'button:Cancel');
  await page.screenshot({ path: await screenshotPath('editors-desktop-quarantine-dialog') });
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  t.is(await focused(page), 'button:Delete', 'focus is back on the button that opened the dialog');
  t.is((await app.quarantine.search({ limit: 100 })).length, 60, 'cancelled: nothing deleted');
  await del.click();
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('status').filter({ hasText: '2 done, 0 failed.' }).waitFor();
  const left = (await app.quarantine.search({ limit: 100 })).map((r) => r.subject);
  t.is(left.length, 58);
  t.false(left.includes('Offer 3') || left.includes('Offer 55'));
  await page.screenshot({ path: await screenshotPath('editors-desktop-quarantine'), fullPage: true });

  // Message log: 50, then the rest.
  await page.goto(`${url}#/messages`);
  await page.getByRole('link', { name: 'Logged 49', exact: true }).waitFor();
  t.is(await page.getByRole('link', { name: /^Logged / }).count(), 50);
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.getByRole('link', { name: 'Logged 59', exact: true }).waitFor();
  t.is(await page.getByRole('link', { name: /^Logged / }).count(), 60);
  await page.getByRole('row', { name: /Logged 1\b/ }).getByText('22 Nov 2026, 23:39 GMT-5').waitFor();
  await page.screenshot({ path: await screenshotPath('editors-desktop-messages'), fullPage: true });

  // Users: a mailbox user through the form; the server's refusal shows next to its field.
  await page.goto(`${url}#/users`);
  await page.getByLabel(/User name \(mailbox users/).fill('erin@customer.example');
  await page.locator('input[name=new-password]').fill('short');
  await page.locator('input[name=new-password-again]').fill('shorter');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByText('The passwords differ.').waitFor();
  await page.locator('input[name=new-password-again]').fill('short');
  await page.getByRole('button', { name: 'Add' }).click();
  const pwField = page.locator('input[name=new-password]');
  await page.locator('input[name=new-password][aria-invalid=true]').waitFor();
  t.truthy(await page.locator('label').filter({ has: pwField }).getByRole('alert').textContent(), 'the server refused the short password, next to the field');
  await pwField.fill('mailbox password 1');
  await page.locator('input[name=new-password-again]').fill('mailbox password 1');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('status').filter({ hasText: 'User erin@customer.example added.' }).waitFor();
  const erinRow = page.getByRole('row', { name: /erin@customer\.example/ });
  await erinRow.getByText('Mailbox user').waitFor();

  // Reset her password in the dialog: refused (too short) next to the field, Escape cancels, then done.
  await erinRow.getByRole('button', { name: 'Reset password' }).click();
  // The form is slotted into the dialog, so it is found through the dialog's host element.
  const resetDialog = page.getByRole('dialog', { name: 'New password for erin@customer.example' });
  const reset = page.locator('mm-dialog').filter({ has: resetDialog });
  await resetDialog.waitFor();
  t.regex(await focused(page), /^input:/, 'focus is in the first field');
  await page.keyboard.type('tiny');
  await reset.locator('input[name=reset-again]').fill('tiny');
  await reset.getByRole('button', { name: 'Reset password' }).click();
  await reset.getByRole('alert').waitFor();
  t.is(await reset.locator('input[name=reset-password]').getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: await screenshotPath('editors-desktop-users-reset') });
  await page.keyboard.press('Escape');
  await resetDialog.waitFor({ state: 'hidden' });
  t.is(await focused(page), 'button:Reset password');
  await erinRow.getByRole('button', { name: 'Reset password' }).click();
  await reset.locator('input[name=reset-password]').fill('a brand new password');
  await reset.locator('input[name=reset-again]').fill('a brand new password');
  await reset.getByRole('button', { name: 'Reset password' }).click();
  await page.getByRole('status').filter({ hasText: 'The password of erin@customer.example was changed.' }).waitFor();
  await page.screenshot({ path: await screenshotPath('editors-desktop-users'), fullPage: true });

  // Disabling asks first; cancelling leaves her enabled.
  await erinRow.getByRole('button', { name: 'Disable' }).click();
  await page.getByRole('dialog', { name: 'Disable a user' }).getByRole('button', { name: 'Cancel' }).click();
  t.false((await app.console!.context.users.byName('erin@customer.example'))!.disabled);

  // Domains: the delete dialog cancels with Escape.
  await page.goto(`${url}#/domains`);
  await page.getByRole('button', { name: 'tokyo.example' }).click();
  await page.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete a domain' }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  t.is(app.config.current.domains.length, 2);

  // Erin logs in with the new password, in Japanese: only her mail, in New York time, and her
  // delete dialog in Japanese.
  for (const size of ['desktop', 'phone'] as const) {
    const p = await (await newContext(browser, size)).newPage();
    await logIn(p, url, 'erin@customer.example', 'a brand new password');
    await p.locator('header select').selectOption('ja');
    await p.goto(`${url}#/quarantine`);
    await p.getByText('28 件表示').waitFor();
    await p.getByRole('row', { name: /Offer 1\b/ }).getByText('2026/11/22 23:39 GMT-5').waitFor();
    t.is(await p.getByText(/GMT\+9|JST/).count(), 0, 'nothing in Tokyo time');
    await p.getByText('日付は America/New_York の日として検索します。').waitFor();
    await p.getByRole('checkbox', { name: 'Offer 1', exact: true }).check();
    await p.getByRole('button', { name: '削除', exact: true }).first().click();
    await p.getByRole('dialog', { name: '隔離メールの削除' }).waitFor();
    await p.screenshot({ path: await screenshotPath(`editors-${size}-mailbox-quarantine-dialog`) });
    await p.getByRole('button', { name: 'キャンセル' }).click();
    await p.close();
  }

  // The changed pages at phone width, as the admin.
  const phone = await (await newContext(browser, 'phone')).newPage();
  await logIn(phone, url, 'admin', ADMIN_PASSWORD);
  for (const id of ['filtering', 'quarantine', 'messages', 'users', 'account']) {
    await phone.goto(`${url}#/${id}`);
    await phone.locator('main h1').first().waitFor();
    await phone.waitForLoadState('networkidle');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    t.true(overflow <= 1, `${id} fits the phone's width (overflow ${overflow}px)`);
    await phone.screenshot({ path: await screenshotPath(`editors-phone-${id}`), fullPage: true });
  }
  await phone.goto(`${url}#/users`);
  await phone.getByRole('row', { name: /erin@customer\.example/ }).getByRole('button', { name: 'Reset password' }).click();
  await phone.getByRole('dialog', { name: 'New password for erin@customer.example' }).waitFor();
  await phone.screenshot({ path: await screenshotPath('editors-phone-users-reset') });
});
