/**
 * In a real browser (chromium, as the example test): a page asking for a scope the OP never grants
 * (Microsoft Graph, unknown to the dev OP, which drops it at sign-in and refuses it at refresh with
 * AADSTS65001) sends the browser to sign in once, then ends on a readable error page naming the
 * scope and the OP's reason; before the fix it looped until ERR_TOO_MANY_REDIRECTS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_OUTPUT, launchChromium } from '../helpers/chromium.js';
import { buildExpressApp } from '../helpers/expressApp.js';
import { startDevOp, type DevOp } from '../helpers/op.js';


describe('no redirect loop in a real browser', () => {
  let op: DevOp;
  let server: Server;
  let appUrl: string;
  let browser: Browser;
  let page: Page;

  before(async () => {
    let handler: RequestListener = (_req, res) => res.end();
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    appUrl = `http://localhost:${(server.address() as AddressInfo).port}`;
    op = await startDevOp({ webApp: { redirectUris: [`${appUrl}/callback`], postLogoutRedirectUris: [`${appUrl}/`] } });
    handler = buildExpressApp(op, { baseUrl: appUrl }).app as unknown as RequestListener;
    ({ browser, page } = await launchChromium());
  });
  after(async () => {
    await browser?.close();
    await op?.close();
    server?.close();
  });

  it('a page needing https://graph.microsoft.com/User.Read ends on a readable page after one sign-in round trip', async () => {
    const logins: string[] = [];
    page.on('request', (r) => {
      if (r.isNavigationRequest() && new URL(r.url()).pathname === '/login') logins.push(r.url());
    });
    await page.goto(`${appUrl}/graph`);
    // Alice signs in (not signed in yet: the first trip to /login is requireAuth's).
    await page.waitForSelector('form#login');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'password');
    await page.click('form#login button[type=submit]');
    await page.waitForSelector('form#consent');
    await page.click('button[value=allow]');
    // Then the token request for Graph needs consent: one more trip to the OP, which may ask again.
    const consentAgain = await Promise.race([
      page.waitForSelector('form#consent').then(() => true),
      page.waitForSelector('h1').then(async () => (await page.textContent('h1')) !== 'Sign-in problem'),
    ]);
    if (consentAgain) await page.click('button[value=allow]');
    await page.waitForSelector('#error-description');
    await page.screenshot({ path: `${BROWSER_OUTPUT}redirect-loop.png`, fullPage: true });

    assert.equal(new URL(page.url()).pathname, '/graph');
    const text = await page.textContent('body') ?? '';
    assert.match(text, /https:\/\/graph\.microsoft\.com\/User\.Read/);
    assert.match(text, /AADSTS65001/);
    assert.equal(logins.length, 2, `trips to /login: ${logins.join(', ')}`);
  });
});
