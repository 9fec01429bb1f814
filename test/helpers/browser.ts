// Real browser for the e2e tests: Debian's chromium driven by playwright-core, headless, with a
// fresh profile per launch and nothing reaching beyond loopback. Also builds the web bundle once
// per test process, so the browser tests always run the current web-ui sources. Every context
// watches for what a user would see break: a CSP violation, an uncaught script error, a 404 for a
// file of the console; any of them fails the test that launched the browser.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../web-ui/build.ts';

export const SCREENSHOTS = path.resolve(import.meta.dirname, '../../test-artifacts/screenshots');

let built: Promise<void> | undefined;
export function ensureWebBuilt(): Promise<void> {
  built ??= buildWeb();
  return built;
}

export async function launchBrowser(t: ExecutionContext): Promise<Browser> {
  // playwright's launch() gives chromium a fresh temporary profile (--user-data-dir) of its own.
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const problems: string[] = [];
  seen.set(browser, problems);
  t.teardown(() => browser.close());
  // Checked when the test ends, whichever page or context saw it.
  t.teardown(() => {
    if (problems.length) throw new Error(`the console broke in the browser:\n${problems.join('\n')}`);
  });
  return browser;
}

const seen = new WeakMap<Browser, string[]>();

export async function newContext(browser: Browser, size: 'desktop' | 'phone' = 'desktop'): Promise<BrowserContext> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, // the appliance's self-signed certificate
    viewport: size === 'desktop' ? { width: 1280, height: 800 } : { width: 390, height: 844 },
  });
  const problems = seen.get(browser);
  if (problems) {
    // API errors the tests provoke on purpose (401, 409…) log "Failed to load resource": those are
    // not problems; a refused style or script, an exception, or a missing console file are. In a
    // document the API serves (a quarantined message's preview) the CSP blocking things is the point.
    context.on('console', (m) => {
      const where = m.location().url ? new URL(m.location().url).pathname : '';
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()) && !where.startsWith('/api/')) {
        problems.push(`console: ${m.text()} (${m.location().url})`);
      }
    });
    context.on('weberror', (e) => problems.push(`uncaught: ${e.error().message}`));
    context.on('response', (r) => {
      if (r.status() === 404 && !new URL(r.url()).pathname.startsWith('/api/')) problems.push(`404: ${r.url()}`);
    });
  }
  return context;
}

export async function screenshotPath(name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}

/** Logs in through the console's login page (in either language) and waits until the console is shown. */
export async function logIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel(/User name or email address|ユーザー名またはメールアドレス/).fill(username);
  await page.getByLabel(/^(Password|パスワード)$/).fill(password);
  await page.getByRole('button', { name: /^(Log in|ログイン)$/ }).click();
  await page.getByRole('button', { name: /Log out|ログアウト/ }).waitFor();
}
