/**
 * Continuous Access Evaluation in a real browser (Debian's chromium): alice signs in to the
 * example and calls the orders API; the dev OP revokes her (`op.revoke`, a password reset); her
 * next call is refused by the orders API with Entra's claims challenge, the web app sends the
 * browser to sign in again carrying the claims, and the call then succeeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_OUTPUT, launchChromium } from '../helpers/chromium.js';
import { startStack, type Stack } from '../../examples/stack.js';

describe('CAE in a real browser: revoked, challenged, signed in again', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  before(async () => {
    stack = await startStack();
    ({ browser, page } = await launchChromium());
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function signInAtOp(): Promise<void> {
    await page.waitForSelector('form#login');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'password');
    await page.click('form#login button[type=submit]');
    const next = await Promise.race([
      page.waitForSelector('form#consent').then(() => 'consent' as const),
      page.waitForURL((url) => url.href.startsWith(stack.appUrl)).then(() => 'app' as const),
    ]);
    if (next === 'consent') await page.click('button[value=allow]');
  }

  const apiResult = async (): Promise<{ user?: string; inventory?: { onBehalfOf?: string } }> => {
    await page.waitForSelector('#api-result');
    return JSON.parse(await page.textContent('#api-result') ?? '{}') as { user?: string };
  };

  it('the orders call after a revocation goes through a sign-in with the claims and works', async () => {
    await page.goto(`${stack.appUrl}/`);
    await page.click('#sign-in');
    await signInAtOp();
    await page.waitForURL(`${stack.appUrl}/profile`);
    await page.click('#call-api');
    assert.equal((await apiResult()).user, stack.op.users.alice.oid);

    const validFrom = await stack.op.revoke('alice');
    const authorizeUrls: string[] = [];
    page.on('request', (r) => { if (r.url().includes('/oauth2/v2.0/authorize')) authorizeUrls.push(r.url()); });
    await page.goto(`${stack.appUrl}/profile`);
    await page.click('#call-api');
    // Sent to the OP with the claims challenge.
    await page.waitForURL((url) => url.href.startsWith(stack.op.url));
    const claims = JSON.parse(new URL(authorizeUrls.at(-1)!).searchParams.get('claims')!) as { access_token: { nbf: { value: string } } };
    assert.equal(claims.access_token.nbf.value, String(validFrom));
    await page.screenshot({ path: `${BROWSER_OUTPUT}cae-challenge.png`, fullPage: true });
    // Her OP session was revoked too: the login form again, not a silent round trip.
    await signInAtOp();

    await page.waitForURL(`${stack.appUrl}/call-api`);
    const result = await apiResult();
    assert.equal(result.user, stack.op.users.alice.oid);
    assert.equal(result.inventory?.onBehalfOf, stack.op.users.alice.oid);
    await page.screenshot({ path: `${BROWSER_OUTPUT}cae-after.png`, fullPage: true });
  });
});
