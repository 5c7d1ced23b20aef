/**
 * A real browser through the multi-tenant example (issue 16): alice of contoso, a guest in
 * fabrikam, signs in through the dev OP's /organizations ("Sign in as a fabrikam guest":
 * domain_hint), sees her fabrikam identity, and calls the orders API (v2 token), which calls
 * inventory (v2) and reports (v1 token) On-Behalf-Of her at fabrikam's token endpoint; then she
 * is revoked (Continuous Access Evaluation), the orders API challenges her token, and she signs
 * in again through the claims challenge, in fabrikam, and the call works (issue 16's round trip).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_OUTPUT, launchChromium } from '../helpers/chromium.js';
import { startStack, type Stack } from '../../examples/stack.js';

describe('the multi-tenant example in a real browser: a fabrikam guest', () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  before(async () => {
    stack = await startStack({ ports: { app: 0, op: 0, orders: 0, inventory: 0, reports: 0 }, multiTenant: true });
    ({ browser, page } = await launchChromium());
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('signs the guest in through /organizations, calls orders (v2), inventory (v2) and reports (v1) through OBO in fabrikam, and after a CAE revocation signs in again through the claims challenge', async () => {
    const { op } = stack;
    const fabrikam = op.tenants.fabrikam.id;
    const guestOid = op.guests.aliceInFabrikam.oid;
    await page.goto(`${stack.appUrl}/`);
    await page.click('#sign-in-guest');
    await page.waitForSelector('form#login');
    assert.ok(page.url().startsWith(`${op.url}/${fabrikam}/v2.0/`), `the /organizations request went to fabrikam: ${page.url()}`);
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'password');
    await page.click('form#login button[type=submit]');
    await page.waitForSelector('form#consent');
    await page.click('button[value=allow]');

    await page.waitForURL(`${stack.appUrl}/profile`);
    const claims = await page.textContent('#claims') ?? '';
    assert.match(claims, new RegExp(guestOid));
    assert.match(claims, new RegExp(`https://sts.windows.net/${op.tenants.contoso.id}/`)); // idp: her home tenant
    await page.screenshot({ path: `${BROWSER_OUTPUT}guest-profile.png`, fullPage: true });

    op.resetStats();
    await page.click('#call-api');
    await page.waitForSelector('#api-result');
    const result = JSON.parse(await page.textContent('#api-result') ?? '{}') as {
      user?: string; tenant?: string;
      inventory?: { onBehalfOf?: string };
      reports?: { tokenVersion?: string; tenant?: string; onBehalfOf?: string; calledBy?: string };
    };
    assert.equal(result.user, guestOid);
    assert.equal(result.tenant, fabrikam);
    assert.equal(result.inventory?.onBehalfOf, guestOid);
    assert.equal(result.reports?.tokenVersion, '1.0');
    assert.equal(result.reports?.tenant, fabrikam);
    assert.equal(result.reports?.onBehalfOf, guestOid);
    assert.equal(result.reports?.calledBy, op.clients.orders.clientId);
    // every token request of the chain (two OBO exchanges, and the OBO refresh token tried for the
    // second API first, as MSAL does) at fabrikam's token endpoint, none at /organizations
    assert.deepEqual(Object.keys(op.stats().tokenByAuthority), [fabrikam]);
    assert.equal(op.stats().token['urn:ietf:params:oauth:grant-type:jwt-bearer'], 2);
    await page.screenshot({ path: `${BROWSER_OUTPUT}guest-api-result.png`, fullPage: true });

    // CAE: the person is revoked (her guest identity too); the orders API answers her next token
    // with Entra's claims challenge, and the sign-in that follows carries the claims, in fabrikam.
    const validFrom = await op.revoke('alice');
    const authorizeUrls: string[] = [];
    const onRequest = (r: { url(): string }): void => { if (r.url().includes('/oauth2/v2.0/authorize')) authorizeUrls.push(r.url()); };
    page.on('request', onRequest);
    await page.goto(`${stack.appUrl}/profile`);
    await page.click('#call-api');
    await page.waitForSelector('form#login');
    page.off('request', onRequest);
    const challenged = new URL(authorizeUrls.at(-1)!);
    assert.ok(challenged.pathname.startsWith(`/${fabrikam}/v2.0/`), `the new sign-in is in fabrikam, the tenant of the session: ${challenged.pathname}`);
    const asked = JSON.parse(challenged.searchParams.get('claims')!) as { access_token: { nbf: { value: string } } };
    assert.equal(asked.access_token.nbf.value, String(validFrom));
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'password');
    await page.click('form#login button[type=submit]');
    await page.waitForURL(`${stack.appUrl}/call-api`);
    await page.waitForSelector('#api-result');
    const after = JSON.parse(await page.textContent('#api-result') ?? '{}') as { user?: string; tenant?: string; reports?: { tokenVersion?: string } };
    assert.equal(after.user, guestOid, 'still her fabrikam identity');
    assert.equal(after.tenant, fabrikam);
    assert.equal(after.reports?.tokenVersion, '1.0');
    await page.screenshot({ path: `${BROWSER_OUTPUT}guest-cae-after.png`, fullPage: true });

    // Sign-out through /organizations ends her fabrikam session at the OP and comes back.
    await page.goto(`${stack.appUrl}/profile`);
    await page.click('#sign-out');
    await page.waitForSelector('button[value=yes]');
    assert.ok(page.url().startsWith(`${op.url}/${fabrikam}/v2.0/`) || page.url().startsWith(`${op.url}/organizations/v2.0/`), page.url());
    await page.click('button[value=yes]');
    await page.waitForURL(`${stack.appUrl}/`);
    assert.match(await page.textContent('body') ?? '', /not signed in/);
    // her fabrikam session at the OP is gone: signing in again asks for her password
    await page.click('#sign-in-guest');
    await page.waitForSelector('form#login');
  });
});
