/**
 * The web layer on multi-tenant Entra (dev OP, Express over real HTTP): sign-in through
 * /organizations with allowedTenants (a refused tenant gets a clear 403 page), a guest signs in
 * to fabrikam with `/login?domain_hint=`, and `req.getToken` keeps her in the tenant she signed
 * in to, also when it must refresh. requireBearer with the /organizations client accepts both
 * tenants' tokens and refuses a tenant it does not allow.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { decodeJwt } from 'jose';
import { ConfidentialClient } from '../../src/index.js';
import { auth, authErrors, authSession, requireAuth, requireBearer } from '../../src/express/index.js';
import { startDevOp, type DevOp } from '../helpers/op.js';
import { Browser } from '../helpers/browser.js';

const ORDERS = ['api://orders/Orders.Read'];

describe('web layer on multi-tenant Entra', () => {
  let op: DevOp;
  /** One app server per test app (its redirect URI is registered when the OP starts). */
  const servers = new Map<string, { server: Server; url: string }>();

  /** An app at /<name>/ on the shared server: the web app client on /organizations with these tenants. */
  function mount(name: string, allowedTenants: string[]): string {
    const { server, url: baseUrl } = servers.get(name)!;
    const client = new ConfidentialClient({
      clientId: op.clients.webApp.clientId, credential: { secret: op.clients.webApp.clientSecret! }, authority: op.authority('organizations'),
      authorityType: 'entra', allowInsecureRequests: true, allowedTenants,
    });
    const app = express();
    app.use(authSession({ baseUrl }));
    app.use(auth({ client, baseUrl, scopes: ORDERS }));
    app.get('/whoami', requireAuth(), (req, res, next) => {
      req.getToken(ORDERS, { forceRefresh: req.query['refresh'] === '1' })
        .then((token) => res.json({ account: req.account, tokenTid: decodeJwt(token)['tid'], tokenOid: decodeJwt(token)['oid'] }), next);
    });
    app.use(authErrors());
    server.on('request', app);
    return baseUrl;
  }

  before(async () => {
    for (const name of ['contoso', 'both', 'guest']) {
      const server = createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.set(name, { server, url: `http://localhost:${(server.address() as AddressInfo).port}` });
    }
    op = await startDevOp({ webApp: { redirectUris: [...servers.values()].map((s) => `${s.url}/callback`) } });
  });
  after(async () => {
    await op.close();
    for (const { server } of servers.values()) await new Promise<void>((r) => server.close(() => r()));
  });

  async function signIn(appUrl: string, username: string, login = '/login?returnTo=%2Fwhoami'): Promise<{ browser: Browser; page: Awaited<ReturnType<Browser['get']>> }> {
    const browser = new Browser(appUrl);
    const toOp = await browser.get(`${appUrl}${login}`);
    assert.ok(toOp.location?.startsWith(op.url), `redirected to the OP: ${toOp.status}`);
    const page = await browser.get(await op.signIn(toOp.location!, { username }));
    return { browser, page };
  }

  test('only contoso allowed: alice signs in; frank of fabrikam gets a 403 page naming his organization, and no session', async () => {
    const app = mount('contoso', [op.tenants.contoso.id]);
    const alice = await signIn(app, 'alice');
    assert.equal(alice.page.status, 200, alice.page.body);
    assert.equal((JSON.parse(alice.page.body) as { tokenTid: string }).tokenTid, op.tenants.contoso.id);
    const frank = await signIn(app, 'frank');
    assert.equal(frank.page.status, 403);
    assert.match(frank.page.body, /tenant_not_allowed/);
    assert.match(frank.page.body, new RegExp(`organization \\(tenant ${op.tenants.fabrikam.id}\\) cannot sign in to this app`));
    assert.doesNotMatch(frank.page.body, /eyJ/); // no token on the page
    const after = await frank.browser.get(`${app}/whoami`);
    assert.equal(after.status, 302, 'not signed in');
  });

  test('both allowed: frank signs in to fabrikam', async () => {
    const app = mount('both', [op.tenants.contoso.id, op.tenants.fabrikam.id]);
    const frank = await signIn(app, 'frank');
    assert.equal(frank.page.status, 200, frank.page.body);
    const body = JSON.parse(frank.page.body) as { tokenTid: string; account: { tenantId: string } };
    assert.equal(body.tokenTid, op.tenants.fabrikam.id);
    assert.equal(body.account.tenantId, op.tenants.fabrikam.id);
  });

  test('the guest through /login?domain_hint=fabrikam: her session and every getToken (also a refresh) are fabrikam\'s', async () => {
    const app = mount('guest', [op.tenants.contoso.id, op.tenants.fabrikam.id]);
    const guest = await signIn(app, 'alice', '/login?returnTo=%2Fwhoami&domain_hint=fabrikam.onmicrosoft.com');
    assert.equal(guest.page.status, 200, guest.page.body);
    const first = JSON.parse(guest.page.body) as { tokenTid: string; tokenOid: string; account: { homeAccountId: string; tenantId: string } };
    assert.equal(first.tokenTid, op.tenants.fabrikam.id);
    assert.equal(first.account.tenantId, op.tenants.fabrikam.id);
    assert.equal(first.account.homeAccountId, `${op.users.alice.oid}.${op.tenants.contoso.id}`);
    const refreshed = JSON.parse((await guest.browser.get(`${app}/whoami?refresh=1`)).body) as { tokenTid: string; tokenOid: string };
    assert.equal(refreshed.tokenTid, op.tenants.fabrikam.id);
    assert.equal(refreshed.tokenOid, op.guests.aliceInFabrikam.oid);
    // /login?tenant=<id>: at the tenant's own authority (Entra's way for a guest); a tenant not allowed: 403
    const viaTenant = await signIn(app, 'alice', `/login?returnTo=%2Fwhoami&tenant=${op.tenants.fabrikam.id}`);
    assert.equal((JSON.parse(viaTenant.page.body) as { tokenOid: string }).tokenOid, op.guests.aliceInFabrikam.oid);
    const notAllowed = await new Browser(app).get(`${app}/login?tenant=00000000-0000-4000-8000-000000000001`);
    assert.equal(notAllowed.status, 403);
    assert.match(notAllowed.body, /tenant_not_allowed/);
    const notATenant = await new Browser(app).get(`${app}/login?tenant=fabrikam`);
    assert.equal(notATenant.status, 400);
    // a hint that is not a domain is not passed on
    const odd = await new Browser(app).get(`${app}/login?domain_hint=${encodeURIComponent('x" onload=1')}`);
    assert.equal(new URL(odd.location!).searchParams.get('domain_hint'), null);
  });

  test('requireBearer with the /organizations client: v2 tokens of allowed tenants pass, another tenant gets 401 invalid_token', async () => {
    const orders = (allowedTenants: string[]) => new ConfidentialClient({
      clientId: op.clients.orders.clientId, credential: { secret: op.clients.orders.clientSecret! }, authority: op.authority('organizations'),
      authorityType: 'entra', allowInsecureRequests: true, allowedTenants,
    });
    const api = (allowedTenants: string[]) => {
      const a = express();
      a.get('/orders', requireBearer({ client: orders(allowedTenants), audience: 'api://orders', scopes: ['Orders.Read'] }), (req, res) => res.json({ tid: req.auth?.tid }));
      a.use(authErrors());
      return a;
    };
    const web = new ConfidentialClient({
      clientId: op.clients.webApp.clientId, credential: { secret: op.clients.webApp.clientSecret! }, authority: op.authority('organizations'),
      authorityType: 'entra', allowInsecureRequests: true, allowedTenants: [op.tenants.contoso.id, op.tenants.fabrikam.id],
    });
    const tokenOf = async (username: string) => {
      const flow = await web.initiateAuthCodeFlow({ scopes: ORDERS, redirectUri: `${servers.get('both')!.url}/callback` });
      return (await web.acquireTokenByAuthCodeFlow(flow, new URL(await op.signIn(flow.authUri, { username })).searchParams)).accessToken;
    };
    const [alice, frank] = [await tokenOf('alice'), await tokenOf('frank')];
    const { default: request } = await import('supertest');
    const both = api([op.tenants.contoso.id, op.tenants.fabrikam.id]);
    assert.equal((await request(both).get('/orders').set('authorization', `Bearer ${alice}`)).body.tid, op.tenants.contoso.id);
    assert.equal((await request(both).get('/orders').set('authorization', `Bearer ${frank}`)).body.tid, op.tenants.fabrikam.id);
    const refused = await request(api([op.tenants.contoso.id])).get('/orders').set('authorization', `Bearer ${frank}`);
    assert.equal(refused.status, 401);
    assert.match(refused.headers['www-authenticate'] ?? '', /error="invalid_token"/);
  });
});
