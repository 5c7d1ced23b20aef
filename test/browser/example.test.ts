/**
 * A real browser (Debian's chromium, driven by playwright-core) through the example: open the app,
 * sign in as alice on the dev OP's pages, see her name on the profile page, call the orders API
 * (which calls inventory on her behalf), sign out at the app and the OP; once with the Express
 * web app and orders API, once with the Hono web app and the Fastify orders API (what
 * `npm start -- --app=hono --orders=fastify` runs). Screenshots go to test-output/browser/. `.ci/run` installs chromium; without it this test fails and says so.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_OUTPUT, launchChromium } from '../helpers/chromium.js';
import { startStack, type Stack, type StackOptions } from '../../examples/stack.js';

const variants: Array<{ name: string; options: StackOptions; shots: string }> = [
  { name: 'Express web app, Express orders API', options: {}, shots: '' },
  { name: 'Hono web app, Fastify orders API', options: { appFramework: 'hono', ordersFramework: 'fastify' }, shots: 'hono-' },
];

for (const variant of variants) describe(`the example app in a real browser: ${variant.name}`, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  const shot = (name: string): string => `${BROWSER_OUTPUT}${variant.shots}${name}.png`;

  before(async () => {
    stack = await startStack({ ports: { app: 0, op: 0, orders: 0, inventory: 0 }, ...variant.options });
    ({ browser, page } = await launchChromium());
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('signs alice in, shows her profile, calls the API chain, and signs her out', async () => {
    await page.goto(`${stack.appUrl}/`);
    assert.match(await page.textContent('body') ?? '', /not signed in/);
    await page.click('#sign-in');

    await page.waitForSelector('form#login');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'password');
    await page.click('form#login button[type=submit]');
    await page.waitForSelector('form#consent');
    await page.click('button[value=allow]');

    await page.waitForURL(`${stack.appUrl}/profile`);
    assert.equal(await page.textContent('#user-name'), stack.op.users.alice.name);
    assert.match(await page.textContent('#claims') ?? '', new RegExp(stack.op.users.alice.oid));
    await page.screenshot({ path: shot('profile'), fullPage: true });

    await page.click('#call-api');
    await page.waitForSelector('#api-result');
    const result = JSON.parse(await page.textContent('#api-result') ?? '{}') as { user?: string; inventory?: { onBehalfOf?: string; calledBy?: string } };
    assert.equal(result.user, stack.op.users.alice.oid);
    assert.equal(result.inventory?.onBehalfOf, stack.op.users.alice.oid);
    assert.equal(result.inventory?.calledBy, stack.op.clients.orders.clientId);
    await page.screenshot({ path: shot('api-result'), fullPage: true });

    const cookies = await page.context().cookies(stack.appUrl);
    const sessionCookie = cookies.find((c) => c.name === 'authflow.sid');
    assert.ok(sessionCookie?.httpOnly, 'the session cookie is httpOnly');
    assert.equal(sessionCookie?.sameSite, 'Lax');

    await page.goto(`${stack.appUrl}/profile`);
    await page.click('#sign-out');
    // RP-initiated logout at the OP asks for confirmation, then comes back to the app.
    await page.waitForSelector('button[value=yes]');
    await page.click('button[value=yes]');
    await page.waitForURL(`${stack.appUrl}/`);
    assert.match(await page.textContent('body') ?? '', /not signed in/);
    await page.screenshot({ path: shot('signed-out'), fullPage: true });
  });
});
