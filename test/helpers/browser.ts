// Real browser for the e2e tests: Debian's chromium driven by playwright-core, headless, with a
// fresh profile per launch and nothing reaching beyond loopback. Also builds the web bundle once
// per test process, so the browser tests always run the current web-ui sources.
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
  t.teardown(() => browser.close());
  return browser;
}

export async function newContext(browser: Browser, size: 'desktop' | 'phone' = 'desktop'): Promise<BrowserContext> {
  return browser.newContext({
    ignoreHTTPSErrors: true, // the appliance's self-signed certificate
    viewport: size === 'desktop' ? { width: 1280, height: 800 } : { width: 390, height: 844 },
  });
}

export async function screenshotPath(name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}

/** Logs in through the console's login page and waits until the console is shown. */
export async function logIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('User name or email address').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: /Log out|ログアウト/ }).waitFor();
}
