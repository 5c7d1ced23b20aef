/**
 * Finding 1 in a real browser: Chromium (playwright-core) signs in once at the dev OP, then for
 * every `returnTo` form of the table goes `/login?returnTo=<form>` → the OP (already signed in)
 * → `/callback` → wherever the app's redirect leads. The browser's own URL parser is the judge:
 * its final URL must be on the app's origin, and it must never have asked any other host for
 * anything (requests to hosts other than the app and the OP are recorded and aborted; this
 * machine has no network anyway).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { buildExpressApp } from '../helpers/expressApp.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { RETURN_TO_FORMS } from './returnto-table.js';


describe('finding 1: returnTo forms in a real browser', () => {
  let server: Server;
  let op: DevOp;
  let browser: Browser;
  let page: Page;
  let appOrigin: string;
  const foreignRequests: string[] = [];

  before(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    appOrigin = `http://localhost:${(server.address() as AddressInfo).port}`;
    op = await startDevOp({ webApp: { redirectUris: [`${appOrigin}/callback`] } });
    server.on('request', buildExpressApp(op, { baseUrl: appOrigin }).app);
    ({ browser, page } = await launchChromium());
    const allowed = new Set([appOrigin, new URL(op.url).origin]);
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (allowed.has(url.origin)) return route.continue();
      foreignRequests.push(url.href);
      return route.abort('blockedbyclient');
    });
  });
  after(async () => {
    await browser?.close();
    await op?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  /** Opens /login?returnTo=<value>, passes the OP's pages if it shows any, resolves to the final URL. */
  async function signInTo(value: string): Promise<string> {
    await page.goto(`${appOrigin}/login?returnTo=${encodeURIComponent(value)}`).catch(() => undefined);
    for (let step = 0; step < 4 && page.url().startsWith(op.url); step++) {
      if (await page.$('form#login')) {
        await page.fill('input[name=username]', 'alice');
        await page.fill('input[name=password]', 'password');
        await Promise.all([page.waitForNavigation().catch(() => undefined), page.click('form#login button[type=submit]')]);
      } else if (await page.$('form#consent')) {
        await Promise.all([page.waitForNavigation().catch(() => undefined), page.click('button[value=allow]')]);
      } else {
        await page.waitForLoadState('load');
      }
    }
    await page.waitForLoadState('load').catch(() => undefined);
    return page.url();
  }

  it('finding 1: every returnTo form lands on the app\'s origin in Chromium', async () => {
    const first = await signInTo('/profile');
    assert.equal(first, `${appOrigin}/profile`, 'the first sign-in (through the OP\'s pages) lands on the profile');
    const forms = RETURN_TO_FORMS.filter(([, value]) => typeof value === 'string') as Array<readonly [string, string, string]>;
    assert.ok(forms.length >= 40, `${forms.length} forms`);
    const started = Date.now();
    const landings: string[] = [];
    for (const [label, value] of forms) {
      const landed = await signInTo(value);
      landings.push(landed);
      assert.equal(new URL(landed).origin, appOrigin, `${label}: the browser landed on ${landed}`);
    }
    const seconds = (Date.now() - started) / 1000;
    assert.deepEqual(foreignRequests, [], 'the browser never asked another host for anything');
    assert.ok(landings.some((l) => l === `${appOrigin}/orders?page=2#top`), 'a local path is kept (the test can tell kept from refused)');
    assert.ok(seconds < 60, `${forms.length} sign-ins took ${seconds.toFixed(1)} s`);
    console.log(`# finding 1: ${forms.length} returnTo forms signed in through Chromium in ${seconds.toFixed(1)} s`);
  });
});
