/**
 * Debian's chromium driven by playwright-core (which downloads no browser of its own), for the
 * tests where a real browser is the judge. The flags keep chromium off the network: this machine
 * reaches only its package registries.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where browser tests leave their screenshots. */
export const BROWSER_OUTPUT = new URL('../../test-output/browser/', import.meta.url).pathname;

/** A headless chromium and one page (15 s default timeout); refuses with the install hint when there is none. */
export async function launchChromium(): Promise<{ browser: Browser; page: Page }> {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(BROWSER_OUTPUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  return { browser, page };
}
