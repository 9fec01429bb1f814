// The console as a Japanese admin reads it, and on a phone. Against the real appliance with mail
// in it (a quarantined message with its reasons, a delivered one, 55 more held, audit entries):
// - every page in Japanese shows no English outside the allow list (below), at 1280×800 and 390×844;
// - at 390 px no page is wider than the screen, and address cells are not squeezed to a letter a line;
// - bulk actions ask first, saying how many and what, and "every message matching the search"
//   reaches the messages beyond the loaded page;
// - the same pages in English at both sizes. Screenshots go to test-artifacts/screenshots.
//
// The allow list, and why each part may stay in Latin letters: addresses, host names, IPs, time
// zone names and anything with digits (ids, sizes, dates) are data, not words; the class names
// (Spam, Phish, …) and the protocol names (SPF, DKIM, DMARC, TLS…) are kept in English by the
// manual; the product's name; a language's own name ("English" on the language switch); the test's
// own user names; and text the console marks as literal data (class "mono": mail headers, message
// ids, a remote server's reply, service and virus names).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type { Page } from 'playwright-core';
import { ensureWebBuilt, launchBrowser, logIn, newContext, screenshotPath } from '../helpers/browser.ts';
import { ADMIN, DORA, addConsolePeople } from '../helpers/console-people.ts';
import { startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

test.before(async () => {
  await ensureWebBuilt();
});

const CLASS_NAMES = ['Not Spam', 'Whitelisted', 'Blacklisted', 'Spam', 'Phish', 'Virus', 'Unsure', 'Unknown', 'Error', 'Locked', 'Greylist', 'False-positive', 'False-negative'];
const KEPT_WORDS = new Set(['Mailmoat', 'English', 'SPF', 'DKIM', 'DMARC', 'ARC', 'TLS', 'SMTP', 'DNS', 'MX', 'CSV', 'IP', 'HELO', 'NTP', 'SNMP', 'DHCP', 'URL', 'API', 'MIME',
  'ClamAV', 'clamd', 'UTC', 'ID', 'admin', 'dora', 'kB', 'MB', 'GB', 'TB']);

/** The Latin-only words of a visible text that the allow list does not cover. */
function latinLeaks(text: string): string[] {
  if (/[\u3040-\u30ff\u4e00-\u9fff\uff00-\uffef]/.test(text)) return [];
  let rest = text;
  for (const c of CLASS_NAMES) rest = rest.replaceAll(c, ' ');
  return rest.split(/[\s,;:·()[\]{}<>"'“”|/→—–…!?*=+]+/).filter((w) => /[A-Za-z]{2,}/.test(w) && !(
    /^[^@\s]+@[^@\s]+$/.test(w) // an address
    || /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?$/.test(w) // a host or domain name, a file name
    || /\d/.test(w) // ids, sizes, dates, versions
    || /^[A-Z]{2,5}$/.test(w) && new RegExp(`\\d:\\d\\d ${w}\\b`).test(text) // a time zone's abbreviation after a time (23:28 JST)
    || /^[A-Z][a-z]+(_[A-Z][a-z]+)*$/.test(w) && /\b[A-Z][a-z]+\/[A-Z][A-Za-z_]+\b/.test(text) // a time zone name (Asia/Tokyo)
    || KEPT_WORDS.has(w.replace(/\.$/, ''))));
}

/** Every visible text of the page, through the components' shadow roots, minus literal data (class "mono"). */
async function visibleTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    // checkVisibility also hides what a closed <details> holds (content-visibility: hidden).
    const visible = (el: Element) => el.checkVisibility({ visibilityProperty: true });
    const walk = (root: Node) => {
      const tw = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
      for (let n: Node | null = tw.currentNode; n; n = tw.nextNode()) {
        if (n instanceof Element && n.shadowRoot) walk(n.shadowRoot);
        if (n instanceof HTMLSelectElement && visible(n) && !n.closest('.mono')) out.push(n.selectedOptions[0]?.textContent?.trim() ?? '');
        if (n.nodeType !== Node.TEXT_NODE) continue;
        const el = n.parentElement;
        const text = n.textContent?.trim() ?? '';
        if (!text || !el || el.closest('script, style, option, .mono') || !visible(el)) continue;
        out.push(text);
      }
    };
    walk(document.body);
    return out.filter(Boolean);
  });
}

/**
 * At phone width: the page is no wider than the screen, no address cell is narrower than a short
 * address, and no button of the header (menu, log out) breaks its label over two lines.
 */
async function phoneLayout(page: Page): Promise<{ overflow: number; narrowAddresses: string[]; squeezedCells: string[]; wrappedButtons: string[] }> {
  return page.evaluate(() => {
    const cells: Element[] = [];
    const tableCells: Element[] = [];
    const walk = (root: Document | ShadowRoot) => {
      cells.push(...Array.from(root.querySelectorAll('.address')));
      tableCells.push(...Array.from(root.querySelectorAll('td, th')));
      for (const el of Array.from(root.querySelectorAll('*'))) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    const lineHeight = (c: Element) => parseFloat(getComputedStyle(c).fontSize) * 1.6;
    const narrow = cells.filter((c) => c.getClientRects().length > 0).map((c) => {
      const r = c.getBoundingClientRect();
      // A letter a line makes a cell a few letters wide and many lines tall.
      return r.width < 120 || r.height > 4 * lineHeight(c) ? `${c.textContent} (${Math.round(r.width)}×${Math.round(r.height)} px)` : '';
    }).filter(Boolean);
    // Any table cell squeezed into a narrow column: its text takes more lines than it has words
    // (a word broken across lines, such as a state in Japanese a character a line; a hyphen is a
    // break a reader expects, as in Message-/ID).
    const squeezed = tableCells.filter((c) => c.getClientRects().length > 0 && (c.textContent ?? '').trim()).map((c) => {
      const text = (c.textContent ?? '').trim().replace(/\s+/g, ' ');
      const range = document.createRange();
      range.selectNodeContents(c);
      const lines = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
      const width = c.getBoundingClientRect().width;
      return width < 100 && lines > text.split(/[ -]+/).length ? `${text} (${Math.round(width)} px, ${lines} lines)` : '';
    }).filter(Boolean);
    // A label on one line has all its text boxes at one height.
    const header = document.querySelector('mm-app')?.shadowRoot?.querySelectorAll('header button') ?? [];
    const wrapped = Array.from(header).filter((b) => {
      const range = document.createRange();
      range.selectNodeContents(b);
      return new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top))).size > 1;
    }).map((b) => b.textContent?.trim() ?? '');
    return { overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth, narrowAddresses: narrow, squeezedCells: squeezed, wrappedButtons: wrapped };
  });
}

const PAGES = ['dashboard', 'domains', 'filtering', 'policy', 'lists', 'quarantine', 'training', 'messages', 'statistics', 'reports', 'queue', 'audit', 'users', 'system', 'update', 'account'];

test('every page in Japanese without stray English, usable at 390 px; bulk actions ask and reach every match', async (t) => {
  const sink = await startSink();
  t.teardown(() => sink.stop());
  const route = [{ host: '127.0.0.1', port: sink.port, tls: 'none' }];
  const ta = await startTestAppliance({
    domains: [{ name: 'customer.example', routes: route }, { name: 'other.example', routes: route }],
    filtering: { antivirus: { enabled: false }, quarantineResponse: 'accept' },
    time: { timezone: 'Asia/Tokyo' },
  }, { console: true });
  t.teardown(() => ta.cleanup());
  const { app } = ta;
  const url = app.consoleUrl!;
  const ctx = app.console!.context;
  await addConsolePeople(ctx, { adminLanguage: 'ja', dora: ['customer.example'] });

  // Mail: one held by a list entry (through SMTP, so it has its score's reasons), one delivered,
  // and 55 more held ones, enough for a second page of the quarantine.
  await app.lists.add({ direction: 'inbound', kind: 'condition-quarantine', scope: 'domain', owner: 'customer.example', field: 'subject', value: '[hold-me]', mode: 'partial' });
  const mail = (subject: string, id: string) => ['From: 経理 <billing@vendor.test>', 'To: carol.longname-for-wrapping@customer.example', `Subject: =?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`,
    `Message-ID: <${id}@vendor.test>`, 'Date: Mon, 23 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', '請求書を添付します。', ''].join('\r\n');
  for (const [subject, id] of [['請求書 [hold-me] 11月分', 'held-1'], ['打ち合わせの議事録', 'ok-1']]) {
    const sent = await sendMail({ port: ta.inbound, from: 'billing@vendor.test', to: ['carol.longname-for-wrapping@customer.example'], raw: mail(subject, id) });
    t.is(sent.code, 250, sent.response);
  }
  await sink.waitFor(1);
  const spool = path.join(ta.dataDir, 'e2e-held');
  await mkdir(spool, { recursive: true });
  for (let i = 0; i < 55; i++) {
    const file = path.join(spool, `${i}.eml`);
    await writeFile(file, mail(`セール第 ${i} 弾`, `sale-${i}`));
    const copy = { address: 'carol.longname-for-wrapping@customer.example', domain: 'customer.example', mainClass: 'Spam' as const, headerEdits: { prepend: [] }, why: ['spam score 97.31%', 'rule for Spam: quarantine'] };
    await app.quarantine.put({
      queueId: `E${i}`, receivedAt: Date.now() - (i + 1) * 60_000, direction: 'inbound', mailFrom: 'promo@shop.test', fromHeader: 'promo@shop.test', subject: `セール第 ${i} 弾`,
      messageId: `<sale-${i}@shop.test>`, size: 2048 + i, mainClass: 'Spam', score: 97.31234, reasons: [{ name: 'MODEL_PRIOR', contribution: 0.4 }, { name: 'from:no-name', contribution: 1.23456 }],
      clientIp: '192.0.2.1', recipients: [copy],
    }, file);
  }

  const held = await app.quarantine.search({});
  t.deepEqual([held.length, held.filter((r) => r.subject === '請求書 [hold-me] 11月分').length], [56, 1]);

  const browser = await launchBrowser(t);
  for (const size of ['desktop', 'phone'] as const) {
    const page = await (await newContext(browser, size)).newPage();
    await logIn(page, url, ADMIN.username, ADMIN.password);
    const leaks: string[] = [];
    for (const id of PAGES) {
      await page.goto(`${url}#/${id}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      if (id === 'quarantine') {
        await page.getByText('50 件表示').waitFor();
        // The held message open, with its score's reasons and why it was held.
        await page.getByLabel('件名').fill('hold-me');
        await page.getByRole('button', { name: '検索' }).click();
        await page.getByText('1 件表示').waitFor();
        await page.getByRole('link', { name: '請求書 [hold-me] 11月分' }).click();
        await page.getByText('隔離された理由').waitFor();
      }
      if (id === 'messages') {
        await page.getByRole('link', { name: '打ち合わせの議事録' }).click();
        await page.getByRole('heading', { name: '配送の試行' }).waitFor();
      }
      for (const text of await visibleTexts(page)) for (const w of latinLeaks(text)) leaks.push(`${size} ${id}: "${w}" in "${text}"`);
      if (size === 'phone') {
        const layout = await phoneLayout(page);
        t.true(layout.overflow <= 1, `${id} fits 390 px (wider by ${layout.overflow} px)`);
        t.deepEqual(layout.narrowAddresses, [], `${id}: no address squeezed`);
        t.deepEqual(layout.squeezedCells, [], `${id}: no table cell squeezed into a narrow column`);
        t.deepEqual(layout.wrappedButtons, [], `${id}: the header's buttons keep their label on one line`);
      }
      await page.screenshot({ path: await screenshotPath(`ja-${size}-${id}`), fullPage: true });
    }
    t.deepEqual(leaks, [], 'no English outside the allow list');
    await page.close();
  }

  // Bulk actions, in Japanese at desktop width.
  const page = await (await newContext(browser)).newPage();
  await logIn(page, url, ADMIN.username, ADMIN.password);
  await page.goto(`${url}#/quarantine`);
  await page.getByText('50 件表示').waitFor();
  const list = page.locator('mm-quarantine table');
  // Two selected (the newest held: the first page), delete: the dialog says how many and what; Cancel does nothing.
  await list.getByRole('checkbox', { name: 'セール第 54 弾' }).check();
  await list.getByRole('checkbox', { name: 'セール第 53 弾' }).check();
  await page.getByRole('button', { name: '削除', exact: true }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('2 件のメールを削除しますか？元に戻せません。').waitFor();
  await page.screenshot({ path: await screenshotPath('ja-desktop-quarantine-confirm') });
  await dialog.getByRole('button', { name: 'キャンセル' }).click();
  await dialog.waitFor({ state: 'detached' });
  t.is((await app.quarantine.search({})).length, 56);

  // Release and train asks even for one message.
  await page.getByRole('link', { name: 'セール第 52 弾' }).click();
  await page.getByRole('region', { name: 'セール第 52 弾' }).getByRole('button', { name: '解放して非スパムとして学習' }).click();
  await dialog.getByText('1 通に「解放して非スパムとして学習」を実行します。 フィルタはこれらを正常なメールとして学習します。').waitFor();
  await dialog.getByRole('button', { name: 'キャンセル' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: '閉じる' }).click();

  // Every message matching the search: the loaded page is 50, the search matches all 56.
  await list.getByRole('checkbox', { name: 'すべて選択' }).check();
  await page.getByRole('button', { name: '検索に一致するメールをすべて選択' }).click();
  await page.getByText('検索に一致する 56 通すべてを選択しています。').waitFor();
  await page.getByRole('button', { name: '削除', exact: true }).first().click();
  await dialog.getByText('56 件のメールを削除しますか？元に戻せません。').waitFor();
  await page.screenshot({ path: await screenshotPath('ja-desktop-quarantine-confirm-all') });
  await dialog.getByRole('button', { name: '削除' }).click();
  await page.getByRole('status').filter({ hasText: '56 件完了、0 件失敗。' }).waitFor();
  t.deepEqual(await app.quarantine.search({}), []);
  await page.close();

  // The same pages in English, at both sizes (screenshots), for a domain admin.
  for (const size of ['desktop', 'phone'] as const) {
    const p = await (await newContext(browser, size)).newPage();
    await logIn(p, url, DORA.username, DORA.password);
    for (const id of PAGES.filter((x) => x !== 'system')) {
      await p.goto(`${url}#/${id}`);
      await p.locator('main h1').first().waitFor();
      await p.waitForLoadState('networkidle');
      if (size === 'phone') {
        const layout = await phoneLayout(p);
        t.true(layout.overflow <= 1, `${id} (English) fits 390 px`);
        t.deepEqual(layout.squeezedCells, [], `${id} (English): no table cell squeezed into a narrow column`);
        t.deepEqual(layout.wrappedButtons, [], `${id} (English): the header's buttons keep their label on one line`);
      }
      await p.screenshot({ path: await screenshotPath(`en-${size}-dora-${id}`), fullPage: true });
    }
    await p.close();
  }
});

test('the allow list lets data through and catches words', (t) => {
  t.deepEqual(latinLeaks('carol@customer.example → mx.customer.example 192.0.2.1 2026-11-30 12.3 MB'), []);
  t.deepEqual(latinLeaks('Spam · Not Spam · SPF · DMARC · Mailmoat'), []);
  t.deepEqual(latinLeaks('(Asia/Tokyo)'), []);
  t.deepEqual(latinLeaks('2026/11/30 23:28 JST'), []);
  t.deepEqual(latinLeaks('スパムスコア 97.3%'), []);
  t.deepEqual(latinLeaks('delivered'), ['delivered']);
  t.deepEqual(latinLeaks('POST /api/users'), ['POST', 'api', 'users']);
  t.deepEqual(latinLeaks('from:no-name'), ['from', 'no-name']);
  t.deepEqual(latinLeaks('MODEL_PRIOR'), ['MODEL_PRIOR']);
});
